"""The consent page (OAuth authorize endpoint). To be completed."""

from oauth2_provider.views import AuthorizationView


class ConsentView(AuthorizationView):
    pass
