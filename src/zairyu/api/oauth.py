"""django-oauth-toolkit hooks: only approved clients can be authorised or get tokens."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class ZairyuOAuth2Validator(OAuth2Validator):
    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request)
        if application is None:
            return None
        client = getattr(application, "zairyu_client", None)
        if client is None or not client.usable:
            request.client = None
            return None
        return application
