"""Keeping personal data out of logs."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b[A-Z]{2}\d{8}[A-Z]{2}\b"), "[card-number]"),
    (re.compile(r"\b0\d{1,4}-\d{1,4}-\d{3,4}\b"), "[phone]"),
    (re.compile(r"\b\d{12,13}\b"), "[number]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalDataFilter(logging.Filter):
    """Masks e-mail addresses, residence-card numbers, phone numbers and 12–13 digit numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not break the request  # noqa: BLE001
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
