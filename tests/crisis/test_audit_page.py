"""The audit log page (issue 9): supervisors and admins read who did what, filtered by actor,
object, action and dates, 50 to a page, newest first, in the reader's time zone, at a
constant number of queries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from crisis.models import AuditEvent
from crisis.people.models import Profile
from crisis.views.audit import EVENTS_PER_PAGE, AuditFilterForm, audit_events

URL = reverse("audit_log")


def record(verb: str, *, at: datetime, actor_label: str = "system", **fields) -> AuditEvent:
    event = AuditEvent(verb=verb, occurred_at=at, actor_label=actor_label, **fields)
    event.save()
    return event


def verbs_on(response) -> list[str]:
    return [event.verb for event in response.context["page"].object_list]


NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


# --- Who may open it (one test per role) ---------------------------------------------------


def test_anonymous_is_sent_to_login_from_the_audit_log(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role_fixture", ["manager", "executive"])
def test_managers_and_executives_are_refused_the_audit_log(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("role_fixture", ["supervisor", "administrator"])
def test_supervisors_and_admins_read_the_audit_log(client, db, request, role_fixture):
    record("team.created", at=NOON)
    client.force_login(request.getfixturevalue(role_fixture))
    response = client.get(URL)
    assert response.status_code == 200
    assert "team.created" in response.content.decode()


def test_nav_shows_the_audit_log_to_supervisors(client, supervisor):
    client.force_login(supervisor)
    assert URL in client.get(reverse("profile")).content.decode()


def test_nav_hides_the_audit_log_from_managers(client, manager):
    client.force_login(manager)
    assert URL not in client.get(reverse("profile")).content.decode()


# --- Order, pages, filters -----------------------------------------------------------------


def test_newest_event_comes_first(client, supervisor):
    record("first", at=NOON)
    record("second", at=NOON + timedelta(minutes=1))
    client.force_login(supervisor)
    assert verbs_on(client.get(URL))[:2] == ["second", "first"]


def test_pages_hold_fifty_events(client, supervisor):
    for minute in range(EVENTS_PER_PAGE + 1):
        record(f"v{minute}", at=NOON + timedelta(minutes=minute))
    client.force_login(supervisor)
    assert len(verbs_on(client.get(URL))) == 50
    assert verbs_on(client.get(URL, {"page": 2})) == ["v0"]


def test_filter_by_actor(client, supervisor):
    record("by-ana", at=NOON, actor_label="ana")
    record("by-system", at=NOON)
    client.force_login(supervisor)
    assert verbs_on(client.get(URL, {"actor": "ANA"})) == ["by-ana"]


def test_filter_by_verb_prefix(client, supervisor):
    record("team.created", at=NOON)
    record("team.shift_added", at=NOON)
    record("person.created", at=NOON)
    client.force_login(supervisor)
    assert sorted(verbs_on(client.get(URL, {"verb": "team."}))) == [
        "team.created",
        "team.shift_added",
    ]


def test_filter_by_object(client, supervisor):
    record("a", at=NOON, object_type="people.team", object_id="1")
    record("b", at=NOON, object_type="people.team", object_id="2")
    record("c", at=NOON, object_type="auth.user", object_id="1")
    client.force_login(supervisor)
    response = client.get(URL, {"object_type": "people.team", "object_id": "1"})
    assert verbs_on(response) == ["a"]


def test_date_range_is_read_in_the_viewers_time_zone(client, supervisor):
    # 23:30 UTC on the 14th is already the 15th in Tokyo (UTC+9).
    record("late-14th-utc", at=datetime(2026, 6, 14, 23, 30, tzinfo=UTC))
    record("16th-tokyo", at=datetime(2026, 6, 15, 15, 30, tzinfo=UTC))
    Profile.objects.create(user=supervisor, time_zone="Asia/Tokyo")
    client.force_login(supervisor)
    response = client.get(URL, {"date_from": "2026-06-15", "date_to": "2026-06-15"})
    assert verbs_on(response) == ["late-14th-utc"]


def test_times_are_shown_in_the_viewers_time_zone(client, supervisor):
    record("x", at=datetime(2026, 6, 14, 23, 30, tzinfo=UTC))
    Profile.objects.create(user=supervisor, time_zone="Asia/Tokyo")
    client.force_login(supervisor)
    assert 'datetime="2026-06-15T08:30:00+09:00"' in client.get(URL).content.decode()


def test_pagination_links_keep_the_filters(client, supervisor):
    for minute in range(EVENTS_PER_PAGE + 1):
        record("team.changed", at=NOON + timedelta(minutes=minute))
    client.force_login(supervisor)
    content = client.get(URL, {"verb": "team."}).content.decode()
    assert "?verb=team.&amp;page=2" in content


def test_an_end_date_before_the_start_is_refused(client, supervisor):
    client.force_login(supervisor)
    response = client.get(URL, {"date_from": "2026-06-15", "date_to": "2026-06-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_a_date_far_outside_any_event_is_refused_not_crashed(client, supervisor):
    client.force_login(supervisor)
    response = client.get(URL, {"date_to": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["form"].errors["date_to"]


def test_no_match_says_so(client, supervisor):
    record("x", at=NOON)
    client.force_login(supervisor)
    content = client.get(URL, {"actor": "nobody"}).content.decode()
    assert "No event matches these filters." in content


def test_recorded_values_are_escaped(client, supervisor):
    record(
        "x",
        at=NOON,
        object_type="people.team",
        object_id="1",
        object_repr="<script>alert(1)</script>",
        after={"name": "<img src=x onerror=alert(1)>"},
    )
    client.force_login(supervisor)
    content = client.get(URL).content.decode()
    assert "<script>alert(1)" not in content
    assert "<img src=x" not in content


# --- Constant query count --------------------------------------------------------------------


def _queries_for_a_filtered_page(client, django_assert_num_queries, expected: int) -> None:
    with django_assert_num_queries(expected):
        client.get(URL, {"verb": "team.", "date_from": "2026-01-01"})


def test_query_count_does_not_grow_with_the_number_of_events(
    client, supervisor, django_assert_num_queries
):
    client.force_login(supervisor)
    record("team.created", at=NOON, actor=supervisor, actor_label=supervisor.username)
    client.get(URL)  # the first page view of a session loads its permissions once
    with CaptureQueriesContext(connection) as one_event:
        client.get(URL, {"verb": "team.", "date_from": "2026-01-01"})
    for minute in range(120):
        record(
            "team.changed",
            at=NOON + timedelta(minutes=minute),
            actor=supervisor,
            actor_label=supervisor.username,
            object_type="people.team",
            object_id=str(minute),
            after={"name": f"team {minute}"},
        )
    _queries_for_a_filtered_page(client, django_assert_num_queries, len(one_event))


# --- Any input at the form boundary --------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    values=st.fixed_dictionaries(
        {
            name: st.text(max_size=200)
            for name in ("actor", "verb", "object_type", "object_id", "date_from", "date_to")
        }
    )
)
def test_audit_filter_form_never_raises_on_any_input(values):
    AuditFilterForm(values).is_valid()


@pytest.mark.django_db
@settings(max_examples=30, deadline=None)
@given(
    values=st.fixed_dictionaries(
        {"actor": st.text(max_size=200), "verb": st.text(max_size=100)},
        optional={"date_from": st.dates().map(str), "date_to": st.dates().map(str)},
    )
)
def test_any_valid_filter_queries_without_error(values):
    form = AuditFilterForm(values)
    if form.is_valid():
        list(audit_events(form.cleaned_data, zone=UTC))
