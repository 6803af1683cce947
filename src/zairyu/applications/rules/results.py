"""The result type the rules share.

A :class:`Problem` names what is wrong and what to do instead. ``severity`` says whether it
stops the application (``block``) or only informs (``warning``); ``field`` names the input it
concerns (``None`` for the application as a whole); ``data`` holds the values a template or the
API needs (dates as :class:`datetime.date`, codes as strings) so they need not be parsed out of
the message.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.functional import Promise, lazy

from zairyu.catalogue.loader import Localized


class Severity(enum.StrEnum):
    BLOCK = "block"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True)
class Problem:
    code: str
    message: Promise | str | Localized  # a catalogue text follows the active language too
    severity: Severity = Severity.BLOCK
    field: str | None = None
    # ``dataclasses.field`` in full: the attribute ``field`` above shadows the name in this body.
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        return self.severity == Severity.BLOCK


def has_blocking(problems: Iterable[Problem]) -> bool:
    """Whether any of ``problems`` stops the application."""
    return any(problem.blocks for problem in problems)


def _interpolate(template: Promise | str, params: Mapping[str, Any]) -> str:
    return str(template) % {key: str(value) for key, value in params.items()}


_interpolate_lazy = lazy(_interpolate, str)


def format_message(template: Promise | str, **params: Any) -> Promise:
    """``template % params``, evaluated when rendered, so that the text (and any localized
    value in ``params``, such as an office name) follows the reader's language. The template
    keeps ``%(name)s`` placeholders, which translators know."""
    return _interpolate_lazy(template, params)
