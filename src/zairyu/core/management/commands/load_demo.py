"""Load the demo data and accounts (idempotent) and print how to use them. Development only."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_ADMIN = "admin"


class Command(BaseCommand):
    help = "Load the synthetic demo population and demo accounts (never in production)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production (ZAIRYU_ENV=production).")
        call_command("load_demo_registry", verbosity=options["verbosity"])
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            user, _ = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
        port = settings.DEMO_PORT
        self.stdout.write(
            self.style.SUCCESS("\nZairyu demo is ready.\n")
            + f"  Site:            http://127.0.0.1:{port}/\n"
            + f"  Who can file:    http://127.0.0.1:{port}/catalogue/who-can-file/\n"
            + f"  Health:          http://127.0.0.1:{port}/healthz\n"
            + f"  Staff (admin):   http://127.0.0.1:{port}/admin/   user {DEMO_ADMIN}  password {password}\n"
            + f"  Sent e-mails:    {settings.EMAIL_FILE_PATH if hasattr(settings, 'EMAIL_FILE_PATH') else 'SMTP'}"
            + " (and the outbox in the admin)\n"
        )
