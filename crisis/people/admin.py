"""People's records in Django admin, read-only: teams, profiles, shifts and on-call change
through Calma's own Teams pages (audited), which each record here links to."""

from django.contrib import admin
from django.urls import reverse

from crisis.admin_site import ReadOnlyCalmaAdmin
from crisis.people.models import OnCallSlot, Profile, Shift, Team
from crisis.roles import Perm


class _TeamsAdmin(ReadOnlyCalmaAdmin):
    view_permission = Perm.MANAGE_TEAMS


@admin.register(Team)
class TeamAdmin(_TeamsAdmin):
    list_display = ("name", "time_zone", "is_default", "open_in_calma")

    def calma_url(self, obj: Team) -> str:
        return reverse("people:team_detail", args=[obj.pk])


@admin.register(Profile)
class ProfileAdmin(_TeamsAdmin):
    list_display = ("user", "team", "language", "time_zone", "max_open_incidents", "open_in_calma")
    list_filter = ("team",)
    search_fields = ("user__username",)

    def calma_url(self, obj: Profile) -> str:
        return reverse("people:skills", args=[obj.user_id])


@admin.register(Shift)
class ShiftAdmin(_TeamsAdmin):
    list_display = ("team", "weekday", "starts_at", "ends_at", "open_in_calma")
    list_filter = ("team", "weekday")

    def calma_url(self, obj: Shift) -> str:
        return reverse("people:team_detail", args=[obj.team_id])


@admin.register(OnCallSlot)
class OnCallSlotAdmin(_TeamsAdmin):
    list_display = ("user", "weekday", "starts_at", "ends_at", "time_zone", "open_in_calma")

    def calma_url(self, obj: OnCallSlot) -> str:
        return reverse("people:on_call")
