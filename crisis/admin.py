"""Admin registrations of the case-work app. The audit log is read-only here."""

from django.contrib import admin

from crisis.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "actor_label", "verb", "object_type", "object_repr")
    list_filter = ("verb", "object_type")
    search_fields = ("actor_label", "verb", "object_repr", "object_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
