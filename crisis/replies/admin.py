"""Admin registrations of replies. Calma's own records are read here; the retention period of
contact details is the one setting an admin may also change here (through the same audited
service as Calma's Personal data page)."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from crisis.admin_site import ReadOnlyCalmaAdmin
from crisis.replies import private
from crisis.replies.models import Budget, RetentionSettings
from crisis.roles import Perm


# --- Private follow-ups and compensation (private/compensation slice) ---
@admin.register(RetentionSettings)
class RetentionSettingsAdmin(admin.ModelAdmin):
    list_display = ("contact_retention_days", "updated_at")
    fields = ("contact_retention_days",)

    def _allowed(self, request) -> bool:
        return request.user.is_active and request.user.has_perm(Perm.MANAGE_PEOPLE)

    def has_module_permission(self, request) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request) -> bool:
        # One row, created with the default on first use.
        return self._allowed(request) and not RetentionSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Through the service, so the change is checked and audited like on Calma's page."""
        try:
            saved = private.update_retention(
                actor=request.user,
                contact_retention_days=obj.contact_retention_days,
                now=timezone.now(),
            )
        except ValidationError as invalid:
            raise ValidationError(invalid.messages) from invalid
        obj.pk = saved.pk


@admin.register(Budget)
class BudgetAdmin(ReadOnlyCalmaAdmin):
    view_permission = Perm.MANAGE_BUDGETS
    list_display = ("name", "starts_on", "ends_on", "amount", "currency", "set_by")
    list_filter = ("currency",)
    search_fields = ("name",)
    readonly_fields = [field.name for field in Budget._meta.fields]

    def calma_url(self, obj):
        from django.urls import reverse

        return reverse("replies:budget_detail", args=[obj.pk])
