"""The CSV exports over HTTP: streamed, filtered like their pages, guarded like them."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crisis.board.csv_export import BOM
from crisis.models import AuditEvent
from crisis.roles import Role
from monitoring.models import Mention
from tests.factories import UserFactory
from tests.incidents.factories import author, incident, scored_mention
from tests.rooms.factories import a_crisis, cabinet_member_user, seat

pytestmark = pytest.mark.django_db

EXPORTS = ["incidents_csv", "mentions_csv", "audit_csv", "crises_csv"]


def _rows(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body.removeprefix(BOM))))


def _get(client, user, name, **query):
    client.force_login(user)
    return client.get(reverse(f"board:{name}"), query)


@pytest.mark.parametrize("name", EXPORTS)
def test_anonymous_is_sent_to_log_in(client, name):
    response = client.get(reverse(f"board:{name}"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("incidents_csv", Role.EXECUTIVE),
        # The executive reads the mentions (issue 12), a cabinet member does not.
        ("mentions_csv", Role.CABINET_MEMBER),
        ("audit_csv", Role.COMMUNITY_MANAGER),
        ("crises_csv", Role.COMMUNITY_MANAGER),
    ],
)
def test_roles_without_the_pages_permission_are_refused(client, name, role):
    assert _get(client, UserFactory(role=role), name).status_code == 403


def test_incidents_export_neutralises_and_filters(client, supervisor):
    hostile = incident(severity="high")
    hostile.author.handle = "=cmd|' /C calc'!A0"
    hostile.author.save(update_fields=["handle"])
    hostile.first_mention.text = "@SUM(1+1)"
    hostile.first_mention.save(update_fields=["text"])
    low = incident(severity="low")
    rows = _rows(_get(client, supervisor, "incidents_csv"))
    assert rows[0][0] == "id" and len(rows[0]) == 14
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {str(hostile.pk), str(low.pk)}
    assert by_id[str(hostile.pk)][11] == "'=cmd|' /C calc'!A0"
    assert by_id[str(hostile.pk)][13] == "'@SUM(1+1)"
    filtered = _rows(_get(client, supervisor, "incidents_csv", severity="low"))
    assert [row[0] for row in filtered[1:]] == [str(low.pk)]


def test_mentions_export_neutralises_and_filters(client, manager):
    scored_mention(by=author("-2"), text='=HYPERLINK("http://evil","x")')
    scored_mention(text="plain words")
    rows = _rows(_get(client, manager, "mentions_csv"))
    assert rows[0][:3] == ["id", "published at", "platform"]
    texts = {row[6]: row for row in rows[1:]}
    assert set(texts) == {'\'=HYPERLINK("http://evil","x")', "plain words"}
    assert texts['\'=HYPERLINK("http://evil","x")'][3] == "'-2"
    filtered = _rows(_get(client, manager, "mentions_csv", q="plain"))
    assert [row[6] for row in filtered[1:]] == ["plain words"]


def test_audit_export_neutralises_and_filters(client, supervisor):
    AuditEvent.objects.create(
        actor_label="+mallory", verb="incident.closed", object_repr="\t=1", after={"note": "x"}
    )
    AuditEvent.objects.create(actor_label="alice", verb="team.created", object_repr="Team")
    rows = _rows(_get(client, supervisor, "audit_csv"))
    assert rows[0][0] == "id"
    by_actor = {row[2]: row for row in rows[1:]}
    assert by_actor["'+mallory"][6] == "'\t=1"
    filtered = _rows(_get(client, supervisor, "audit_csv", verb="team."))
    assert [row[2] for row in filtered[1:]] == ["alice"]


def test_a_cabinet_member_exports_only_their_crises(client, supervisor):
    theirs = a_crisis(title="-leak")
    a_crisis(title="Other crisis")
    member = cabinet_member_user("legal-person")
    seat(theirs, member)
    rows = _rows(_get(client, member, "crises_csv"))
    assert [row[1] for row in rows[1:]] == ["'-leak"]
    every = _rows(_get(client, supervisor, "crises_csv"))
    assert {row[1] for row in every[1:]} == {"'-leak", "Other crisis"}


def test_five_thousand_mentions_stream_in_a_bounded_number_of_queries(client, manager):
    by = author("bulk")
    template = Mention.objects.get(pk=scored_mention(by=by, text="seed").pk)
    Mention.objects.bulk_create(
        Mention(
            platform=by.platform,
            external_id=f"bulk-{n}",
            author=by,
            text=f"mention {n}",
            language="es",
            published_at=template.published_at,
        )
        for n in range(5000)
    )
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("board:mentions_csv"))
        rows = _rows(response)
    assert len(rows) == 5002
    # A server-side cursor read in chunks: a handful of queries, not one per row or page.
    assert len(queries) < 20


@pytest.mark.parametrize(
    ("page", "export", "query"),
    [
        ("inbox", "incidents_csv", "severity=low"),
        ("monitoring:mentions", "mentions_csv", "q=plain"),
        ("audit_log", "audit_csv", "verb=team."),
    ],
)
def test_each_list_links_its_export_with_the_current_filters(
    client, supervisor, page, export, query
):
    client.force_login(supervisor)
    html = client.get(f"{reverse(page)}?{query}").content.decode()
    assert f'href="{reverse(f"board:{export}")}?' in html
    assert query.replace("&", "&amp;") in html.split(reverse(f"board:{export}"), 1)[1][:200]


def test_the_crisis_list_links_its_export(client, supervisor):
    a_crisis()
    client.force_login(supervisor)
    assert reverse("board:crises_csv") in client.get(reverse("rooms:list")).content.decode()
