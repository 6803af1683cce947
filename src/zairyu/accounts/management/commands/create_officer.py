"""Create an officer account (administrators only; officers never register themselves)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zairyu.accounts.constants import OfficerRole
from zairyu.accounts.services import AccountError, officer_create
from zairyu.catalogue import get_catalogue


class Command(BaseCommand):
    help = "Create an officer of one office with a role; a link to set the password is e-mailed."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--office", required=True, choices=sorted(get_catalogue().offices))
        parser.add_argument("--role", default=OfficerRole.REVIEWER, choices=OfficerRole.values)
        parser.add_argument("--language", default="ja", choices=["ja", "en"])

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                user = officer_create(
                    full_name=options["name"],
                    email=options["email"],
                    office=options["office"],
                    role=options["role"],
                    language=options["language"],
                )
        except AccountError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            f"Officer created: ID {user.auth_id_display}, office {user.office}, role {user.role}. "
            "A link to set the password was sent by e-mail; the second factor is set up at first sign-in."
        )
