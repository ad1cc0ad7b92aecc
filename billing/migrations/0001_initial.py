from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="Plan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("slug", models.SlugField(max_length=32, unique=True)),
                ("name", models.CharField(max_length=64)),
                (
                    "city_limit",
                    models.PositiveIntegerField(help_text="How many cities an account may follow."),
                ),
                (
                    "api_rate",
                    models.CharField(
                        default="60/minute",
                        help_text="API requests allowed, e.g. 60/minute or 1000/hour.",
                        max_length=32,
                    ),
                ),
            ],
            options={"ordering": ["city_limit"]},
        ),
    ]
