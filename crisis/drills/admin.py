"""Admin registrations of drills: read-only (drills start and close on their own pages, with
their audit events)."""

from django.contrib import admin
from django.urls import reverse

from crisis.admin_site import ReadOnlyCalmaAdmin
from crisis.drills.models import Drill, Scenario
from crisis.roles import Perm


@admin.register(Scenario)
class ScenarioAdmin(ReadOnlyCalmaAdmin):
    view_permission = Perm.SUPERVISE_INCIDENTS
    list_display = ("name", "kind", "rows", "created_by", "created_at")
    list_filter = ("kind",)
    exclude = ("data",)
    readonly_fields = [field.name for field in Scenario._meta.fields if field.name != "data"]


@admin.register(Drill)
class DrillAdmin(ReadOnlyCalmaAdmin):
    view_permission = Perm.SUPERVISE_INCIDENTS
    list_display = ("pk", "scenario", "speed", "status", "started_by", "started_at")
    list_filter = ("status",)
    readonly_fields = [field.name for field in Drill._meta.fields]

    def calma_url(self, obj: Drill) -> str | None:
        return reverse("drills:detail", args=[obj.pk])
