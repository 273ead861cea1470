"""Crisis suggestions: one open per topic (a database constraint, race-safe), the supervisors'
banner on every page, the list, and dismissing with a reason (audited, shown next time)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from crisis.models import AuditEvent
from protocols import services
from protocols.models import CrisisSuggestion

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ROLES = ["manager", "supervisor", "executive", "administrator"]


def suggestion(topic: str = "billing", origin: str = "live", **fields) -> CrisisSuggestion | None:
    return services.raise_crisis_suggestion(
        topic=topic,
        reason=CrisisSuggestion.Reason.INCIDENTS,
        version=services.active_version(),
        origin=origin,
        at=fields.pop("at", AT),
        observed=fields.pop("observed", 5),
        detail="5 high or critical mentions in 60 min",
        **fields,
    )


# --- one open suggestion per topic ------------------------------------------------------------


def test_a_second_suggestion_on_an_open_topic_is_not_raised(db):
    first = suggestion()
    assert suggestion() is None
    assert list(CrisisSuggestion.objects.all()) == [first]


def test_a_run_has_its_own_open_suggestion_per_topic(db):
    suggestion(origin="live")
    assert suggestion(origin="run:7") is not None
    assert CrisisSuggestion.objects.filter(topic="billing").count() == 2


def test_a_dismissed_topic_can_be_suggested_again(db, supervisor):
    first = suggestion()
    services.dismiss_suggestion(actor=supervisor, suggestion=first, reason="Known outage", now=AT)
    assert suggestion(at=AT + timedelta(hours=1)) is not None


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_inserts_leave_one_open_suggestion_per_topic():
    """Two threads, each with its own connection, cross the threshold at the same moment."""
    services.active_version()  # the shipped protocol exists before the threads start
    barrier = threading.Barrier(8)
    results: list[CrisisSuggestion | None] = []
    errors: list[BaseException] = []

    def raise_one() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(suggestion(topic="race"))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=raise_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len([result for result in results if result is not None]) == 1
    assert CrisisSuggestion.objects.filter(topic="race", dismissed_at__isnull=True).count() == 1


# --- dismissing -------------------------------------------------------------------------------


def test_dismissing_records_who_why_and_an_audit_event(db, supervisor):
    open_one = suggestion()
    services.dismiss_suggestion(
        actor=supervisor, suggestion=open_one, reason="Known outage", now=AT
    )
    open_one.refresh_from_db()
    assert (open_one.dismissed_at, open_one.dismissed_by, open_one.dismiss_reason) == (
        AT,
        supervisor,
        "Known outage",
    )
    event = AuditEvent.objects.get(verb="crisis_suggestion.dismiss")
    assert (event.actor, event.object_id) == (supervisor, str(open_one.pk))


def test_a_manager_cannot_dismiss_a_suggestion(db, manager):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.dismiss_suggestion(actor=manager, suggestion=suggestion(), reason="no", now=AT)


def test_dismissing_twice_is_refused(db, supervisor):
    open_one = suggestion()
    services.dismiss_suggestion(actor=supervisor, suggestion=open_one, reason="once", now=AT)
    with pytest.raises(services.SuggestionAlreadyDismissed):
        services.dismiss_suggestion(actor=supervisor, suggestion=open_one, reason="twice", now=AT)


# --- pages ------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_from_the_suggestion_list(client, db):
    response = client.get(reverse("protocols:suggestions"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_is_sent_to_login_from_dismiss(client, db):
    response = client.post(reverse("protocols:dismiss_suggestion", args=[suggestion().pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert CrisisSuggestion.objects.get().dismissed_at is None


@pytest.mark.parametrize(
    ("role", "status"), [(role, 403 if role == "manager" else 200) for role in ROLES]
)
def test_supervisors_and_board_readers_open_the_suggestion_list(client, request, role, status):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("protocols:suggestions")).status_code == status


@pytest.mark.parametrize("role", ["executive", "administrator"])
def test_board_readers_see_the_suggestions_and_mutes_read_only(client, db, request, role):
    # The board's headline links "N crisis suggestions wait for a decision" here.
    open_one = suggestion(topic="billing")
    supervisor = request.getfixturevalue("supervisor")
    services.mute_topic(
        actor=supervisor,
        topic="verano",
        until=datetime.now(UTC) + timedelta(days=2),
        reason="Summer campaign",
        now=datetime.now(UTC),
    )
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("protocols:suggestions")).content.decode()
    assert f'id="suggestion-{open_one.pk}"' in page and "Summer campaign" in page
    assert "Read only" in page
    body = page.split('id="suggestions-body"')[1]
    assert "<form" not in body and "End the mute" not in body
    assert reverse("rooms:accept_suggestion", args=[open_one.pk]) not in page
    assert reverse("protocols:dismiss_suggestion", args=[open_one.pk]) not in page
    assert reverse("protocols:mute_topic") not in page


def test_supervisors_see_every_action_on_the_list(client, supervisor):
    open_one = suggestion(topic="billing")
    client.force_login(supervisor)
    page = client.get(reverse("protocols:suggestions")).content.decode()
    assert "Read only" not in page
    assert reverse("rooms:accept_suggestion", args=[open_one.pk]) in page
    assert reverse("protocols:dismiss_suggestion", args=[open_one.pk]) in page
    assert reverse("protocols:mute_topic") in page


@pytest.mark.parametrize("role", ["manager", "executive", "administrator"])
def test_other_roles_cannot_dismiss(client, db, request, role):
    open_one = suggestion()
    client.force_login(request.getfixturevalue(role))
    response = client.post(
        reverse("protocols:dismiss_suggestion", args=[open_one.pk]), {"reason": "not mine"}
    )
    assert response.status_code == 403
    open_one.refresh_from_db()
    assert open_one.dismissed_at is None


def test_a_supervisor_dismisses_from_the_list_with_a_reason(client, supervisor):
    open_one = suggestion()
    client.force_login(supervisor)
    response = client.post(
        reverse("protocols:dismiss_suggestion", args=[open_one.pk]),
        {"reason": "Planned maintenance, announced"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("protocols:suggestions")
    open_one.refresh_from_db()
    assert open_one.dismiss_reason == "Planned maintenance, announced"
    assert open_one.dismissed_by == supervisor


def test_dismissing_without_a_reason_is_refused_with_the_form(client, supervisor):
    open_one = suggestion()
    client.force_login(supervisor)
    response = client.post(
        reverse("protocols:dismiss_suggestion", args=[open_one.pk]), {"reason": "  "}
    )
    assert response.status_code == 400
    assert b'role="alert"' in response.content
    open_one.refresh_from_db()
    assert open_one.dismissed_at is None


def test_the_last_dismissal_reason_is_shown_on_the_next_suggestion_for_its_topic(
    client, supervisor
):
    services.dismiss_suggestion(
        actor=supervisor, suggestion=suggestion(), reason="Known outage, fixed at 11:00", now=AT
    )
    suggestion(at=AT + timedelta(hours=2))
    suggestion(topic="delivery", at=AT + timedelta(hours=2))
    client.force_login(supervisor)
    page = client.get(reverse("protocols:suggestions")).content.decode()
    billing = page.split('id="suggestion-')[1:]
    assert (
        sum("Known outage, fixed at 11:00" in article.split("</article>")[0] for article in billing)
        == 1
    )


def test_suggestion_text_is_escaped_on_the_list(client, supervisor):
    hostile = "<script>alert(1)</script>"
    services.dismiss_suggestion(actor=supervisor, suggestion=suggestion(), reason=hostile, now=AT)
    suggestion(at=AT + timedelta(hours=1))
    client.force_login(supervisor)
    page = client.get(reverse("protocols:suggestions")).content.decode()
    assert hostile not in page
    assert "&lt;script&gt;" in page


# --- the banner -------------------------------------------------------------------------------


def test_supervisors_see_the_banner_with_the_open_count_on_every_page(client, supervisor):
    suggestion()
    suggestion(topic="delivery")
    client.force_login(supervisor)
    page = client.get(reverse("protocols:list")).content.decode()
    assert "2 open crisis suggestions" in page
    assert reverse("protocols:suggestions") in page


@pytest.mark.parametrize("role", ["manager", "executive", "administrator"])
def test_other_roles_see_no_banner(client, db, request, role):
    suggestion()
    client.force_login(request.getfixturevalue(role))
    home = client.get(reverse("home"), follow=True)
    assert home.status_code == 200
    assert b"open crisis suggestion" not in home.content


def test_suggestions_of_a_run_raise_no_banner(client, supervisor):
    suggestion(origin="run:3")
    client.force_login(supervisor)
    page = client.get(reverse("protocols:list")).content.decode()
    assert "open crisis suggestion" not in page
