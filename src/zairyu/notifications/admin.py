from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zairyu.notifications.models import OutboundEmail
from zairyu.notifications.services import outbox_requeue


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "state", "attempts", "created_at", "sent_at", "language")
    list_filter = ("state", "kind", "language")
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["requeue"]

    def has_add_permission(self, request):  # e-mails are written by services only
        return False

    @admin.action(description=_("Queue the selected failed e-mails again"))
    def requeue(self, request, queryset):
        for email_id in queryset.values_list("pk", flat=True):
            outbox_requeue(email_id=email_id)
