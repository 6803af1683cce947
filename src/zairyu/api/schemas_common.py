"""Schemas shared by the API's routers: the pagination envelope, and a strict date.

A list operation takes ``page`` (from 1) and ``page_size`` and answers ``{"items": [...], "meta":
{page, page_size, total, pages}}``; each list declares its own ``Page`` subclass so that the
OpenAPI document names the item type (``class BulkImportPage(Page[BulkImportSummary])``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from ninja import Field, Query, Schema
from pydantic import BeforeValidator, StrictBool
from pydantic_core import PydanticCustomError

from zairyu.api.problems import ApiError

T = TypeVar("T")

PAGE_SIZE_DEFAULT = 25
PAGE_MAX = 100_000
"""The last page a list operation can be asked for (as the applications list): beyond it the
offset no longer fits the database's integers."""


def page_query(default: int = 1) -> Any:
    """The ``page`` query parameter: 1..``PAGE_MAX``, declared so in the OpenAPI document."""
    return Query(default, ge=1, le=PAGE_MAX, description=f"The page, from 1 (at most {PAGE_MAX}).")


def page_size_query(default: int = PAGE_SIZE_DEFAULT) -> Any:
    """The ``page_size`` query parameter: 1..``settings.API_PAGE_SIZE_MAX``."""
    maximum = settings.API_PAGE_SIZE_MAX
    return Query(default, ge=1, le=maximum, description=f"Items per page, 1 to {maximum}.")


class PageQuery(Schema):
    """``page`` and ``page_size`` of a list operation's query (subclass it to add filters)."""

    page: int = Field(1, ge=1, le=PAGE_MAX, description=f"The page, from 1 (at most {PAGE_MAX}).")
    page_size: int = Field(
        PAGE_SIZE_DEFAULT,
        ge=1,
        le=settings.API_PAGE_SIZE_MAX,
        description=f"Items per page, 1 to {settings.API_PAGE_SIZE_MAX}.",
    )


class PageMeta(Schema):
    """Where this page is in the list."""

    page: int = Field(..., description="This page's number, from 1.")
    page_size: int = Field(..., description="At most this many items per page.")
    total: int = Field(..., description="How many items the whole list has.")
    pages: int = Field(..., description="How many pages the whole list has (0 if it is empty).")


class Page(Schema, Generic[T]):
    """One page of a list."""

    items: list[T] = Field(..., description="The items of this page, in the list's order.")
    meta: PageMeta = Field(..., description="Where this page is in the list.")


def paginate(queryset: QuerySet | list[Any], page: int = 1, page_size: int = PAGE_SIZE_DEFAULT):
    """``(items, meta)`` for one page of ``queryset`` (ordered by the caller). A page past the end
    is empty; ``page < 1`` or a ``page_size`` outside 1..``settings.API_PAGE_SIZE_MAX`` is a 422
    problem naming the parameter."""
    from django.utils.translation import gettext as _

    page_size_max = settings.API_PAGE_SIZE_MAX
    errors = []
    if page < 1:
        errors.append({"parameter": "page", "code": "greater_than_equal", "detail": _("Pages start at 1.")})
    if page_size < 1 or page_size > page_size_max:
        errors.append(
            {
                "parameter": "page_size",
                "code": "page_size",
                "detail": _("Give a page size from 1 to %(max)d.") % {"max": page_size_max},
            }
        )
    if errors:
        raise ApiError(422, "validation", errors=errors)
    total = queryset.count() if isinstance(queryset, QuerySet) else len(queryset)
    start = (page - 1) * page_size
    items = list(queryset[start : start + page_size])
    meta = PageMeta(page=page, page_size=page_size, total=total, pages=math.ceil(total / page_size))
    return items, meta


_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE_RE.fullmatch(value)):
        return value
    raise PydanticCustomError("date_parsing", "Input should be a date as YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A date given as ``YYYY-MM-DD`` and nothing else: pydantic alone would also take a number (as a
Unix time), which the OpenAPI document (``format: date``) does not allow."""


_ISO_DATETIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATETIME_RE.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "datetime_parsing", "Input should be a date and time as YYYY-MM-DDTHH:MM:SS±HH:MM"
    )


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime)]
"""A date and time given as an RFC 3339 / ISO 8601 string (``2025-04-01T09:00:00+09:00``) and
nothing else: pydantic alone would also take a number (as a Unix time)."""

__all__ = [
    "PAGE_MAX",
    "PAGE_SIZE_DEFAULT",
    "IsoDate",
    "IsoDateTime",
    "Page",
    "PageMeta",
    "PageQuery",
    "StrictBool",
    "page_query",
    "page_size_query",
    "paginate",
]
