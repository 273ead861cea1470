"""Admin registrations of the case-work app: the audit log read-only; users and groups for
the operator's superuser only (admins manage people on Calma's People page)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from crisis.admin_site import ReadOnlyCalmaAdmin
from crisis.models import AuditEvent
from crisis.roles import Perm


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyCalmaAdmin):
    view_permission = Perm.VIEW_AUDIT_LOG
    list_display = ("occurred_at", "actor_label", "verb", "object_type", "object_repr")
    list_filter = ("verb", "object_type")
    search_fields = ("actor_label", "verb", "object_repr", "object_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]


class SuperuserOnly:
    """Roles and accounts change through the People page (audited); here only the operator."""

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)


class OperatorUserAdmin(SuperuserOnly, UserAdmin):
    pass


class OperatorGroupAdmin(SuperuserOnly, GroupAdmin):
    pass


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), OperatorUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, OperatorGroupAdmin)
