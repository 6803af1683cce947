"""A local HTTP bridge between a web page and the simulated card, like the real JPKI client software.

The real flow: the web page asks software on the resident's own machine to have the card sign a
challenge. This bridge plays that software. It listens on 127.0.0.1 only and answers::

    GET  /status  → {"card_id": …, "certificates": {"signing": {…}, "auth": {…}}}
    POST /sign    {"challenge": HEX, "cert": "signing"|"auth", "pin": "…"}
                  → {"certificate": PEM, "signature": BASE64}

Errors are JSON ``{"error": CODE, "message": …}`` with a 4xx status: ``bad_request`` (400, with
``field`` when one field is at fault), ``wrong_pin`` (403, with ``remaining``), ``card_locked``
(423), ``origin_not_allowed`` (403), ``payload_too_large`` (413), ``not_found`` (404),
``method_not_allowed`` (405); ``card_unavailable`` (503) when the card file cannot be read.

Why the defences, given that it only listens on loopback: any web site the resident visits can
make the browser send requests to 127.0.0.1. So the bridge

* answers CORS (``Access-Control-Allow-Origin``) only for the configured origins, and refuses
  outright any request whose ``Origin`` is another site — otherwise a hostile page could burn
  the PIN tries with blind "simple" POSTs and lock the card;
* requires ``Content-Type: application/json`` on POST, which forces the browser to preflight;
* checks the ``Host`` header, so a DNS-rebinding page (same-origin to the browser, so no
  ``Origin`` header on GET) cannot read the card id;
* caps the body at 16 KB and the challenge at 1 KB, and never logs bodies (they hold the PIN).

Requests without an ``Origin`` header (curl, scripts, tests) are served: a local process could
read the card file directly anyway.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zairyu.jpki.cardfile import CardFile, CardFileError, CardLocked, InvalidPinFormat, WrongPin
from zairyu.jpki.client import BadChallenge, card_status, parse_challenge, sign_challenge
from zairyu.jpki.profile import PURPOSES

logger = logging.getLogger("zairyu.jpki.bridge")

DEFAULT_PORT = 8765
DEFAULT_ALLOWED_ORIGINS: tuple[str, ...] = ("http://127.0.0.1:8000", "http://localhost:8000")
#: Host names that mean "this computer": an origin on one is also allowed on the other.
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
#: The loopback address, the only one the bridge ever binds to.
BIND_ADDRESS = "127.0.0.1"
MAX_BODY_BYTES = 16 * 1024
#: How much of an oversized body we read and discard before closing, so the client gets our
#: 413 instead of a connection reset.
_DRAIN_LIMIT = 1024 * 1024


def normalize_origin(origin: str) -> str:
    """Reduce an origin to ``scheme://host[:port]`` and check that it is one (no path, no query)."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"{origin!r} is not a web origin: write it as http(s)://host[:port].")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{origin!r} is not a web origin: write it as http(s)://host[:port].")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _loopback_twins(origin: str) -> list[str]:
    """``origin`` and, when its host is 127.0.0.1 or localhost, the same origin on the other one."""
    parts = urlsplit(origin)
    if parts.hostname not in _LOOPBACK_HOSTS:
        return [origin]
    port = f":{parts.port}" if parts.port else ""
    return [f"{parts.scheme}://{host}{port}" for host in _LOOPBACK_HOSTS]


def default_allowed_origins(environ: Mapping[str, str] | None = None) -> list[str]:
    """The origins of the Zairyu server that started the bridge, from its environment.

    ``ZAIRYU_SITE_URL`` (its origin) and ``PORT`` (``http://127.0.0.1:PORT`` and
    ``http://localhost:PORT``), as ``make run`` sets them; neither set: the port-8000 defaults.
    """
    environ = os.environ if environ is None else environ
    origins: list[str] = []
    site_url = (environ.get("ZAIRYU_SITE_URL") or "").strip()
    if site_url:
        parts = urlsplit(site_url)
        origins += _loopback_twins(normalize_origin(f"{parts.scheme}://{parts.netloc}"))
    port = (environ.get("PORT") or "").strip()
    if port.isdigit():
        origins += _loopback_twins(f"http://127.0.0.1:{int(port)}")
    return list(dict.fromkeys(origins)) or list(DEFAULT_ALLOWED_ORIGINS)


