"""``python -m zairyu.jpki.card``: the resident's side of the simulated JPKI — sign, inspect, bridge.

Usage::

    python -m zairyu.jpki.card sign   --card FILE --cert {signing,auth} --challenge HEX [--pin PIN]
    python -m zairyu.jpki.card info   --card FILE [--json]
    python -m zairyu.jpki.card bridge --card FILE [--port 8765] [--allow-origin ORIGIN ...]
    python -m zairyu.jpki.card unlock --card FILE --cert {signing,auth}

``sign`` prints ``{"certificate": PEM, "signature": BASE64}``. The PIN is asked for without echo;
scripts may pass ``--pin`` or set ``ZAIRYU_CARD_PIN`` (both are visible to other local users —
demo only). ``bridge`` runs the local HTTP server a web page talks to (see
:mod:`zairyu.jpki.bridge`). ``unlock`` resets a locked PIN counter, standing in for the
municipal office.

Exit status: 0 success, 1 card file unusable, 2 bad input, 3 wrong PIN, 4 card locked.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from zairyu.jpki.bridge import (
    DEFAULT_PORT,
    default_allowed_origins,
    make_bridge_server,
    normalize_origin,
)
from zairyu.jpki.cardfile import (
    PURPOSE_LABELS,
    CardFile,
    CardFileError,
    CardLocked,
    InvalidPinFormat,
    WrongPin,
)
from zairyu.jpki.client import BadChallenge, parse_challenge, sign_challenge
from zairyu.jpki.profile import PURPOSES, four_items_of

__all__ = ["main", "make_bridge_server"]

PIN_ENV_VAR = "ZAIRYU_CARD_PIN"

EXIT_OK, EXIT_CARD, EXIT_INPUT, EXIT_WRONG_PIN, EXIT_LOCKED = 0, 1, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zairyu.jpki.card",
        description="A simulated My Number Card (JPKI) for the Zairyu demo.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    sign = commands.add_parser(
        "sign", help="sign a server challenge; prints certificate and signature as JSON"
    )
    sign.add_argument("--card", type=Path, required=True, help="the card file (<card_id>.card.json)")
    sign.add_argument("--cert", choices=PURPOSES, required=True, help="signing (register) or auth (log in)")
    sign.add_argument("--challenge", required=True, help="the server's challenge, in hex")
    sign.add_argument(
        "--pin",
        help=f"the PIN (visible in the process list: for scripts only; also read from ${PIN_ENV_VAR})",
    )

    info = commands.add_parser("info", help="show the card id, certificate validity and the four items")
    info.add_argument("--card", type=Path, required=True)
    info.add_argument("--json", action="store_true", help="print JSON instead of text")

    bridge = commands.add_parser("bridge", help="serve the card to web pages on 127.0.0.1")
    bridge.add_argument("--card", type=Path, required=True)
    bridge.add_argument("--port", type=int, default=DEFAULT_PORT)
    bridge.add_argument(
        "--allow-origin",
        action="append",
        dest="allow_origins",
        metavar="ORIGIN",
        help=(
            "a web origin allowed to use the card (repeatable; default: the Zairyu server's, from "
            f"$ZAIRYU_SITE_URL and $PORT, now {', '.join(default_allowed_origins())})"
        ),
    )

    unlock = commands.add_parser("unlock", help="reset a locked PIN counter (the municipal office's job)")
    unlock.add_argument("--card", type=Path, required=True)
    unlock.add_argument("--cert", choices=PURPOSES, required=True)
    return parser


def _read_pin(args: argparse.Namespace) -> str:
    if args.pin is not None:
        return str(args.pin)
    from_env = os.environ.get(PIN_ENV_VAR)
    if from_env:
        return from_env
    return getpass.getpass(f"PIN for the {PURPOSE_LABELS[args.cert]}: ")


def _command_sign(args: argparse.Namespace) -> int:
    try:
        challenge = parse_challenge(args.challenge)
    except BadChallenge as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    card = CardFile.load(args.card)
    if card.is_locked(args.cert):
        raise CardLocked(args.cert)  # say so before asking for a PIN that cannot help
    pin = _read_pin(args)
    try:
        result = sign_challenge(card, which=args.cert, pin=pin, challenge=challenge)
    except InvalidPinFormat as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(json.dumps(result, indent=2))
    return EXIT_OK


def _command_info(args: argparse.Namespace) -> int:
    card = CardFile.load(args.card)
    signing = card.certificate("signing")
    items = four_items_of(signing)
    summary = {
        "card_id": card.card_id,
        "issuer": card.issuer,
        "certificates": {
            which: {
                "serial": format(card.certificate(which).serial_number, "X"),
                "not_before": card.certificate(which).not_valid_before_utc.isoformat(),
                "not_after": card.certificate(which).not_valid_after_utc.isoformat(),
                "locked": card.is_locked(which),
                "remaining_tries": card.remaining_tries(which),
            }
            for which in PURPOSES
        },
        "four_items": items.to_json_dict() if items else None,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"Card id:  {card.card_id}")
    print(f"Issuer:   {card.issuer}")
    for which in PURPOSES:
        entry = summary["certificates"][which]
        state = "LOCKED" if entry["locked"] else f"{entry['remaining_tries']} PIN tries left"
        print(f"{PURPOSE_LABELS[which]}:")
        print(f"  serial {entry['serial']}, valid {entry['not_before']} to {entry['not_after']} ({state})")
    if items:
        sex = {"M": "male", "F": "female"}[items.sex]
        print("Basic four items (from the signing certificate):")
        print(f"  Name:          {items.name}")
        print(f"  Sex:           {sex}")
        print(f"  Date of birth: {items.date_of_birth.isoformat()}")
        print(f"  Address:       {items.address}")
    return EXIT_OK


def _command_bridge(args: argparse.Namespace) -> int:
    try:
        origins = [normalize_origin(origin) for origin in (args.allow_origins or default_allowed_origins())]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    server = make_bridge_server(args.card, args.port, origins)
    address = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        f"JPKI bridge for {args.card} on {address} (allowed origins: {', '.join(origins)})", file=sys.stderr
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopping the bridge.", file=sys.stderr)
    finally:
        server.server_close()
    return EXIT_OK


def _command_unlock(args: argparse.Namespace) -> int:
    card = CardFile.load(args.card)
    card.unlock(args.cert)
    print(f"The {PURPOSE_LABELS[args.cert]} PIN counter of card {card.card_id} was reset.")
    return EXIT_OK


_COMMANDS = {
    "sign": _command_sign,
    "info": _command_info,
    "bridge": _command_bridge,
    "unlock": _command_unlock,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; card problems become a one-line message and a distinct exit status."""
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except WrongPin as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_WRONG_PIN
    except CardLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except CardFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CARD
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CARD


if __name__ == "__main__":
    sys.exit(main())
