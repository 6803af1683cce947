"""System checks of bulk filing's settings: ``manage.py check``."""

from __future__ import annotations

from django.core import checks

from zairyu.bulk.constants import limit
from zairyu.documents.system_checks import scanner_stream_warnings


@checks.register(checks.Tags.security)
def check_bulk_files_scannable(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The virus scanner reads every bulk file too: the bulk file limit must fit in its stream."""
    return scanner_stream_warnings({"the bulk file limit (BULK_MAX_FILE_BYTES)": limit("MAX_FILE_BYTES")})
