"""Admin registrations for monitoring (the app's own screens are the primary UI)."""

from django.contrib import admin

from monitoring.models import Author, Mention, QuarantinedItem, Source, SourceAlert


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "kind", "query", "enabled", "health", "last_success_at")
    list_filter = ("platform", "health", "enabled")
    search_fields = ("name", "query")
    readonly_fields = (
        "cursor",
        "next_poll_at",
        "last_polled_at",
        "last_success_at",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "health",
    )


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ("handle", "platform", "display_name", "followers", "verified", "last_seen_at")
    list_filter = ("platform", "verified")
    search_fields = ("handle", "display_name")


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ("external_id", "platform", "author", "published_at", "language")
    list_filter = ("platform", "language")
    search_fields = ("external_id", "text")
    list_select_related = ("author",)
    raw_id_fields = ("author", "source")
    date_hierarchy = "published_at"


@admin.register(QuarantinedItem)
class QuarantinedItemAdmin(admin.ModelAdmin):
    list_display = ("received_at", "platform", "source", "status", "reason")
    list_filter = ("platform", "status")


@admin.register(SourceAlert)
class SourceAlertAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "source", "resolved_at", "message")
