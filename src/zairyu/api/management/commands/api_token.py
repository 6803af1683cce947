"""Issue an API access token for a user, for CI, contract tests and benchmarks (never production).

Ensures an approved client (the given one, or a "CI contract client" created once) and an active
authorisation of it by the user with the scopes, then prints an access token and nothing else, so
that ``TOKEN=$(manage.py api_token --user DEMORESID001)`` works. ``--json`` prints the token with
the client ID, and ``--reset-client-secret`` gives the client a new secret and prints it too (the
client's own operations, ``/api/v1/client``, take the client ID and secret). Real clients get
their tokens through the authorization code flow with the user's consent.
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

CI_CLIENT_NAME = "CI contract client"


def ci_client(client_id: str | None):
    """The named client (approved if it was not), or the CI client, created and approved once."""
    from zairyu.api import services
    from zairyu.api.models import ApiClient

    if client_id:
        client = ApiClient.objects.filter(oauth_application__client_id=client_id).first()
        if client is None:
            raise CommandError(f"There is no API client {client_id!r}.")
    else:
        client = ApiClient.objects.filter(name=CI_CLIENT_NAME, vendor_name="Zairyu CI").first()
        if client is None:
            client = services.client_register(
                name=CI_CLIENT_NAME,
                vendor_name="Zairyu CI",
                contact_email="ci@zairyu.example",
                redirect_uris=["http://127.0.0.1/callback"],
                description="Contract tests and benchmarks; development and test databases only.",
            ).client
    if not client.usable:
        client = services.client_decide(client=client, officer=None, approve=True, note="api_token (CI)")
    return client


class Command(BaseCommand):
    help = "Print an API access token for a user (approved CI client, authorisation); never in production."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the user's ID (auth ID), e.g. DEMORESID001")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=list(settings.API_SCOPES),
            choices=list(settings.API_SCOPES),
            help="scopes of the token (default: all)",
        )
        parser.add_argument("--client", help="client_id of an existing client (default: the CI client)")
        parser.add_argument(
            "--seconds",
            type=int,
            default=None,
            help="lifetime of the token (default: the access token lifetime of the settings)",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object with the client ID")
        parser.add_argument(
            "--reset-client-secret",
            action="store_true",
            help="give the client a new secret and print it (implies --json)",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "api_token is for development and test databases only (ZAIRYU_ENV=production)."
            )
        from zairyu.accounts.models import User
        from zairyu.accounts.services import auth_id_normalize
        from zairyu.api import services

        user = User.objects.filter(username=auth_id_normalize(options["user"])).first()
        if user is None:
            raise CommandError(f"There is no user {options['user']!r}.")
        scopes = sorted(set(options["scopes"]))
        with transaction.atomic():
            client = ci_client(options["client"])
            covering = [
                authorisation
                for authorisation in services.authorisations_of(user).filter(client=client)
                if set(scopes) <= set(authorisation.scopes)
            ]
            if not covering:
                services.authorisation_grant(user=user, client=client, scopes=scopes, days=30)
            token = services.access_token_issue(
                user=user, client=client, scopes=scopes, seconds=options["seconds"]
            )
            result = {"access_token": token, "client_id": client.client_id, "scopes": scopes}
            if options["reset_client_secret"]:
                result["client_secret"] = secrets.token_urlsafe(32)
                application = client.oauth_application
                application.client_secret = result["client_secret"]  # hashed when saved
                application.save(update_fields=["client_secret"])
        if options["json"] or options["reset_client_secret"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(token)
