"""The site-wide pages: the home page, the favicon and the health check."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from zairyu.catalogue import get_catalogue
from zairyu.celery import app as celery_app
from zairyu.core import clock


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for whatever the page says: the SVG icon in static."""
    response = HttpResponseRedirect(static("zairyu/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def home(request: HttpRequest) -> HttpResponse:
    """What the service is, who can use it and what can be filed, from the catalogue."""
    catalogue = get_catalogue()
    today = clock.today()
    procedures = list(catalogue.procedures.values())
    return render(
        request,
        "site/home.html",
        {
            "online_categories": [c for c in catalogue.user_categories.values() if c.files_online],
            "window_categories": [c for c in catalogue.user_categories.values() if not c.files_online],
            "main_procedures": [p for p in procedures if not p.add_on],
            "add_on_procedures": [
                (p, [catalogue.procedures[code] for code in p.add_on_to]) for p in procedures if p.add_on
            ],
            "not_online": [e for e in catalogue.entries_in_force(today) if not e.online],
        },
    )


def _check_database() -> dict[str, object]:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {
        "status": "ok",
        "vendor": connection.vendor,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _check_queue(*, deep: bool) -> dict[str, object]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "ok", "mode": "in-process"}
    started = time.perf_counter()
    timeout = settings.HEALTHZ_BROKER_TIMEOUT
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=timeout,
        transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0},
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        conn.default_channel  # noqa: B018 - opens the channel, which talks to the broker
    result: dict[str, object] = {
        "status": "ok",
        "mode": "broker",
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if deep:
        workers = celery_app.control.ping(timeout=1.0) or []
        result["workers"] = len(workers)
        if not workers:
            result["status"] = "no-worker"
    return result


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """``200 {"status": "ok"}`` when the database and the task queue answer, ``503`` otherwise.

    ``?deep=1`` also asks the Celery workers to answer (slower; for monitoring, not for probes).
    """
    checks: dict[str, dict[str, object]] = {}
    for name, check in (
        ("database", _check_database),
        ("queue", lambda: _check_queue(deep=request.GET.get("deep") == "1")),
    ):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure of a dependency is reported, never raised
            checks[name] = {"status": "error", "error": type(exc).__name__}
    healthy = all(c["status"] == "ok" for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "time": clock.now().isoformat(), "checks": checks},
        status=200 if healthy else 503,
    )
