"""Root URLs of Calma."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from crisis.people import profile_views
from crisis.views import audit, health, home, workspaces

urlpatterns = [
    path("", home.home, name="home"),
    path("inbox/", workspaces.inbox, name="inbox"),
    path("approvals/", workspaces.approvals, name="approvals"),
    # The crisis board: the page (name "board"), its live fragments and the war-room wall.
    path("board/", include("crisis.board.urls_board")),
    path("incidents/", include("crisis.incidents.urls")),
    path("replies/", include("crisis.replies.urls")),
    path("crises/", include("crisis.rooms.urls")),
    path("drills/", include("crisis.drills.urls")),
    path("exports/", include("crisis.board.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("protocols/", include("protocols.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's own password reset, which is also how an invited person sets a first password.
    path(
        "accounts/password_reset/",
        login_not_required(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        login_not_required(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        login_not_required(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        login_not_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("people/", include("crisis.people.urls")),
    path("profile/", profile_views.profile, name="profile"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("notifications/", include("crisis.notifications.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler403 = "crisis.views.errors.permission_denied"
