#!/usr/bin/env python3
"""An example client of the Zairyu application-data API (docs/api.md): file an extension of the
period of stay for the signed-in user, with PDFs and a photo, and follow its status.

It does what vendor software (an HR system, a scrivener's tool) would do, with nothing but the
Python standard library:

1. start a small local web server on 127.0.0.1 for the OAuth redirect and the status webhook;
2. register that webhook with the client's credentials (``PUT /api/v1/client/webhook``);
3. let the user sign in and consent in the browser (OAuth 2.0 authorization code with PKCE);
4. start a draft, save the answers, attach a PDF for each document still missing and the photo,
   choose the receipt method, check that nothing is missing;
5. for a foreign national filing for themselves (U1–U3), sign the application data with the
   My Number Card (here the JPKI simulation's card file) — other users skip this;
6. submit with an ``Idempotency-Key`` (retried safely on a network error);
7. follow the status: print each webhook notification (its Standard Webhooks signature checked) and poll the
   application until it reaches ``--until`` or ``--follow`` seconds pass.

Against ``make run`` (see the demo accounts it prints)::

    .venv/bin/python manage.py example_answers --card-number <card no.> > /tmp/answers.json
    python examples/zairyu_client.py --card-number <card no.> --status <status> \\
        --answers /tmp/answers.json --pdf examples/files/document.pdf --photo examples/files/photo.jpg \\
        --card var/jpki/cards/<card>.card.json --pin ZAIRYU2026

Then sign in as the user in the browser window that opens, allow, and watch the status; an officer
taking the application up (``/staff/review/``) makes the webhook fire.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import webbrowser
from pathlib import Path
from typing import Any

FINAL_STATES = {"complete", "withdrawn"}


def log(message: str) -> None:
    print(message, flush=True)


# --- the local web server: OAuth redirect and webhook receiver ---------------------------------


class Inbox:
    def __init__(self, webhook_secret: str = "") -> None:
        self.code: str | None = None
        self.error: str | None = None
        self.state: str = secrets.token_urlsafe(16)
        self.webhook_secret = webhook_secret
        self.events: list[dict[str, Any]] = []
        self.arrived = threading.Condition()


def make_server(inbox: Inbox) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # the OAuth redirect
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path != "/callback":
                return self._answer(404, "not found")
            with inbox.arrived:
                if query.get("state") != inbox.state:
                    inbox.error = "state_mismatch"
                else:
                    inbox.code, inbox.error = query.get("code"), query.get("error")
                inbox.arrived.notify_all()
            self._answer(200, "You can close this window and return to the application.")

        def do_POST(self) -> None:  # the status webhook
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if urllib.parse.urlsplit(self.path).path != "/webhook":
                return self._answer(404, "not found")
            if not verify_signature(inbox.webhook_secret, dict(self.headers.items()), body):
                return self._answer(400, "bad signature")
            with inbox.arrived:
                inbox.events.append(json.loads(body))
                inbox.arrived.notify_all()
            self._answer(204, "")

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def webhook_key(secret: str) -> bytes:
    """The Standard Webhooks key: the base64 after ``whsec_``; a secret issued before Zairyu sent
    Standard Webhooks signatures is not base64, and its key is the secret's own bytes."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True) or secret.encode()
    except ValueError:
        return secret.encode()


