"""Settings of the processes the resilience tests start: test settings with scaled-down waits."""

from skywatch.settings.test import *  # noqa: F403
from weather_provider.registry import PROVIDERS

# The real Open-Meteo provider pointed at the loopback fake (WEATHER_PROVIDER=fake-open-meteo).
PROVIDERS["fake-open-meteo"] = "tests.resilience.fake_open_meteo.LoopbackOpenMeteo"

# Production's waits, scaled from minutes to seconds: retries, the circuit's cooldown.
WEATHER_RETRY_INITIAL_WAIT = 0.1
WEATHER_RETRY_MAX_WAIT = 2.0
WEATHER_RETRY_JITTER = 0.05
WEATHER_BREAKER_COOLDOWN = 2.0
# Batches lost with a killed worker stop holding the next cycle back after this long.
WEATHER_PENDING_LEASE_SECONDS = 2.0
