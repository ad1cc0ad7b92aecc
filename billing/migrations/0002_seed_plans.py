from django.db import migrations

from billing.plans import DEFAULT_PLANS


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    # Only the fields this migration's Plan has: later ones are set by their own migrations.
    fields = {field.name for field in Plan._meta.get_fields()}
    for plan in DEFAULT_PLANS:
        defaults = {name: value for name, value in plan.items() if name in fields}
        Plan.objects.get_or_create(slug=plan["slug"], defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
