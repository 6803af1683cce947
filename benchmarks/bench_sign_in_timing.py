"""Sign-in refusals cost the same (F-15, ASVS V6): a wrong password, a locked account, a suspended
account and an unknown ID, timed with the production password hasher (Argon2), through the
sign-in service, through the view (Django's test client) and over real HTTP (a local WSGI server).

Prints `name: value unit` lines: the median and p95 of each refusal, the ratio of the largest to
the smallest median per channel (the target is at most 1.5), and the load average. Not a test.
``ZAIRYU_BENCH_SIGN_IN_N`` sets the refusals per case (default 15).
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from wsgiref.simple_server import WSGIRequestHandler, make_server

from _setup import django_setup, median, percentile, report, timings

django_setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import get_hasher, make_password  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from zairyu.accounts import services  # noqa: E402
from zairyu.accounts.constants import UserKind, UserState  # noqa: E402
from zairyu.accounts.models import User  # noqa: E402
from zairyu.core import clock  # noqa: E402

N = int(os.environ.get("ZAIRYU_BENCH_SIGN_IN_N", "15"))
PASSWORD = "benchmark password 2026"
WRONG = "not the password at all"
vendor = connection.vendor

hasher = get_hasher()
assert hasher.algorithm == "argon2", f"the benchmark needs the production hasher, not {hasher.algorithm}"
settings.LOGIN_IP_FAILURE_LIMIT = 10**9  # the per-address throttle is not what is measured here


def account(**fields) -> User:
    values = {"kind": UserKind.U8, "state": UserState.ACTIVE, "email": "bench@example.com", **fields}
    user = User(username=services.auth_id_generate(), **values)
    user.set_password(PASSWORD)
    user.save()
    return user


wrong_password = account()
locked = account(locked_until=clock.now() + dt.timedelta(days=365))
suspended = account(state=UserState.SUSPENDED)
CASES = {
    "wrong_password": (wrong_password.auth_id, WRONG),
    "locked": (locked.auth_id, PASSWORD),
    "suspended": (suspended.auth_id, PASSWORD),
    "unknown_id": ("NOSUCHID2345", PASSWORD),
}


def before_each() -> None:
    # Keep the wrong-password account from locking itself (that would be the "locked" case).
    User.objects.filter(pk=wrong_password.pk).update(failed_logins=0, locked_until=None)


def measure(channel: str, attempt: Callable[[str, str], None]) -> None:
    """Round-robin over the cases, so that drift in the machine's load hits them alike."""
    for auth_id, password in CASES.values():  # warm-up
        before_each()
        attempt(auth_id, password)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(N):
        for name, (auth_id, password) in CASES.items():
            before_each()
            started = time.perf_counter()
            attempt(auth_id, password)
            times[name].append((time.perf_counter() - started) * 1000)
    medians = {}
    for name, values in times.items():
        medians[name] = median(values)
        report(f"sign_in_refusal_{channel}_{name}_p50_{vendor}", medians[name], "ms")
        report(f"sign_in_refusal_{channel}_{name}_p95_{vendor}", percentile(values, 0.95), "ms")
    report(
        f"sign_in_refusal_{channel}_ratio_max_min_{vendor}",
        max(medians.values()) / min(medians.values()),
        "x",
    )


def by_service(auth_id: str, password: str) -> None:
    try:
        services.sign_in_verify(auth_id=auth_id, password=password, card_id=None, ip="192.0.2.1")
    except services.SignInRefused:
        return
    raise AssertionError("a refusal was expected")


client = Client()


def by_view(auth_id: str, password: str) -> None:
    response = client.post("/accounts/sign-in/", {"auth_id": auth_id, "password": password})
    assert response.status_code == 200, response.status_code


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=QuietHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{server.server_port}"
cookies = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
page = opener.open(f"{base}/accounts/sign-in/").read().decode()
csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def over_http(auth_id: str, password: str) -> None:
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "auth_id": auth_id, "password": password})
    request = urllib.request.Request(
        f"{base}/accounts/sign-in/", data=body.encode(), headers={"Referer": f"{base}/accounts/sign-in/"}
    )
    with opener.open(request) as response:  # a sign-in would redirect away from the form
        response.read()
        assert response.status == 200 and response.geturl().endswith("/accounts/sign-in/"), response.geturl()


print(
    f"# password hasher: {hasher.algorithm} (time_cost={hasher.time_cost}, "
    f"memory_cost={hasher.memory_cost} KiB, parallelism={hasher.parallelism}); {N} refusals per case",
    flush=True,
)
report("password_hash_alone_p50", median(timings(lambda: make_password(PASSWORD), repeat=N)), "ms")
measure("service", by_service)
measure("view", by_view)
measure("http", over_http)
server.shutdown()
load1, load5, load15 = os.getloadavg()
report("load_average_1min", load1, "")
report("load_average_5min", load5, "")
report("cpu_count", os.cpu_count() or 0, "")
