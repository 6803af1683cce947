"""Read-only admin views of the organizations domain, for administrators. Decisions are taken in
the officers' portal (/staff/organizations/), which checks the office and writes the audit trail;
here nothing can be changed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zairyu.organizations.models import (
    ChangeNotification,
    Enrolment,
    Mandate,
    PeriodicReport,
    StaffMembership,
    UsageApplication,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageApplication)
class UsageApplicationAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "office", "state", "submitted_at", "decided_at")
    list_filter = ("office", "state", "kind")


@admin.register(PeriodicReport)
class PeriodicReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "office", "state", "expiry_at_filing", "new_valid_until", "submitted_at")
    list_filter = ("office", "state")


@admin.register(ChangeNotification)
class ChangeNotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "office", "state", "submitted_at")
    list_filter = ("office", "state", "kind")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("id", "office", "valid_until", "category_3_as_2", "approved_at")
    list_filter = ("office",)


@admin.register(StaffMembership)
class StaffMembershipAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "ended_at", "end_reason")
    list_filter = ("end_reason",)


@admin.register(Mandate)
class MandateAdmin(ReadOnlyAdmin):
    list_display = ("id", "state", "created_at", "activated_at", "ended_at")
    list_filter = ("state",)
