"""The audit log is append-only: in the model, in the admin, and in the database itself."""

import pytest
from django.contrib.admin.sites import site
from django.db import IntegrityError, transaction

from crisis.models import AuditEvent
from crisis.models.audit import AuditEventIsAppendOnly
from crisis.services.audit import record_audit_event


@pytest.fixture
def event(supervisor):
    return record_audit_event(
        actor=supervisor,
        verb="protocol.activate",
        target=supervisor,
        before={"v": 1},
        after={"v": 2},
    )


def test_record_audit_event_stores_actor_verb_object_and_values(event, supervisor):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == supervisor
    assert stored.actor_label == "boss"
    assert stored.verb == "protocol.activate"
    assert stored.object_type == "auth.user"
    assert stored.object_id == str(supervisor.pk)
    assert (stored.before, stored.after) == ({"v": 1}, {"v": 2})


def test_system_actions_are_recorded_without_a_user(db):
    event = record_audit_event(actor=None, verb="source.failing")
    assert (event.actor, event.actor_label) == (None, "system")


def test_saving_a_recorded_event_again_is_refused(event):
    event.verb = "tampered"
    with pytest.raises(AuditEventIsAppendOnly):
        event.save()


def test_deleting_an_event_through_the_model_is_refused(event):
    with pytest.raises(AuditEventIsAppendOnly):
        event.delete()


def test_database_refuses_bulk_update(event):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(verb="tampered")
    assert AuditEvent.objects.get(pk=event.pk).verb == "protocol.activate"


def test_database_refuses_bulk_delete(event):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk)._raw_delete(using="default")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_database_refuses_raw_sql_update(event):
    from django.db import connection

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE crisis_auditevent SET verb = 'x' WHERE id = %s", [event.pk])


def test_admin_offers_no_add_change_or_delete(rf, administrator, event):
    model_admin = site._registry[AuditEvent]
    request = rf.get("/")
    request.user = administrator
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
