"""A table-less model that carries Calma's own permissions (granted to roles)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("triage_mentions", _("Triage mentions and work incidents")),
            ("approve_replies", _("Approve or send back reply drafts")),
            ("view_board", _("View the crisis board")),
            ("edit_protocol", _("Edit and activate the response protocol")),
            ("declare_crisis", _("Declare and close crises")),
            ("manage_sources", _("Manage monitored sources")),
            ("view_audit_log", _("Read the audit log")),
            ("view_mentions", _("Explore monitored mentions")),
            ("manage_people", _("Manage people: invite, roles, deactivate, unlock")),
            ("supervise_incidents", _("Reassign any incident and close others' incidents")),
            ("manage_teams", _("Manage teams, skills, capacity, shifts and on-call")),
            ("approve_legal", _("Approve replies on legal matters (legal reviewer)")),
            ("manage_publishing", _("Manage publishing accounts and outgoing webhooks")),
            ("manage_budgets", _("Set compensation budgets and approve grants beyond them")),
            ("view_crises", _("See crisis rooms (cabinet members: only their own crises)")),
            ("run_crises", _("Run every crisis room: cabinet, plan, statement, post-mortem")),
            ("view_incidents", _("Read the incidents list and pages (executives: read-only)")),
        ]

    def __str__(self) -> str:
        return "capability"
