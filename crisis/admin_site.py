"""Calma's admin site: a signed-in user without admin rights gets 403, not a second login."""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class CalmaAdminSite(admin.AdminSite):
    site_header = _("Calma administration")
    site_title = _("Calma")
    index_title = _("Users, teams and sources")

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
