from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from billing.selectors import plan_get, plan_list
from billing.services import plan_change


class Command(BaseCommand):
    help = "Move an account to a plan, e.g. `set_plan alice@example.com premium`."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("plan", help="plan slug: basic, premium, …")

    def handle(self, *args, email: str, plan: str, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the e-mail address {email!r}.")
        target = plan_get(slug=plan.strip().lower())
        if target is None:
            known = ", ".join(p.slug for p in plan_list())
            raise CommandError(f"No plan {plan!r}; choose one of: {known}.")
        if plan_change(user=user, plan=target):
            self.stdout.write(self.style.SUCCESS(f"{user.email} is now on the {target.name} plan."))
        else:
            self.stdout.write(f"{user.email} is already on the {target.name} plan.")
