"""No page sends what a person types in a query string (where access logs, the browser's history
and Referer headers keep it): every form with ``method="get"`` on every page holds only choices,
dates and numbers — the one free-text exception is the e-COE lookup's code, printed on the
certificate and no one's personal data."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from zairyu.accounts.constants import OfficerRole, UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core.tests.test_private_caching import plain_paths
from zairyu.review.tests.factories import officer, submitted

pytestmark = pytest.mark.django_db

FREE_TEXT_ALLOWED = {"/public/ecoe/": {"code"}}
TEXT_TYPES = {"text", "search", "email", "tel", "url", ""}


def free_text_in_get_forms(html: str) -> set[str]:
    names = set()
    for form in re.finditer(r"<form\b([^>]*)>(.*?)</form>", html, re.S | re.I):
        method = re.search(r'method="(\w+)"', form.group(1))
        if method and method.group(1).lower() != "get":
            continue  # no method at all is a GET too
        for field in re.finditer(r"<(input|textarea)\b([^>]*)>", form.group(2), re.I):
            attrs = field.group(2)
            kind = re.search(r'type="(\w*)"', attrs)
            if field.group(1).lower() == "input" and (kind.group(1) if kind else "") not in TEXT_TYPES:
                continue
            name = re.search(r'name="([^"]+)"', attrs)
            if name:
                names.add(name.group(1))
    return names


def get_forms_with_free_text(client: Client, extra: list[str] = ()) -> dict[str, set[str]]:
    found = {}
    for path in [*plain_paths(), *extra]:
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        names = free_text_in_get_forms(response.content.decode())
        if names - FREE_TEXT_ALLOWED.get(path, set()):
            found[path] = names
    return found


def test_the_check_sees_a_search_box_in_a_get_form():
    assert free_text_in_get_forms('<form method="get"><input type="text" name="q"></form>') == {"q"}
    assert free_text_in_get_forms('<form><input name="q"></form>') == {"q"}
    assert not free_text_in_get_forms('<form method="post"><input type="text" name="q"></form>')
    assert not free_text_in_get_forms('<form method="get"><input type="date" name="d"></form>')


def test_no_get_form_takes_free_text_for_anyone():
    user = active_user(UserKind.U4, email="agent@example.com")
    application = submitted(by=user)
    reviewer = officer(role=OfficerRole.REVIEWER)
    from zairyu.organizations.tests.factories import staff_member

    visitors = {
        "anonymous": (Client(HTTP_ACCEPT_LANGUAGE="en"), []),
        "agent": (signed_in_client(user), [f"/applications/{application.public_id}/"]),
        "staff": (signed_in_client(staff_member(email="hr@example.com")), []),
        "officer": (signed_in_client(reviewer), [f"/staff/review/applications/{submitted().pk}/"]),
    }
    for who, (client, extra) in visitors.items():
        assert get_forms_with_free_text(client, extra) == {}, who
