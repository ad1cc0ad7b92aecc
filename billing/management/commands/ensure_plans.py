from django.core.management.base import BaseCommand

from billing.services import plans_ensure


class Command(BaseCommand):
    help = "Create the default plans (basic, premium) if any is missing."

    def handle(self, *args, **options):
        plans = plans_ensure()
        self.stdout.write(", ".join(f"{p.slug} ({p.city_limit} cities)" for p in plans))
