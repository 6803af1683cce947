#!/usr/bin/env python
"""The walk: every page a person reaches, as each kind of demo user, in Chromium on a desktop
and on a phone, with screenshots and axe-core's accessibility check.

    .venv/bin/python scripts/walk.py [--port 8123] [--out var/walk] [--as DEMOSCRIV001 …]
    .venv/bin/python scripts/walk.py --url http://127.0.0.1:8123 --data-dir DIR   # a running server

1. Without ``--url``, starts the system as a newcomer does, ``make run`` (on ``--port``, never
   8000, with its data in a fresh temporary folder: demo data and accounts loaded), and waits
   for ``/healthz``.
2. For a visitor who is not signed in, then for each demo account (officers, a scrivener, the
   staff of a company, a school and a support organization), signs in through the sign-in pages
   (ID, password, the authenticator code that ``manage.py demo_totp`` prints) and follows every
   link of the site from the account's home page, breadth first: each page is a GET, which
   never changes anything (``bulk/tests/test_reads_only.py``). Sign-out, the admin, the API and
   files (PDF, spreadsheets) are not followed; a kind of page (its path with the numbers and IDs
   taken out) is visited at most ``--per-kind`` times per account.
3. For each page: a full-page screenshot at 1280×800 and at 390×844 (``OUT/<account>/``), the
   axe-core check (WCAG 2.1 A/AA and best practices, ``zairyu.site.tests.axe``), and whether the
   phone page is wider than the phone.
4. Writes ``OUT/report.md`` (every page, what axe found, the phone overflow) and prints one line
   a page and a summary; exit status 1 when a page has a serious or critical violation, a phone
   overflow or an error status.

The foreign national's account (DEMORESID001) signs in with the card program only, which a
headless walk cannot work; its pages are the scrivener's, which the walk covers.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from zairyu.site.tests.axe import Violation, axe_violations, overflows_horizontally  # noqa: E402

PYTHON = sys.executable
PASSWORD = os.environ.get("DEMO_PASSWORD", "zairyu-demo-2026")
OFFICERS = ("DEMOADMIN001", "DEMOTOKYO001", "DEMOTOKYO002")
FILERS = ("DEMOSCRIV001", "DEMOCOMPY001", "DEMOSCHOL001", "DEMOSUPPT001")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NOT_FOLLOWED = re.compile(
    r"/sign-out/|^/admin/|^/api/v1/|^/oauth/|\.(pdf|xlsx|csv|json|zip|jpg|png)$|/documents/[0-9a-f-]+/$"
    r"|/documents/\d+/$|/attachments/\d+/$|/password/set/|/email/confirm/|^/i18n/|^/jsi18n/"
)
NUMBERS = re.compile(
    r"/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9_-]{20,})(?=/|$)"
)


@dataclass
class Page:
    account: str
    path: str
    status: int
    title: str = ""
    violations: list[Violation] = field(default_factory=list)
    phone_overflow: bool = False
    shots: tuple[str, ...] = ()

    @property
    def fails(self) -> bool:
        return self.status >= 400 or self.phone_overflow or any(v.fails for v in self.violations)


def kind_of(path: str) -> str:
    """A page's kind: its path with the numbers, UUIDs and tokens taken out."""
    parsed = urlparse(path)
    return NUMBERS.sub("/<id>", parsed.path) + (
        "?" + re.sub(r"=[^&]*", "=…", parsed.query) if parsed.query else ""
    )


def slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")[:80] or "home"


# --- the server -----------------------------------------------------------------------------


