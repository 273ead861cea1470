"""URLs of the statement slice of crisis rooms (joined in crisis/rooms/urls.py)."""

from django.urls import path

from crisis.rooms.views import statement

urlpatterns = [
    path("<int:pk>/statement/", statement.statement_page, name="statement"),
    path("<int:pk>/statement/start/", statement.start, name="statement_start"),
    path("<int:pk>/statement/history/", statement.history, name="statement_history"),
    path("<int:pk>/statement/v<int:number>/diff/", statement.diff, name="statement_diff"),
    path("<int:pk>/statement/checklist/", statement.checklist, name="statement_checklist"),
    path(
        "<int:pk>/statement/versions/<int:version_pk>/save/",
        statement.save,
        name="statement_save",
    ),
    path(
        "<int:pk>/statement/versions/<int:version_pk>/submit/",
        statement.submit,
        name="statement_submit",
    ),
    path(
        "<int:pk>/statement/versions/<int:version_pk>/approve/",
        statement.approve,
        name="statement_approve",
    ),
    path(
        "<int:pk>/statement/versions/<int:version_pk>/send-back/",
        statement.send_back,
        name="statement_send_back",
    ),
    path(
        "<int:pk>/statement/versions/<int:version_pk>/discard/",
        statement.discard,
        name="statement_discard",
    ),
    path(
        "<int:pk>/statement/versions/<int:version_pk>/commitments/",
        statement.commitment,
        name="statement_commitment",
    ),
    path(
        "<int:pk>/statement/publications/<int:publication_pk>/mark/",
        statement.mark_published,
        name="statement_mark_published",
    ),
    path(
        "<int:pk>/statement/publications/<int:publication_pk>/publish/",
        statement.publish,
        name="statement_publish",
    ),
]
