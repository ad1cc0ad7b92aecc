from django.db import migrations, models

from billing.plans import DEFAULT_PLANS


def set_defaults(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for plan in DEFAULT_PLANS:
        Plan.objects.filter(slug=plan["slug"]).update(on_demand_per_hour=plan["on_demand_per_hour"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_seed_plans")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="on_demand_per_hour",
            field=models.PositiveIntegerField(
                default=30,
                help_text="Weather searches and refresh-now calls to the provider an account "
                "may make in any hour (a reading fresh enough is served without one).",
                verbose_name="on-demand reads an hour",
            ),
        ),
        migrations.RunPython(set_defaults, migrations.RunPython.noop),
    ]
