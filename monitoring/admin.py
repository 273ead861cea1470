"""Monitoring's records in Django admin, read-only: sources, mentions, authors and quarantine
change through Calma's own pages (audited), which each record here links to."""

from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse

from crisis.admin_site import ReadOnlyCalmaAdmin
from monitoring.models import Author, Mention, QuarantinedItem, Source, SourceAlert


@admin.register(Source)
class SourceAdmin(ReadOnlyCalmaAdmin):
    list_display = (
        "name",
        "platform",
        "kind",
        "query",
        "enabled",
        "health",
        "last_success_at",
        "open_in_calma",
    )
    list_filter = ("platform", "health", "enabled")
    search_fields = ("name", "query")

    def calma_url(self, obj: Source) -> str:
        return reverse("monitoring:source_detail", args=[obj.pk])


@admin.register(Author)
class AuthorAdmin(ReadOnlyCalmaAdmin):
    list_display = ("handle", "platform", "display_name", "followers", "verified", "last_seen_at")
    list_filter = ("platform", "verified")
    search_fields = ("handle", "display_name")


@admin.register(Mention)
class MentionAdmin(ReadOnlyCalmaAdmin):
    list_display = (
        "external_id",
        "platform",
        "author",
        "published_at",
        "language",
        "open_in_calma",
    )
    list_filter = ("platform", "language")
    search_fields = ("external_id", "text")
    list_select_related = ("author",)
    raw_id_fields = ("author", "source")
    date_hierarchy = "published_at"

    def calma_url(self, obj: Mention) -> str:
        # The explorer has no page per mention; its search finds this one by its id.
        return f"{reverse('monitoring:mentions')}?{urlencode({'q': obj.external_id})}"


@admin.register(QuarantinedItem)
class QuarantinedItemAdmin(ReadOnlyCalmaAdmin):
    list_display = ("received_at", "platform", "source", "status", "reason", "open_in_calma")
    list_filter = ("platform", "status")
    # Not editable, so listed to be shown: what makes two payloads the same item.
    readonly_fields = ("fingerprint",)

    def calma_url(self, obj: QuarantinedItem) -> str:
        return reverse("monitoring:quarantine_detail", args=[obj.pk])


@admin.register(SourceAlert)
class SourceAlertAdmin(ReadOnlyCalmaAdmin):
    list_display = (
        "raised_at",
        "source",
        "kind",
        "dropped_count",
        "resolved_at",
        "message",
        "open_in_calma",
    )
    list_filter = ("kind",)

    def calma_url(self, obj: SourceAlert) -> str:
        return reverse("monitoring:source_detail", args=[obj.source_id])
