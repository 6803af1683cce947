"""The one error of the organizations services: a refused action, with the message for the user."""

from __future__ import annotations


class OrganizationError(Exception):
    """A refused action. ``message`` is for the user; ``field`` names the form field it is about
    (``mandate:<row>:<field>`` for a row of mandates); ``code`` is for tests and the audit trail."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
