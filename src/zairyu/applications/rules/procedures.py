"""Procedure codes as the rules use them (the catalogue's ``P1``–``P7``)."""

from __future__ import annotations

from zairyu.catalogue import get_catalogue

COE = "P1"
CHANGE = "P2"
EXTENSION = "P3"
ACQUISITION = "P4"
EMPLOYMENT_CERTIFICATE = "P5"
REENTRY = "P6"
ACTIVITY_PERMISSION = "P7"

# Procedures whose result is a residence card (or, for short periods and status Official, a
# stamp in the passport).
CARD_PROCEDURES = frozenset({CHANGE, EXTENSION, ACQUISITION})


def procedure_code(value: str) -> str:
    """``"P3"`` or the catalogue key ``"extension"`` → ``"P3"``. Raises ``KeyError`` for a
    procedure that is not in the catalogue: that is a programming error, not a user's."""
    procedures = get_catalogue().procedures
    if value in procedures:
        return value
    for code, procedure in procedures.items():
        if procedure.key == value:
            return code
    raise KeyError(f"unknown procedure: {value!r}")
