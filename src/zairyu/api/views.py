"""The API's web pages: vendors register clients (``/api/clients/register/``), users see and revoke
the software they connected (``/api/clients/connected/``), officers approve clients
(``/staff/api-clients/``). The consent page itself is ``oauth_views.ConsentView``.

Who may do what: registering needs no account (it is throttled per address and nothing works
until an officer approves); the connected-software page shows only the signed-in user's own
authorisations; every officer may read the client list, only administrators decide.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zairyu.api import services
from zairyu.api.forms import ClientDecisionForm, ClientRegisterForm
from zairyu.api.models import ApiClient, Authorisation
from zairyu.core.http import applicant_required, officer_required, request_ip
from zairyu.core.net import throttle_hit

REGISTRATIONS_PER_HOUR = 10  # per address


def _scope_labels(scopes: list[str]) -> list[str]:
    return [str(settings.API_SCOPES[scope]) for scope in settings.API_SCOPES if scope in scopes]


# --- vendors -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def client_register(request: HttpRequest) -> HttpResponse:
    form = ClientRegisterForm(request.POST or None)
    if request.method == "POST":
        if not throttle_hit(
            scope="api-client-register",
            key=request_ip(request) or "-",
            limit=REGISTRATIONS_PER_HOUR,
            window_seconds=3600,
        ):
            form.is_valid()  # keeps what was typed, with its own messages
            form.add_error(None, _("Too many registrations from your network. Try again in an hour."))
            return render(request, "api/client_register.html", {"form": form}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            registered = services.client_register(
                name=data["name"],
                vendor_name=data["vendor_name"],
                vendor_corporate_number=data["vendor_corporate_number"],
                contact_email=data["contact_email"],
                description=data["description"],
                redirect_uris=data["redirect_uris"],
                confidential=data["client_type"] == "confidential",
                ip=request_ip(request),
            )
            # The secret is shown on this answer only (it is kept hashed), so it is not redirected
            # through the session and must not be cached.
            response = render(request, "api/client_registered.html", {"registered": registered})
            response["Cache-Control"] = "no-store"
            return response
        return render(request, "api/client_register.html", {"form": form}, status=400)
    return render(request, "api/client_register.html", {"form": form})


# --- users: connected software -----------------------------------------------------------------


@applicant_required
def connected(request: HttpRequest) -> HttpResponse:
    authorisations = [
        (authorisation, _scope_labels(authorisation.scopes))
        for authorisation in services.authorisations_of(request.user).select_related("client")
    ]
    return render(request, "api/connected.html", {"authorisations": authorisations})


@applicant_required
@require_POST
def connected_revoke(request: HttpRequest, authorisation_id: int) -> HttpResponse:
    try:
        client = services.authorisation_revoke_by_id(
            user=request.user, authorisation_id=authorisation_id, ip=request_ip(request)
        )
    except Authorisation.DoesNotExist:
        raise Http404 from None
    messages.success(
        request,
        _("%(software)s can no longer act for you. Its tokens are deleted.") % {"software": client.name},
    )
    return redirect("api:connected")


# --- officers ----------------------------------------------------------------------------------

STATE_ORDER = [
    ApiClient.State.PENDING,
    ApiClient.State.APPROVED,
    ApiClient.State.SUSPENDED,
    ApiClient.State.REJECTED,
]


@officer_required
def staff_clients(request: HttpRequest) -> HttpResponse:
    clients = list(ApiClient.objects.select_related("oauth_application").order_by("-created_at", "-id"))
    groups = [
        (state, state.label, [client for client in clients if client.state == state]) for state in STATE_ORDER
    ]
    return render(
        request,
        "api/staff_clients.html",
        {"groups": groups, "may_decide": services.client_may_decide(request.user)},
    )


def _client_page(request: HttpRequest, client: ApiClient, form=None, status: int = 200) -> HttpResponse:
    may_decide = services.client_may_decide(request.user)
    actions = [action for action, states in services.CLIENT_ACTIONS.items() if client.state in states]
    return render(
        request,
        "api/staff_client.html",
        {
            "client": client,
            "redirect_uris": client.oauth_application.redirect_uris.split(),
            "confidential": client.oauth_application.client_type == "confidential",
            "may_decide": may_decide,
            "actions": actions if may_decide else [],
            "form": form or ClientDecisionForm(),
            "active_authorisations": client.authorisations.filter(revoked_at__isnull=True).count(),
        },
        status=status,
    )


@officer_required
def staff_client(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(
        ApiClient.objects.select_related("oauth_application", "decided_by"), pk=client_id
    )
    return _client_page(request, client)


@officer_required
@require_POST
def staff_client_decide(request: HttpRequest, client_id: int) -> HttpResponse:
    client = get_object_or_404(
        ApiClient.objects.select_related("oauth_application", "decided_by"), pk=client_id
    )
    if not services.client_may_decide(request.user):
        return render(request, "accounts/forbidden.html", status=403)
    form = ClientDecisionForm(request.POST)
    if not form.is_valid():
        return _client_page(request, client, form, status=400)
    try:
        client = services.client_decision_take(
            client=client,
            officer=request.user,
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
            ip=request_ip(request),
        )
    except services.ClientDecisionRefused:
        messages.error(request, _("This client's state has changed meanwhile; nothing was done. Look again."))
        return redirect("api-staff:client", client_id=client.pk)
    messages.success(
        request,
        _("%(software)s is now: %(state)s.") % {"software": client.name, "state": client.get_state_display()},
    )
    return redirect("api-staff:client", client_id=client.pk)
