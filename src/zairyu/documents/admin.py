from django.contrib import admin

from zairyu.documents.models import StoredDocument


@admin.register(StoredDocument)
class StoredDocumentAdmin(admin.ModelAdmin):
    """Read-only, and without personal data: no file names, no owners' names, no way to open a file.

    Files are seen only through the applications and organizations screens, which check access.
    """

    list_display = ("id", "kind", "document_type", "size", "scan_state", "created_at", "deleted_at")
    list_filter = ("kind", "scan_state", "document_type", "created_at")
    search_fields = ("=id", "=sha256")
    ordering = ("-created_at",)
    fields = (
        "id",
        "owner_id",
        "kind",
        "document_type",
        "content_type",
        "size",
        "sha256",
        "page_count",
        "width",
        "height",
        "photo_taken_within_6_months",
        "scan_state",
        "scanned_at",
        "scan_signature",
        "created_at",
        "deleted_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
