"""The names of the catalogue's codes in the active language, for pages that show a stored
code (a registry record's prefecture or nationality): ``{{ code|prefecture_name }}``."""

from __future__ import annotations

from django import template

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.reference import nationalities

register = template.Library()


@register.filter
def prefecture_name(code: object) -> str:
    """13 → 東京都 / Tokyo; an unknown code as it is."""
    prefecture = get_catalogue().prefectures.get(str(code or ""))
    return str(prefecture.name) if prefecture else str(code or "")


@register.filter
def nationality_name(code: object) -> str:
    """VNM → ベトナム / Viet Nam; an unknown code as it is."""
    nationality = nationalities().get(str(code or ""))
    return str(nationality.name) if nationality else str(code or "")