def wait_for(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 (our own server)
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"walk: the server did not answer {url}/healthz within {seconds:.0f} s")


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_make_run(port: int, data_dir: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "ZAIRYU_DATA_DIR": str(data_dir)}
    return subprocess.Popen(  # noqa: S603 (our own fixed command)
        ["make", "--no-print-directory", "run"],  # noqa: S607 (make, as a person types it)
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def totp(auth_id: str, data_dir: Path) -> str:
    env = {**os.environ, "ZAIRYU_DATA_DIR": str(data_dir)}
    out = subprocess.run(  # noqa: S603 (our own fixed command)
        [PYTHON, "manage.py", "demo_totp", auth_id],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


# --- signing in and walking ------------------------------------------------------------------


def sign_in(page, site: str, auth_id: str, data_dir: Path) -> str:
    """Sign in as a person does; the home page the site then shows."""
    staff = auth_id in OFFICERS
    page.goto(f"{site}/staff/sign-in/" if staff else f"{site}/accounts/sign-in/")
    page.fill("#id_auth_id", auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/sign-in/code/$"))
    page.fill("#id_code", totp(auth_id, data_dir))
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/sign-in/" not in url)
    return urlparse(page.url).path


def links(page, site: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    found = []
    for href in hrefs:
        url, _fragment = urldefrag(urljoin(page.url, href))
        if url.startswith(site):
            path = url[len(site) :] or "/"
            if not NOT_FOLLOWED.search(urlparse(path).path):
                found.append(path)
    return found


def start_draft(page, site: str, copy_path: str) -> str | None:
    """The one step of the walk that is not a GET: start a draft by copying a filed application
    (the start page pre-fills procedure, status and card number), so that the steps of a draft
    are walked too. The draft's page, or None when the start page refuses."""
    page.goto(site + copy_path)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if page.locator("[data-action=start-anyway]").count():  # warned (an extension filed early)
        page.click("[data-action=start-anyway]")
        page.wait_for_load_state()
    path = urlparse(page.url).path
    return path if re.search(r"/applications/[0-9a-f-]{36}/", path) else None


def walk_account(context, site: str, account: str, data_dir: Path, out: Path, per_kind: int) -> list[Page]:
    page = context.new_page()
    page.set_viewport_size(DESKTOP)
    start = sign_in(page, site, account, data_dir) if account != "visitor" else "/"
    seen_kinds: dict[str, int] = {}
    queue, queued = deque([start]), {start}
    pages: list[Page] = []
    folder = out / account
    folder.mkdir(parents=True, exist_ok=True)
    drafted = False
    while queue or not drafted:
        if not queue:
            drafted = True
            copy = next((p for p in sorted(queued) if "/applications/new/?copy=" in p), None)
            draft = start_draft(page, site, copy) if copy else None
            if draft is None:
                break
            print(f"     {account:<13} started a draft by copying: {draft}", flush=True)
            queue.append(draft)
            queued.add(draft)
        path = queue.popleft()
        kind = kind_of(path)
        if seen_kinds.get(kind, 0) >= per_kind:
            continue
        seen_kinds[kind] = seen_kinds.get(kind, 0) + 1
        page.set_viewport_size(DESKTOP)
        response = page.goto(site + path)
        status = response.status if response else 0
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        result = Page(account=account, path=path, status=status, title=page.title())
        name = f"{len(pages):03d}-{slug(path)}"
        page.screenshot(path=str(folder / f"{name}-desktop.png"), full_page=True)
        result.violations = axe_violations(page)
        page.set_viewport_size(PHONE)
        result.phone_overflow = overflows_horizontally(page)
        page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
        result.shots = (f"{account}/{name}-desktop.png", f"{account}/{name}-phone.png")
        pages.append(result)
        print(line(result), flush=True)
        for link in links(page, site):
            if link not in queued:
                queued.add(link)
                queue.append(link)
    page.close()
    return pages


def line(page: Page) -> str:
    worst = sorted({v.impact for v in page.violations})
    flags = [f"HTTP {page.status}"] if page.status >= 400 else []
    flags += ["phone overflow"] if page.phone_overflow else []
    flags += [f"axe {', '.join(worst)} ({len(page.violations)})"] if page.violations else []
    return f"{'FAIL' if page.fails else 'ok  '} {page.account:<13} {page.path}  {'; '.join(flags)}"


def report(pages: list[Page], out: Path) -> Path:
    lines = ["# The walk: every page reached, as each demo user", ""]
    failing = [p for p in pages if p.fails]
    lines.append(
        f"{len(pages)} pages, {len(failing)} failing (serious or critical axe violation, phone overflow, error)."
    )
    lines.append("")
    for p in pages:
        lines.append(f"## {'FAIL' if p.fails else 'ok'} · {p.account} · `{p.path}` — {p.title}")
        lines.append(
            f"HTTP {p.status}; screenshots {p.shots[0]}, {p.shots[1]}"
            + ("; phone overflow" if p.phone_overflow else "")
        )
        lines += [f"- {v}" for v in p.violations]
        lines.append("")
    target = out / "report.md"
    target.write_text("\n".join(lines), encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start make run)")
    parser.add_argument("--data-dir", type=Path, help="its ZAIRYU_DATA_DIR (for the demo codes)")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--out", type=Path, default=REPO / "var" / "walk")
    parser.add_argument("--as", dest="accounts", nargs="*", default=["visitor", *OFFICERS, *FILERS])
    parser.add_argument("--per-kind", type=int, default=2)
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", shutil.which("chromium") or ""))
    args = parser.parse_args()
    if args.port == 8000 and not args.url:
        parser.error("walk on another port than 8000: a developer's own server may be there")
    if not args.url and port_in_use(args.port):
        parser.error(f"port {args.port} is in use: stop that server, or walk it with --url and --data-dir")

    from playwright.sync_api import sync_playwright

    server = None
    temporary = None
    if args.url:
        site, data_dir = (
            args.url.rstrip("/"),
            args.data_dir or Path(os.environ.get("ZAIRYU_DATA_DIR", REPO / "var")),
        )
    else:
        temporary = Path(tempfile.mkdtemp(prefix="zairyu-walk-"))
        data_dir, site = temporary / "data", f"http://127.0.0.1:{args.port}"
        server = start_make_run(args.port, data_dir, temporary / "make-run.log")
        print(
            f"walk: make run on port {args.port} (data in {data_dir}, log {temporary / 'make-run.log'})",
            flush=True,
        )
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    pages: list[Page] = []
    try:
        wait_for(site)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium or None)
            for account in args.accounts:
                context = browser.new_context(locale="en-US", bypass_csp=True)
                try:
                    pages += walk_account(context, site, account, data_dir, args.out, args.per_kind)
                finally:
                    context.close()
            browser.close()
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    target = report(pages, args.out)
    failing = [p for p in pages if p.fails]
    print(f"walk: {len(pages)} pages, {len(failing)} failing; report {target}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
