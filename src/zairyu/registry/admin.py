"""Admin for the registry. Lists show numbers, codes and dates, never names or addresses; search
is by the exact number, normalised the way the forms normalise it (``ab12345678cd`` finds
``AB12345678CD``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue import get_catalogue
from zairyu.catalogue import validators as v
from zairyu.core import clock
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident


class _PrefectureFilter(admin.SimpleListFilter):
    title = _("prefecture")
    parameter_name = "prefecture"
    field = "prefecture"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, f"{code} {p.name}") for code, p in get_catalogue().prefectures.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class _OfficePrefectureFilter(_PrefectureFilter):
    parameter_name = "office_prefecture"
    field = "office_prefecture"


class _StatusFilter(admin.SimpleListFilter):
    title = _("status of residence")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, str(entry.name)) for key, entry in get_catalogue().entries.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(status=self.value()) if self.value() else queryset


class _ExactNumberSearch(admin.ModelAdmin):  # type: ignore[type-arg]
    """Search by one exact, normalised number; a partial number finds nothing (no browsing)."""

    number_field: str = ""
    normalize_number: Callable[[object], str] = staticmethod(lambda value: str(value))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(**{self.number_field: type(self).normalize_number(search_term)}), False


@admin.register(ReceivingOrganization)
class ReceivingOrganizationAdmin(_ExactNumberSearch):
    number_field = "corporate_number"
    normalize_number = staticmethod(v.normalize_corporate_number)
    list_display = ("corporate_number", "name", "kind", "category", "prefecture")
    list_filter = ("kind", "category", _PrefectureFilter)
    search_fields = ("corporate_number",)
    search_help_text = _("Search by corporate number (13 digits).")
    readonly_fields = ("created_at", "updated_at")


@admin.register(Resident)
class ResidentAdmin(_ExactNumberSearch):
    number_field = "card_number"
    normalize_number = staticmethod(v.normalize_card_number)
    list_display = (
        "card_number",
        "status",
        "prefecture",
        "stay_expires_on",
        "card_expires_on",
        "abroad_on_reentry",
    )
    list_filter = (_StatusFilter, _PrefectureFilter, "abroad_on_reentry")
    search_fields = ("card_number",)
    search_help_text = _("Search by residence card number (e.g. AB12345678CD).")
    raw_id_fields = ("affiliation",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False


@admin.register(AgentCertificate)
class AgentCertificateAdmin(_ExactNumberSearch):
    number_field = "number"
    normalize_number = staticmethod(v.normalize_agent_certificate_number)
    list_display = ("number", "holder_kind", "office_prefecture", "issued_on", "expires_on", "valid_today")
    list_filter = ("holder_kind", _OfficePrefectureFilter)
    search_fields = ("number",)
    search_help_text = _("Search by certificate number (12 digits).")
    raw_id_fields = ("organization", "renewed_to")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(boolean=True, description=_("valid today"))
    def valid_today(self, obj: AgentCertificate) -> bool:
        return obj.is_valid_on(clock.today())
