"""System checks of the virus scanner's settings (ADR 0013): ``manage.py check [--deploy]``."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from zairyu.documents.scanning import parse_clamd_address


@checks.register(checks.Tags.security, deploy=True)
def check_scanner_in_production(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.PRODUCTION and not settings.CLAMD:
        return [
            checks.Warning(
                "No virus scanner is configured: uploaded files are stored without a malware scan.",
                hint="Set ZAIRYU_CLAMD to clamd's address, e.g. unix:///run/clamav/clamd.ctl or "
                "tcp://127.0.0.1:3310 (README, Configuration; ADR 0013).",
                id="zairyu.documents.W001",
            )
        ]
    return []


@checks.register(checks.Tags.security)
def check_scanner_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if not settings.CLAMD:
        return []
    try:
        parse_clamd_address(settings.CLAMD)
    except ValueError as exc:
        return [checks.Error(f"ZAIRYU_CLAMD is not a clamd address: {exc}", id="zairyu.documents.E001")]
    return scanner_stream_warnings(
        {
            "ZAIRYU_DOCUMENT_MAX_BYTES": settings.DOCUMENT_MAX_BYTES,
            "ZAIRYU_PHOTO_MAX_BYTES": settings.PHOTO_MAX_BYTES,
        }
    )


def scanner_stream_warnings(largest: dict[str, int]) -> list[checks.CheckMessage]:
    """A warning for each upload limit (name → bytes) above what clamd takes in one stream: such
    files could never be scanned. Apps whose uploads the scanner reads check their own limits with
    it (``bulk.system_checks``). Nothing while no scanner, or no valid address, is configured."""
    if not settings.CLAMD:
        return []
    try:
        parse_clamd_address(settings.CLAMD)
    except ValueError:
        return []  # check_scanner_settings reports it
    return [
        checks.Warning(
            f"{name} ({size} bytes) is larger than ZAIRYU_CLAMD_STREAM_MAX_BYTES "
            f"({settings.CLAMD_STREAM_MAX_BYTES}): such files could never be scanned.",
            hint="Raise clamd's StreamMaxLength and ZAIRYU_CLAMD_STREAM_MAX_BYTES together.",
            id="zairyu.documents.W002",
        )
        for name, size in largest.items()
        if size > settings.CLAMD_STREAM_MAX_BYTES
    ]
