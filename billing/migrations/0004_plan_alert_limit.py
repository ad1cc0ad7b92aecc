from django.db import migrations, models

from billing.plans import DEFAULT_PLANS


def seed_alert_limits(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for plan in DEFAULT_PLANS:
        Plan.objects.filter(slug=plan["slug"]).update(alert_limit=plan["alert_limit"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_plan_on_demand_per_hour")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="alert_limit",
            field=models.PositiveIntegerField(
                default=3, help_text="How many alert rules an account may set."
            ),
        ),
        migrations.RunPython(seed_alert_limits, migrations.RunPython.noop),
    ]
