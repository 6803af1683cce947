"""OAuth 2.0 endpoints under ``/oauth/``: our consent page, and django-oauth-toolkit's token and
revocation endpoints. Its client-management pages are not exposed (clients register with us)."""

from django.urls import path
from oauth2_provider import views as oauth_views

from zairyu.api import oauth_views as views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.ConsentView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
]
