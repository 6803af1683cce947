"""django-oauth-toolkit hooks: only approved clients can be authorised or get tokens, and every
token stands on the user's consent (``Authorisation``).

* An authorization code is issued for exactly the scopes the user ticked (the consent page passes
  them); exchanging it needs the consent still active, and the token gets those scopes.
* A refresh needs the consent still active (not revoked, not expired); the new token's scopes are
  the old ones within the consent's.
* No access token outlives the consent: its lifetime is cut to the consent's end.
* Only ``S256`` PKCE challenges are accepted (``plain`` would send the verifier in the clear).
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from zairyu.core import clock


def active_authorisation(user, application):
    """The user's active consent for the client of ``application``, or None."""
    from zairyu.api.models import Authorisation

    client = getattr(application, "zairyu_client", None)
    if user is None or client is None or not client.usable:
        return None
    return (
        Authorisation.objects.filter(
            user=user, client=client, revoked_at__isnull=True, expires_at__gt=clock.now()
        )
        .order_by("-granted_at")
        .first()
    )


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

    def _create_authorization_code(self, request, code, expires=None):
        if request.code_challenge_method != "S256":
            raise errors.InvalidRequestError(
                description='Only the "S256" code_challenge_method is accepted.', request=request
            )
        return super()._create_authorization_code(request, code, expires)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        return self._within_authorisation(request, client)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        authorisation = active_authorisation(request.user, client)
        if authorisation is None:
            return False
        request.zairyu_authorisation = authorisation
        return bool(self._original_scopes(request) & set(authorisation.scopes))

    def _original_scopes(self, request) -> set[str]:
        scopes = super().get_original_scopes(request.refresh_token, request)
        return set(scopes.split() if isinstance(scopes, str) else scopes)

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        authorisation = request.zairyu_authorisation
        return sorted(self._original_scopes(request) & set(authorisation.scopes))

    def _within_authorisation(self, request, application) -> bool:
        authorisation = active_authorisation(request.user, application)
        if authorisation is None:
            return False
        request.zairyu_authorisation = authorisation
        request.scopes = [scope for scope in request.scopes if scope in authorisation.scopes]
        return bool(request.scopes)

    def _save_bearer_token(self, token, request, *args, **kwargs):
        from zairyu.api.models import Authorisation

        authorisation = getattr(request, "zairyu_authorisation", None)
        if authorisation is None:  # only the authorization code and refresh grants are enabled
            raise errors.InvalidGrantError(request=request)
        now = clock.now()
        remaining = int((authorisation.expires_at - now).total_seconds())
        if remaining <= 0:
            raise errors.InvalidGrantError(request=request)
        if int(token.get("expires_in") or 0) > remaining or not token.get("expires_in"):
            token["expires_in"] = remaining
        super()._save_bearer_token(token, request, *args, **kwargs)
        Authorisation.objects.filter(pk=authorisation.pk).update(last_used_at=now)
