"""The one shape of a refusal.

Every service refuses by raising :class:`Refused` (or a subclass naming its domain, so a caller may
catch only that domain's refusals): ``code`` is stable (tests, the audit trail, the API's problem
type), ``message`` is for the person, in their language (lazy, translatable), ``errors`` maps form
fields to messages when the input is at fault, ``problems`` holds the rule results behind it
(``applications.rules.results.Problem``) where the refusal comes from rules. The web views show
``message`` (and ``errors`` beside the fields), the API answers with a problem document built from
the same attributes, bulk writes them into the row's error list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Message(Protocol):
    """A text for the person: ``str()`` gives it in the active language (a lazy translation, a
    catalogue text in Japanese and English, or plain text)."""

    def __str__(self) -> str: ...


class Refused(Exception):
    """The action cannot be done now; nothing was changed."""

    def __init__(
        self,
        code: str,
        message: Message,
        *,
        field: str | None = None,
        errors: Mapping[str, Message] | None = None,
        detail: str | None = None,
        problems: Sequence[Any] = (),
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.errors: dict[str, Message] = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, message)
        self.field = field
        self.detail = detail  # a finer reason within the code, for the API and logs (no personal data)
        self.problems = list(problems)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