def verify_signature(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """Standard Webhooks (https://www.standardwebhooks.com/): ``webhook-signature: v1,<base64
    HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`` (space-separated, one match is enough)."""
    headers = {name.lower(): value for name, value in headers.items()}
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not secret or not message_id or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    digest = hmac.new(
        webhook_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256
    ).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    return any(hmac.compare_digest(expected, value) for value in headers.get("webhook-signature", "").split())


# --- HTTP -----------------------------------------------------------------------------------


class Api:
    def __init__(self, base: str, language: str) -> None:
        self.base = base.rstrip("/")
        self.language = language
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None, *, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if not self.base.startswith(("http://", "https://")):
            raise SystemExit("--base must be an http(s) address")
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        request.add_header("Accept-Language", self.language)
        if body is not None and raw is None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own server)
                text = response.read()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read()
            problem = json.loads(text) if text else {}
            return error.code, problem

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        status, answer = self.call(method, path, body, **kwargs)
        if status >= 400:
            raise SystemExit(f"{method} {path} → {status}: {describe(answer)}")
        return answer

    def upload(self, path: str, fields: dict[str, str], file_name: str, content: bytes, content_type: str):
        boundary = uuid.uuid4().hex
        lines: list[bytes] = []
        for name, value in fields.items():
            lines += [
                f"--{boundary}".encode(),
                f'Content-Disposition: form-data; name="{name}"'.encode(),
                b"",
                value.encode(),
            ]
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="file"; filename="{file_name}"'.encode(),
            f"Content-Type: {content_type}".encode(),
            b"",
            content,
            f"--{boundary}--".encode(),
            b"",
        ]
        return self.ok(
            "POST",
            path,
            raw=b"\r\n".join(lines),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


def describe(problem: Any) -> str:
    """A problem (RFC 9457) in one line per wrong value."""
    if not isinstance(problem, dict):
        return str(problem)
    items = [
        f"{e.get('pointer') or e.get('parameter') or ''}: {e.get('detail')}"
        for e in problem.get("errors", [])
    ]
    return "; ".join([problem.get("title", ""), *items])


def basic(client_id: str, client_secret: str) -> str:
    pair = f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


# --- the steps ----------------------------------------------------------------------------------


def authorise(args, api: Api, inbox: Inbox, redirect_uri: str) -> None:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": args.client_id,
            "redirect_uri": redirect_uri,
            "scope": "applications:read applications:write applications:submit",
            "state": inbox.state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    url = f"{api.base}/oauth/authorize/?{query}"
    log(f"AUTHORIZE {url}")
    if not args.no_browser:
        webbrowser.open(url)
    with inbox.arrived:
        inbox.arrived.wait_for(lambda: inbox.code or inbox.error, timeout=args.consent_timeout)
    if not inbox.code:
        raise SystemExit(f"not authorised: {inbox.error or 'timed out'}")
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": inbox.code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
    ).encode()
    status, tokens = api.call(
        "POST",
        "/oauth/token/",
        raw=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": basic(args.client_id, args.client_secret),
        },
    )
    if status != 200:
        raise SystemExit(f"token request failed: {status} {tokens}")
    api.token = tokens["access_token"]
    log(f"AUTHORISED scopes={tokens.get('scope')}")


def file_application(args, api: Api) -> str:
    start = {"procedure": "P3", "status": args.status, "card_number": args.card_number}
    draft = api.ok("POST", "/api/v1/applications", start)
    application_id = draft["id"]
    log(f"DRAFT {application_id}")
    answers = json.loads(Path(args.answers).read_text()) if args.answers else {}
    saved = api.ok("PATCH", f"/api/v1/applications/{application_id}", {"answers": answers})
    for error in saved["errors"]:
        log(f"  still to fix: {error['pointer']}: {error['detail']}")
    base = f"/api/v1/applications/{application_id}"
    pdf = Path(args.pdf).read_bytes()
    problems = api.ok("POST", f"{base}/validate")["problems"]
    for problem in problems:
        if problem["code"] == "document_missing":  # a stand-in PDF for each document still needed
            kind = problem["data"]["document_type"]
            api.upload(
                f"{base}/documents",
                {"role": "supporting", "document_type": kind},
                f"{kind}.pdf",
                pdf,
                "application/pdf",
            )
            log(f"  attached {kind}")
        elif problem["code"] == "organization_part_missing":
            api.upload(
                f"{base}/documents", {"role": "organization_part"}, "organization.pdf", pdf, "application/pdf"
            )
            log("  attached the organization's part")
    photo = Path(args.photo).read_bytes()
    api.upload(
        f"{base}/documents",
        {"role": "photo", "taken_within_6_months": "true"},
        "photo.jpg",
        photo,
        "image/jpeg",
    )
    options = api.ok("GET", f"{base}/receipt-method")
    api.ok("PUT", f"{base}/receipt-method", {"method": options["default"] or options["methods"][0]})
    readiness = api.ok("POST", f"{base}/validate")
    if not readiness["ready"]:
        raise SystemExit(
            "not ready: " + "; ".join(f"{p['code']}: {p['detail']}" for p in readiness["problems"])
        )
    body: dict[str, str] = {}
    if readiness["card_signature_required"]:
        body = sign_with_card(args, api.ok("GET", f"{base}/signing-data"))
    key = str(uuid.uuid4())  # one key for this submission: a retry after a network error is safe
    for attempt in range(3):
        try:
            submitted = api.ok("POST", f"{base}/submit", body, headers={"Idempotency-Key": key})
            break
        except (urllib.error.URLError, TimeoutError):
            time.sleep(2**attempt)
    else:
        raise SystemExit("could not reach the server to submit")
    log(f"SUBMITTED {application_id} receipt={submitted['receipt_number']} state={submitted['state']}")
    return application_id


