"""Plans, and accounts with their plan: switching accounts to premium is one action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from billing.models import Plan
from billing.services import plan_change


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "city_limit", "alert_limit", "on_demand_per_hour", "api_rate"]
    prepopulated_fields = {"slug": ["name"]}


def _plan_action(plan: Plan):
    def action(modeladmin, request, queryset):
        changed = sum(plan_change(user=user, plan=plan) for user in queryset)
        modeladmin.message_user(
            request, f"{changed} account(s) moved to the {plan.name} plan.", messages.SUCCESS
        )

    action.__name__ = f"switch_to_{plan.slug}"
    return action


@admin.register(get_user_model())
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "plan", "units", "is_staff", "date_joined"]
    list_filter = ["plan", "is_staff", "is_active"]
    list_select_related = ["plan"]
    search_fields = ["email"]
    readonly_fields = ["date_joined", "last_login", "share_token"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Plan and preferences", {"fields": ("plan", "units", "share_token")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_actions(self, request):
        actions = super().get_actions(request)
        for plan in Plan.objects.all():
            action = _plan_action(plan)
            actions[action.__name__] = (
                action,
                action.__name__,
                f"Switch selected accounts to {plan.name}",
            )
        return actions

    def save_model(self, request, obj, form, change):
        # A plan edited in the form goes through the one plan-change service.
        new_plan = obj.plan
        if change and "plan" in form.changed_data:
            obj.plan_id = form.initial["plan"]
            super().save_model(request, obj, form, change)
            plan_change(user=obj, plan=new_plan)
        else:
            super().save_model(request, obj, form, change)
