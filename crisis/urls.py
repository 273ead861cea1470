"""Root URLs of Calma."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from crisis.views import health, home, workspaces

urlpatterns = [
    path("", home.home, name="home"),
    path("inbox/", workspaces.inbox, name="inbox"),
    path("approvals/", workspaces.approvals, name="approvals"),
    path("board/", workspaces.board, name="board"),
    path("monitoring/", include("monitoring.urls")),
    path("protocols/", include("protocols.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler403 = "crisis.views.errors.permission_denied"
