"""Calma's admin site, and the read-only ModelAdmin for Calma's own data.

A signed-in user without admin rights gets 403, not a second login. Calma's own records are
only read here: every change goes through Calma's pages and services (permission check,
audit event, justification), which each admin page links to.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import reverse, reverse_lazy
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crisis.roles import Perm


class CalmaAdminSite(admin.AdminSite):
    site_header = _("Calma administration")
    site_title = _("Calma")
    index_title = _("Calma's records (read-only)")
    # "View site" opens Calma itself, which sends each role to its home page.
    site_url = reverse_lazy("home")

    def login(self, request, extra_context=None):
        """One sign-in page for the whole product: the admin uses Calma's own."""
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, reverse("login"))

    def admin_view(self, view, cacheable=False):
        admin_wrapped = super().admin_view(view, cacheable)

        def refuse_signed_in_non_admins(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return admin_wrapped(request, *args, **kwargs)

        return update_wrapper(refuse_signed_in_non_admins, admin_wrapped)


class ReadOnlyCalmaAdmin(admin.ModelAdmin):
    """Calma's own records in Django admin: readable by the roles allowed to see them, never
    added, changed or deleted here (that would skip the audit event and the justification)."""

    # The Calma permission that lets a staff member read these records here.
    view_permission: str = Perm.MANAGE_SOURCES

    def calma_url(self, obj: models.Model) -> str | None:
        """The Calma page where this record is seen and changed, if there is one."""
        return None

    def view_on_site(self, obj: models.Model) -> str | None:
        return self.calma_url(obj)

    @admin.display(description=_("In Calma"))
    def open_in_calma(self, obj: models.Model) -> str:
        url = self.calma_url(obj)
        return format_html('<a href="{}">{}</a>', url, _("Open")) if url else "—"

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_perm(self.view_permission)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
