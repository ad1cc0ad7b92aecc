from django.contrib import admin

from billing.models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "city_limit", "api_rate"]
    prepopulated_fields = {"slug": ["name"]}
