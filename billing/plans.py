"""The plans every installation has; the data migrations and `plans_ensure` all read this."""

DEFAULT_PLANS: list[dict] = [
    {
        "slug": "basic",
        "name": "Basic",
        "city_limit": 3,
        "alert_limit": 3,
        "api_rate": "60/minute",
        "on_demand_per_hour": 30,
    },
    {
        "slug": "premium",
        "name": "Premium",
        "city_limit": 15,
        "alert_limit": 30,
        "api_rate": "600/minute",
        "on_demand_per_hour": 300,
    },
]
