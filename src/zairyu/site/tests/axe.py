"""axe-core in a Playwright page: what the accessibility checks of the walk (``scripts/walk.py``)
and of the browser tests ask. axe-core's own script comes with the development package
``axe-playwright-python`` (its ``axe.min.js``); only development and CI install it.

The rules run are WCAG 2.1 A and AA and axe's best practices (landmarks, heading order, one
main region): what a screen-reader user meets first. A page fails on a *serious* or *critical*
violation; *moderate* and *minor* ones are reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import axe_playwright_python

AXE_SCRIPT = Path(axe_playwright_python.__file__).with_name("axe.min.js")
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
FAILING = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]  # CSS selectors of the first few elements

    @property
    def fails(self) -> bool:
        return self.impact in FAILING

    def __str__(self) -> str:
        where = ", ".join(self.targets[:3])
        return f"{self.impact}: {self.rule} — {self.help} ({len(self.targets)}×: {where})"


def axe_violations(page: Any) -> list[Violation]:
    """The violations axe-core finds in the page as it is now. The page's context needs
    ``bypass_csp=True``: the site's Content Security Policy refuses injected scripts."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        list(TAGS),
    )
    return [
        Violation(
            rule=v["id"],
            impact=v.get("impact") or "minor",
            help=v["help"],
            targets=tuple(" ".join(map(str, n["target"])) for n in v["nodes"]),
        )
        for v in result["violations"]
    ]


def overflows_horizontally(page: Any) -> bool:
    """True when the page is wider than its window (a phone user would scroll sideways)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1"))