def bridge_command(site_url: str, *, python: str = ".venv/bin/python", card: str = "CARD_FILE") -> str:
    """The command that starts a bridge a page of ``site_url`` may use (printed in banners)."""
    parts = urlsplit(site_url)
    origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    return f"{python} -m zairyu.jpki.card bridge --card {card} --allow-origin {origin}"


class BridgeServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its card file, allowed origins, and serialises card access."""

    daemon_threads = True

    def __init__(self, card_path: Path, port: int, allowed_origins: Iterable[str]) -> None:
        self.card_path = card_path
        self.allowed_origins = frozenset(normalize_origin(origin) for origin in allowed_origins)
        # One PIN attempt at a time: two concurrent wrong PINs must both be counted.
        self.card_lock = threading.Lock()
        super().__init__((BIND_ADDRESS, port), BridgeRequestHandler)

    @property
    def port(self) -> int:
        """The port actually bound (useful when started with port 0)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """The base URL a page calls."""
        return f"http://{BIND_ADDRESS}:{self.port}"


class BridgeRequestHandler(BaseHTTPRequestHandler):
    """Serves ``/status`` and ``/sign`` for one card; see the module docstring for the protocol."""

    server: BridgeServer
    server_version = "ZairyuJPKIBridge/1"
    timeout = 10  # seconds a client may take to send its request

    def version_string(self) -> str:
        """The Server header: our name only, not the Python version."""
        return self.server_version

    # --- logging: request line and status only, never bodies (they carry the PIN) -------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's parameter name
        logger.info("%s " + format, self.client_address[0], *args)

    # --- dispatch -----------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's method naming
        """CORS preflight: say yes, with Private Network Access, only to an allowed origin."""
        if not self._host_ok():
            return
        origin = self.headers.get("Origin")
        if origin is None or not self._origin_allowed(origin):
            self._send_error(HTTPStatus.FORBIDDEN, "origin_not_allowed", "This origin may not use the card.")
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._send_cors_headers(origin, preflight=True)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server's method naming
        if not self._request_ok():
            return
        if self._path() != "/status":
            self._send_error(
                HTTPStatus.NOT_FOUND, "not_found", "Unknown path: use GET /status or POST /sign."
            )
            return
        with self.server.card_lock:
            try:
                card = CardFile.load(self.server.card_path)
            except CardFileError as exc:
                self._send_error(HTTPStatus.SERVICE_UNAVAILABLE, "card_unavailable", str(exc))
                return
            self._send_json(HTTPStatus.OK, card_status(card))

    def do_POST(self) -> None:  # noqa: N802 - http.server's method naming
        if not self._request_ok():
            return
        if self._path() != "/sign":
            self._send_error(
                HTTPStatus.NOT_FOUND, "not_found", "Unknown path: use GET /status or POST /sign."
            )
            return
        payload = self._read_json()
        if payload is None:
            return
        try:
            challenge = parse_challenge(payload.get("challenge"))
        except BadChallenge as exc:
            self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", str(exc), field="challenge")
            return
        which = payload.get("cert")
        if which not in PURPOSES:
            self._send_error(
                HTTPStatus.BAD_REQUEST, "bad_request", "cert must be 'signing' or 'auth'.", field="cert"
            )
            return
        pin = payload.get("pin")
        if not isinstance(pin, str) or not pin:
            self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", "pin is required.", field="pin")
            return
        with self.server.card_lock:
            try:
                card = CardFile.load(self.server.card_path)
                result = sign_challenge(card, which=which, pin=pin, challenge=challenge)
            except InvalidPinFormat as exc:
                self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", str(exc), field="pin")
            except WrongPin as exc:
                self._send_error(HTTPStatus.FORBIDDEN, "wrong_pin", str(exc), remaining=exc.remaining)
            except CardLocked as exc:
                self._send_error(HTTPStatus.LOCKED, "card_locked", str(exc))
            except CardFileError as exc:
                self._send_error(HTTPStatus.SERVICE_UNAVAILABLE, "card_unavailable", str(exc))
            else:
                logger.info("signed a %d-byte challenge with the %s certificate", len(challenge), which)
                self._send_json(HTTPStatus.OK, result)

    def _method_not_allowed(self) -> None:
        if self._request_ok():
            self._send_error(
                HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Use GET /status or POST /sign."
            )

    do_PUT = do_DELETE = do_PATCH = _method_not_allowed  # noqa: N815 - http.server's method naming

    # --- checks -------------------------------------------------------------------------------------

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _host_ok(self) -> bool:
        """Refuse a Host other than our own loopback name: the defence against DNS rebinding."""
        host = (self.headers.get("Host") or "").strip().lower()
        allowed = {f"{name}:{self.server.port}" for name in (BIND_ADDRESS, "localhost")}
        if host in allowed or (self.server.port == 80 and host in {BIND_ADDRESS, "localhost"}):
            return True
        self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", "Unexpected Host header.", field="host")
        return False

    def _origin_allowed(self, origin: str) -> bool:
        try:
            return normalize_origin(origin) in self.server.allowed_origins
        except ValueError:
            return False

    def _request_ok(self) -> bool:
        """Host check, then: a browser request from another site is refused before it touches the card."""
        if not self._host_ok():
            return False
        origin = self.headers.get("Origin")
        if origin is not None and not self._origin_allowed(origin):
            self._send_error(HTTPStatus.FORBIDDEN, "origin_not_allowed", "This origin may not use the card.")
            return False
        return True

    def _read_json(self) -> dict[str, Any] | None:
        """Read a bounded JSON object body; on any problem answer the error and return ``None``."""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._send_error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "bad_request", "Send the request as application/json."
            )
            return None
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            self._send_error(HTTPStatus.LENGTH_REQUIRED, "bad_request", "Content-Length is required.")
            return None
        try:
            length = int(raw_length)
            if length < 0:
                raise ValueError
        except ValueError:
            self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", "Content-Length is not a number.")
            return None
        if length > MAX_BODY_BYTES:
            self._send_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "payload_too_large",
                f"The request body is limited to {MAX_BODY_BYTES} bytes.",
            )
            self._drain(length)
            return None
        body = self.rfile.read(length)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", "The body is not valid UTF-8 JSON.")
            return None
        if not isinstance(payload, dict):
            self._send_error(HTTPStatus.BAD_REQUEST, "bad_request", "The body must be a JSON object.")
            return None
        return payload

    def _drain(self, length: int) -> None:
        remaining = min(length, _DRAIN_LIMIT)
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 64 * 1024))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass
        self.close_connection = True

    # --- responses ----------------------------------------------------------------------------------

    def _send_cors_headers(self, origin: str | None, *, preflight: bool = False) -> None:
        if origin is not None and self._origin_allowed(origin):
            self.send_header("Access-Control-Allow-Origin", origin)
            if preflight:
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.send_header("Access-Control-Allow-Private-Network", "true")
                self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")

    def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self._send_cors_headers(self.headers.get("Origin"))
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, status: HTTPStatus, code: str, message: str, **extra: Any) -> None:
        self._send_json(status, {"error": code, "message": message, **extra})


def make_bridge_server(
    card_path: str | Path,
    port: int = DEFAULT_PORT,
    allowed_origins: Iterable[str] = DEFAULT_ALLOWED_ORIGINS,
) -> ThreadingHTTPServer:
    """Bind a bridge for ``card_path`` on 127.0.0.1:``port`` (0 = any free port); call ``serve_forever``.

    The card file is re-read on every request, so PIN counters written by the CLI are respected.
    """
    card_path = Path(card_path)
    CardFile.load(card_path)  # fail now, with a clear message, rather than on the first request
    return BridgeServer(card_path, port, allowed_origins)
