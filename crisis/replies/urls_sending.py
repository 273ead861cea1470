"""URLs of the sending slice of replies (joined in crisis/replies/urls.py): a reply's send
status and what people do with it, and the admins' publishing accounts."""

from django.urls import path

from crisis.replies.views import accounts, sending

urlpatterns = [
    path("<int:pk>/send/", sending.send_status, name="send_status"),
    path("<int:pk>/send/retry/", sending.retry, name="send_retry"),
    path("<int:pk>/send/mark-sent/", sending.mark_sent, name="send_mark_sent"),
    path("<int:pk>/send/correct/", sending.correct, name="send_correct"),
    path("<int:pk>/send/delete/", sending.delete, name="send_delete"),
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/new/", accounts.account_create, name="account_create"),
    path("accounts/<int:pk>/", accounts.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account_edit"),
    path("accounts/<int:pk>/sources/", accounts.account_sources, name="account_sources"),
    path("accounts/<int:pk>/disable/", accounts.account_disable, name="account_disable"),
    path("accounts/<int:pk>/enable/", accounts.account_enable, name="account_enable"),
]
