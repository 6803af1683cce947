"""Print the current authenticator code of a demo account (development only)."""

from __future__ import annotations

import pyotp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zairyu.accounts.models import User
from zairyu.accounts.services import auth_id_normalize
from zairyu.core import clock


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account (refused in production)."

    def add_arguments(self, parser):
        parser.add_argument("auth_id")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Not available in production.")
        user = User.objects.filter(username=auth_id_normalize(options["auth_id"])).first()
        if user is None or not user.username.startswith("DEMO") or not user.totp_secret:
            raise CommandError("Only demo accounts with an authenticator key (IDs starting with DEMO).")
        self.stdout.write(pyotp.TOTP(user.totp_secret).at(clock.now().timestamp()))
