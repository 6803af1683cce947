"""F-01: the applicant side can be limited to networks; proxies are believed only when trusted."""

import pytest

from zairyu.accounts.tests.conftest import EnglishClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def japan_only(settings):
    settings.APPLICANT_NETWORKS = ["203.0.113.0/24", "2001:db8::/32"]
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]


def test_an_outside_address_is_refused_with_an_explanation(japan_only):
    refused = EnglishClient(REMOTE_ADDR="198.51.100.7").get("/accounts/sign-in/")
    assert refused.status_code == 403 and "cannot be sent from outside Japan" in refused.content.decode()
    assert EnglishClient(REMOTE_ADDR="203.0.113.40").get("/accounts/sign-in/").status_code == 200
    assert EnglishClient(REMOTE_ADDR="2001:db8::1").get("/").status_code == 200


def test_officer_pages_and_health_checks_are_not_the_applicant_side(japan_only):
    assert EnglishClient(REMOTE_ADDR="198.51.100.7").get("/staff/sign-in/").status_code == 200
    assert EnglishClient(REMOTE_ADDR="198.51.100.7").get("/healthz").status_code == 200


def test_forwarded_addresses_count_only_from_trusted_proxies(japan_only):
    via_proxy = EnglishClient(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert via_proxy.get("/accounts/sign-in/").status_code == 200
    outside_via_proxy = EnglishClient(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert outside_via_proxy.get("/accounts/sign-in/").status_code == 403
    forged = EnglishClient(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.get("/accounts/sign-in/").status_code == 403  # not from a trusted proxy: ignored
    spoofed_chain = EnglishClient(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    assert spoofed_chain.get("/accounts/sign-in/").status_code == 403  # the hop the proxy saw counts


def test_open_by_default(settings):
    settings.APPLICANT_NETWORKS = []
    assert EnglishClient(REMOTE_ADDR="198.51.100.7").get("/accounts/sign-in/").status_code == 200
