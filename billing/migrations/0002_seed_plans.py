from django.db import migrations

from billing.plans import DEFAULT_PLANS


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    fields = {field.name for field in Plan._meta.get_fields()}
    for plan in DEFAULT_PLANS:
        # Only the columns this migration's Plan has (later ones add theirs).
        defaults = {key: value for key, value in plan.items() if key in fields}
        Plan.objects.get_or_create(slug=plan["slug"], defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
