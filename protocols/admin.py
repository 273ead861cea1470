"""Protocol versions in Django admin, read-only: drafts are edited, backtested and activated
on Calma's protocol pages, where each change is audited."""

from django.contrib import admin
from django.urls import reverse

from crisis.admin_site import ReadOnlyCalmaAdmin
from crisis.roles import Perm
from protocols.models import ProtocolVersion, SurgeAlert


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(ReadOnlyCalmaAdmin):
    view_permission = Perm.VIEW_AUDIT_LOG
    list_display = ("number", "name", "status", "created_at", "activated_at", "open_in_calma")
    list_filter = ("status",)
    search_fields = ("name", "notes")

    def calma_url(self, obj: ProtocolVersion) -> str:
        return reverse("protocols:detail", args=[obj.pk])


@admin.register(SurgeAlert)
class SurgeAlertAdmin(ReadOnlyCalmaAdmin):
    """Every alert of the live surge detector (the board lists the recent ones)."""

    view_permission = Perm.VIEW_AUDIT_LOG
    list_display = (
        "raised_at",
        "topic",
        "factor",
        "observed",
        "expected",
        "crisis_suggested",
        "origin",
    )
    list_filter = ("crisis_suggested", "origin")
    search_fields = ("topic",)
    date_hierarchy = "raised_at"
