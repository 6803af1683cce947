"""The demo API client for ``make run`` (development only; refused in production).

Its credentials are fixed so that the example client (``examples/``) and a person following the
docs can use them without reading the database. Its redirect URI is on the loopback address, so
any port may be used at the time of the request (RFC 8252 §7.3).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from zairyu.api.models import ApiClient

DEMO_CLIENT_ID = "zairyu-example-client"
DEMO_CLIENT_SECRET = "zairyu-example-secret"  # noqa: S105 (demo only; never in production)
DEMO_CLIENT_NAME = "Zairyu example client"
DEMO_REDIRECT_URI = "http://127.0.0.1/callback"


@transaction.atomic
def load_api_demo() -> list[tuple[str, str]]:
    """Create (or reset) the approved demo client; return what to print."""
    from oauth2_provider.models import Application as OAuthApplication

    from zairyu.api import services

    if settings.PRODUCTION:
        raise RuntimeError("the demo API client is never created in production")
    vendor = {
        "vendor_name": "Zairyu project (demo)",
        "contact_email": "api-demo@zairyu.example",
        "description": "The example client in examples/: files an extension and follows its status.",
    }
    application = OAuthApplication.objects.filter(client_id=DEMO_CLIENT_ID).first()
    if application is None:
        client = services.client_register(
            name=DEMO_CLIENT_NAME,
            **vendor,
            redirect_uris=[DEMO_REDIRECT_URI],
            confidential=True,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
        ).client
    else:
        application.name = DEMO_CLIENT_NAME
        application.client_type = OAuthApplication.CLIENT_CONFIDENTIAL
        application.authorization_grant_type = OAuthApplication.GRANT_AUTHORIZATION_CODE
        application.redirect_uris = DEMO_REDIRECT_URI
        application.client_secret = DEMO_CLIENT_SECRET  # hashed again on save
        application.save()
        client, _created = ApiClient.objects.update_or_create(
            oauth_application=application, defaults={"name": DEMO_CLIENT_NAME, **vendor}
        )
    ApiClient.objects.filter(pk=client.pk).update(
        state=ApiClient.State.APPROVED, decision_note="demo client, approved by load_demo"
    )
    return [
        ("API client (demo)", f"client_id {DEMO_CLIENT_ID}  secret {DEMO_CLIENT_SECRET}"),
        ("API redirect URI", f"{DEMO_REDIRECT_URI} (any port on 127.0.0.1)"),
    ]