def sign_with_card(args, signing: dict[str, Any]) -> dict[str, str]:
    """U1–U3: the My Number Card signs the exact bytes (here: the JPKI simulation's card file)."""
    if not args.card:
        raise SystemExit("this user must sign with their My Number Card: give --card and --pin")
    from zairyu.jpki.cardfile import CardFile  # the card reader of the simulation

    card = CardFile.load(args.card)
    data = base64.b64decode(signing["data"])
    signature = card.sign(which="signing", pin=args.pin, data=data)
    log(f"  signed {signing['sha256'][:16]}… with card {card.card_id}")
    return {"signature": base64.b64encode(signature).decode(), "certificate": card.certificate_pem("signing")}


def follow(args, api: Api, inbox: Inbox, application_id: str) -> str:
    deadline = time.monotonic() + args.follow
    seen_events = 0
    state = ""
    while time.monotonic() < deadline:
        with inbox.arrived:
            inbox.arrived.wait(timeout=min(args.poll, max(0.1, deadline - time.monotonic())))
            events = inbox.events[seen_events:]
            seen_events = len(inbox.events)
        for event in events:
            data = event.get("data", {})
            log(
                f"WEBHOOK {event.get('type')} {data.get('application_id')} {data.get('previous_state')}→{data.get('state')}"
            )
        current = api.ok("GET", f"/api/v1/applications/{application_id}")["state"]
        if current != state:
            state = current
            log(f"STATE {state}")
        reached = state == args.until or state in FINAL_STATES
        heard = not args.until_webhook or any(e.get("data", {}).get("state") == state for e in inbox.events)
        if reached and heard:
            break
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="Zairyu's address")
    parser.add_argument("--client-id", default="zairyu-example-client")
    parser.add_argument("--client-secret", default="zairyu-example-secret")
    parser.add_argument("--card-number", required=True, help="the applicant's residence card number")
    parser.add_argument(
        "--status", required=True, help="the applicant's status of residence (catalogue code)"
    )
    parser.add_argument(
        "--answers", help="a JSON file of answers by field ID (GET /api/v1/catalogue/forms/…)"
    )
    parser.add_argument("--pdf", required=True, help="a PDF attached for each document still needed")
    parser.add_argument("--photo", required=True, help="the applicant's face photo (JPEG)")
    parser.add_argument("--card", help="U1–U3: the My Number Card file (JPKI simulation)")
    parser.add_argument("--pin", default="", help="the card's signing PIN")
    parser.add_argument("--language", default="en", choices=["en", "ja"])
    parser.add_argument("--no-browser", action="store_true", help="print the sign-in address only")
    parser.add_argument("--consent-timeout", type=float, default=300)
    parser.add_argument("--follow", type=float, default=600, help="seconds to follow the status")
    parser.add_argument("--poll", type=float, default=5, help="seconds between status polls")
    parser.add_argument(
        "--until", default="under_review", help="stop when the application reaches this state"
    )
    parser.add_argument("--until-webhook", action="store_true", help="…and its webhook has arrived")
    args = parser.parse_args(argv)

    api = Api(args.base, args.language)
    inbox = Inbox()
    server = make_server(inbox)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    local = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        hook = api.ok(
            "PUT",
            "/api/v1/client/webhook",
            {"url": f"{local}/webhook"},
            headers={"Authorization": basic(args.client_id, args.client_secret)},
        )
        inbox.webhook_secret = hook["secret"]
        log(f"WEBHOOK registered {local}/webhook")
        authorise(args, api, inbox, f"{local}/callback")
        application_id = file_application(args, api)
        state = follow(args, api, inbox, application_id)
        log(f"DONE {application_id} {state}")
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
