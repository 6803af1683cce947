"""Print, write or check the committed OpenAPI document of the API (``docs/api/openapi.json``).

The document is generated from the code; the committed copy makes every change to the API's
contract a visible change in review, and CI fails when the two differ (``--check``). It is
generated in English (the language of the descriptions; the served document follows
``Accept-Language``), with sorted keys so that the diff shows what changed and nothing else.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

COMMITTED = Path(settings.REPO_DIR) / "docs" / "api" / "openapi.json"
DIFF_LINES_SHOWN = 60


def openapi_document() -> dict:
    """The OpenAPI document as plain JSON data (lazy strings rendered in English)."""
    from ninja.responses import NinjaJSONEncoder

    from zairyu.api.api import api

    with translation.override("en"):
        return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def openapi_text() -> str:
    return json.dumps(openapi_document(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def openapi_diff(committed: str, generated: str, *, path: str) -> list[str]:
    return list(
        difflib.unified_diff(
            committed.splitlines(),
            generated.splitlines(),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (generated from the code)",
            lineterm="",
        )
    )


class Command(BaseCommand):
    help = (
        "Print the API's OpenAPI document; --write writes docs/api/openapi.json, --check fails when "
        "the committed copy differs from the code."
    )

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", action="store_true", help="write the committed copy")
        group.add_argument("--check", action="store_true", help="exit 1 when the committed copy differs")
        parser.add_argument(
            "--path", default=str(COMMITTED), help="the committed copy (default: %(default)s)"
        )

    def handle(self, *args, **options):
        generated = openapi_text()
        path = Path(options["path"])
        if options["write"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated, encoding="utf-8")
            operations = sum(len(item) for item in json.loads(generated)["paths"].values())
            self.stdout.write(f"Wrote {path} ({operations} operations).")
            return
        if options["check"]:
            committed = path.read_text(encoding="utf-8") if path.exists() else ""
            if committed == generated:
                self.stdout.write(f"{path} matches the code.")
                return
            diff = openapi_diff(committed, generated, path=path.name)
            changed = sum(1 for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
            shown = diff[:DIFF_LINES_SHOWN]
            if len(diff) > len(shown):
                shown.append(f"… {len(diff) - len(shown)} more diff lines")
            self.stderr.write("\n".join(shown))
            raise CommandError(
                f"{path} differs from the API in the code ({changed} lines changed): "
                "run `manage.py api_schema --write` and commit the result.",
                returncode=1,
            )
        self.stdout.write(generated, ending="")
