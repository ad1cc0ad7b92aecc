"""The plans every installation has; the data migration and `plans_ensure` both read this."""

DEFAULT_PLANS: list[dict] = [
    {
        "slug": "basic",
        "name": "Basic",
        "city_limit": 3,
        "api_rate": "60/minute",
        "on_demand_per_hour": 30,
    },
    {
        "slug": "premium",
        "name": "Premium",
        "city_limit": 15,
        "api_rate": "600/minute",
        "on_demand_per_hour": 300,
    },
]
