"""The example client (``examples/zairyu_client.py``) against a live server: it registers its
webhook, the user signs in with the card and consents, it files an extension with PDFs and a photo
(signed with the card), the application shows in the user's web list, and its webhook receiver is
called when an officer takes the application up."""

from __future__ import annotations

import base64
import html.parser
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from zairyu.accounts.constants import ChallengePurpose, UserKind
from zairyu.accounts.services import challenge_bytes
from zairyu.accounts.tests.conftest import AUTH_PIN, PASSWORD, SIGNING_PIN, active_user, make_card
from zairyu.api import services
from zairyu.applications.disclosure import registry_answers as answers_from_registry
from zairyu.applications.models import Application
from zairyu.applications.samples import sample_answers
from zairyu.applications.tests.helpers import signed_in_client, today_plus
from zairyu.catalogue.formspec import form_for
from zairyu.core import clock
from zairyu.registry.tests.factories import ResidentFactory

REPO = Path(__file__).resolve().parents[4]
EXAMPLE = REPO / "examples" / "zairyu_client.py"


class _Forms(html.parser.HTMLParser):
    """The submitted values of every form of a page: hidden and text inputs, checked boxes, selects."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self.inside = False
        self._select: str | None = None
        self._select_value: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = True
            self.forms.append([])
        if not self.inside:
            return
        fields = self.forms[-1]
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("hidden", "text", "password") or (
                kind in ("checkbox", "radio") and "checked" in attrs
            ):
                fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = attrs.get("name"), None
        elif tag == "option" and self._select and (self._select_value is None or "selected" in attrs):
            self._select_value = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.forms[-1].append((self._select, self._select_value or ""))
            self._select = None
        if tag == "form":
            self.inside = False


def _form_fields(page: str, having: str) -> list[tuple[str, str]]:
    """The fields of the first form that has a field named ``having``."""
    parser = _Forms()
    parser.feed(page)
    return next(form for form in parser.forms if any(name == having for name, _value in form))


def _sign_in_with_card(http, base: str, user, card) -> None:
    page = http.get(f"{base}/accounts/sign-in/card/").text
    fields = dict(_form_fields(page, "challenge"))
    nonce = fields["challenge"]
    signature = card.sign(
        which="auth", pin=AUTH_PIN, data=challenge_bytes(nonce=nonce, purpose=ChallengePurpose.SIGN_IN)
    )
    response = http.post(
        f"{base}/accounts/sign-in/card/",
        data={
            **fields,
            "auth_id": user.auth_id,
            "password": PASSWORD,
            "certificate": card.certificate_pem("auth"),
            "signature": base64.b64encode(signature).decode(),
        },
        headers={"Referer": f"{base}/accounts/sign-in/card/"},
    )
    assert response.ok and "/sign-in/" not in response.url, response.text[:3000]


@pytest.mark.django_db(transaction=True)
def test_the_example_client_files_and_follows_an_application(live_server, jpki, tmp_path):
    requests = pytest.importorskip("requests")
    from zairyu.review import services as review
    from zairyu.review.tests.factories import officer

    resident = ResidentFactory(
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=today_plus(60),
        card_expires_on=today_plus(60),
        prefecture="13",
        municipality="新宿区",
        move_in_notified_on=None,
        abroad_on_reentry=False,
    )
    card = make_card(jpki, tmp_path, name=resident.roman_name)
    user = active_user(
        UserKind.U1, email="self@example.com", card_id=card.card_id, full_name=resident.roman_name
    )
    registered = services.client_register(
        name="Zairyu example client",
        vendor_name="Example K.K.",
        contact_email="dev@example.com",
        redirect_uris=["http://127.0.0.1/callback"],
        client_id="example-under-test",
        client_secret="example-secret-under-test",
    )
    registered.client.state = registered.client.State.APPROVED
    registered.client.save(update_fields=["state"])
    form = form_for(procedure="P3", status=resident.status, user_category="U1")
    answers_file = tmp_path / "answers.json"
    answers_file.write_text(
        json.dumps(
            sample_answers(
                form,
                today=clock.today(),
                overrides={**answers_from_registry(resident), "card_number": resident.card_number},
            )
        )
    )

    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            str(EXAMPLE),
            "--base", live_server.url,
            "--client-id", "example-under-test",
            "--client-secret", "example-secret-under-test",
            "--card-number", resident.card_number,
            "--status", resident.status,
            "--answers", str(answers_file),
            "--pdf", str(REPO / "examples" / "files" / "document.pdf"),
            "--photo", str(REPO / "examples" / "files" / "photo.jpg"),
            "--card", str(card.path),
            "--pin", SIGNING_PIN,
            "--no-browser",
            "--consent-timeout", "60",
            "--follow", "90",
            "--poll", "0.5",
            "--until", "under_review",
            "--until-webhook",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    output: list[str] = []
    authorize = threading.Event()

    def read() -> None:
        for line in process.stdout:
            output.append(line.rstrip())
            if line.startswith("AUTHORIZE "):
                authorize.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert authorize.wait(60), "\n".join(output)
        url = next(line.split(" ", 1)[1] for line in output if line.startswith("AUTHORIZE "))
        browser = requests.Session()
        browser.headers["Accept-Language"] = "en"
        _sign_in_with_card(browser, live_server.url, user, card)
        consent = browser.get(url)
        assert consent.status_code == 200 and "Zairyu example client" in consent.text, consent.text[:2000]
        fields = _form_fields(consent.text, "code_challenge")
        allowed = browser.post(
            f"{live_server.url}/oauth/authorize/",
            data=[*fields, ("decision", "allow")],
            headers={"Referer": consent.url},
        )  # follows the redirect to the example's own callback
        assert allowed.ok, allowed.text[:2000]

        def submitted() -> Application | None:
            return Application.objects.filter(filer=user, state="submitted").first()

        deadline = clock.now().timestamp() + 90
        while submitted() is None and process.poll() is None and clock.now().timestamp() < deadline:
            threading.Event().wait(0.3)
        application = submitted()
        assert application is not None, "\n".join(output)
        assert application.filed_via == registered.client

        listing = signed_in_client(user).get("/applications/").content.decode()
        assert application.receipt_number in listing  # the web list shows what the API filed

        review.application_take_up(application_id=application.pk, officer=officer())
        process.wait(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
        reader.join(timeout=5)
    text = "\n".join(output)
    assert process.returncode == 0, text
    assert re.search(r"^SUBMITTED \S+ receipt=東オン-\S+ state=submitted$", text, re.M), text
    assert re.search(r"^WEBHOOK application\.status_changed \S+ submitted→under_review$", text, re.M), text
    assert "DONE" in text and text.rstrip().endswith("under_review"), text
