"""Load the demo data and accounts (idempotent) and print how to use them. Development only."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from zairyu.accounts.demo import DemoLine, accounts_load_demo
from zairyu.api.demo import load_api_demo
from zairyu.bulk.demo import bulk_load_demo
from zairyu.jpki.bridge import bridge_command
from zairyu.organizations.demo import organizations_load_demo
from zairyu.review.demo import review_load_demo


class Command(BaseCommand):
    help = "Load the synthetic demo population, demo accounts and demo cards (never in production)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production (ZAIRYU_ENV=production).")
        call_command("load_demo_registry", verbosity=0)
        lines = accounts_load_demo()
        lines += [DemoLine(label, text) for label, text in organizations_load_demo()]
        lines += [DemoLine(label, text) for label, text in bulk_load_demo()]
        lines += [DemoLine(label, text) for label, text in review_load_demo()]
        lines += [DemoLine(label, text) for label, text in load_api_demo()]
        port = settings.DEMO_PORT
        base = f"http://127.0.0.1:{port}"
        out = [
            "",
            "Zairyu demo is ready (synthetic people only).",
            f"  Site:              {base}/",
            f"  Who can file what: {base}/catalogue/who-can-file/",
            f"  Sign in (card):    {base}/accounts/sign-in/card/",
            f"  Sign in (ID):      {base}/accounts/sign-in/",
            f"  Officers:          {base}/staff/sign-in/",
            f"  Usage application: {base}/organizations/apply/",
            f"  Bulk applications: {base}/applications/bulk/",
            f"  API docs:          {base}/api/v1/docs  (clients: {base}/api/clients/register/)",
            f"  Health:            {base}/healthz",
            f"  E-mails sent:      {getattr(settings, 'EMAIL_FILE_PATH', 'SMTP server')} (and the outbox in the admin)",
            "",
            f"Demo accounts (password for all: {settings.DEMO_PASSWORD}):",
        ]
        out += [f"  {line.label:<24} {line.text}" for line in lines]
        out += [
            "",
            "Second factor: add the TOTP key to an authenticator app, or print the current code with",
            "  .venv/bin/python manage.py demo_totp ID",
            "The card program (JPKI simulation) for a demo card, in another terminal:",
            f"  {bridge_command(base)}",
            "",
        ]
        self.stdout.write("\n".join(out))
