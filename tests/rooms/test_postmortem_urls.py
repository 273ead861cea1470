"""Every URL of the resolution and post-mortem slice per role: anonymous (to the login),
community manager, supervisor, executive (reads, never writes), admin, a cabinet member of
this crisis and one of another crisis (sees nothing of it); then what the room's resolution
section, the post-mortem page and the exports show."""

from datetime import date, timedelta

import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone

from crisis.incidents.models import IncidentState
from crisis.rooms import postmortem
from crisis.rooms.models import CabinetRole, CrisisStatus, FollowUpItem, PostMortem
from tests.rooms.factories import a_crisis, cabinet_member_user, link, seat
from tests.rooms.postmortem_fixtures import incident_on, on_topics, resolve

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "manager",
    "supervisor",
    "executive",
    "admin",
    "member_here",
    "member_elsewhere",
)
SEES = ("supervisor", "executive", "member_here")
ACTS = ("supervisor", "member_here")
TITLE = "Double charges"


@pytest.fixture
def people(db, manager, supervisor, executive, administrator):
    return {
        "anonymous": None,
        "manager": manager,
        "supervisor": supervisor,
        "executive": executive,
        "admin": administrator,
        "member_here": cabinet_member_user("legal-ana"),
        "member_elsewhere": cabinet_member_user("legal-bo"),
    }


@pytest.fixture
def rooms(people):
    now = timezone.now()
    here = a_crisis(
        title=TITLE,
        commander=people["supervisor"],
        declared_at=now - timedelta(hours=3),
    )
    elsewhere = a_crisis(
        title="Late deliveries", topics=("delivery",), commander=people["supervisor"]
    )
    seat(here, people["member_here"], "legal", CabinetRole.MEMBER)
    seat(elsewhere, people["member_elsewhere"], "legal", CabinetRole.MEMBER)
    first = on_topics(("billing",), at=now - timedelta(hours=4), severity="high")
    link(here, incident_on(first, state=IncidentState.ASSIGNED))
    return here, elsewhere


@pytest.fixture
def resolved(rooms, people):
    here, _elsewhere = rooms
    return resolve(here, timezone.now() - timedelta(minutes=5), by=people["supervisor"])


@pytest.fixture
def started(resolved, people):
    return postmortem.start_post_mortem(
        actor=people["supervisor"], crisis=resolved, now=timezone.now()
    )


def login(client, people, role):
    if people[role] is not None:
        client.force_login(people[role])


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def body(response) -> str:
    return response.content.decode()


def expect(response, role, allowed, ok=(200, 302)):
    """Anonymous to the login; allowed roles get `ok`; everyone else a 403 without the title."""
    if role == "anonymous":
        assert is_login_redirect(response)
    elif role in allowed:
        assert response.status_code in ok, (role, response.status_code)
    else:
        assert response.status_code == 403, (role, response.status_code)
        assert TITLE not in body(response)


# --- The resolution section and resolving ------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_resolution_section_in_the_room(client, people, rooms, role):
    here, _elsewhere = rooms
    login(client, people, role)
    response = client.get(reverse("rooms:room", args=[here.pk]))
    if role not in SEES:
        expect(response, role, SEES)
        return
    page = body(response)
    assert 'id="resolution-section"' in page
    assert "Open incidents answered" in page and "Not met" in page
    # Only the commander or a supervisor is offered the resolve form.
    assert (reverse("rooms:resolve", args=[here.pk]) in page) == (role == "supervisor")


@pytest.mark.parametrize("role", ROLES)
def test_the_resolution_section_over_htmx(client, people, rooms, role):
    here, _elsewhere = rooms
    login(client, people, role)
    url = reverse("rooms:resolution", args=[here.pk])
    response = client.get(url, headers={"HX-Request": "true"})
    expect(response, role, SEES, ok=(200,))
    if role in SEES:
        assert body(response).startswith('<section id="resolution-section"')
        # Without htmx the URL is the room.
        plain = client.get(url)
        assert plain.status_code == 302
        assert plain.url.startswith(reverse("rooms:room", args=[here.pk]))


@pytest.mark.parametrize("role", ROLES)
def test_the_resolve_page(client, people, rooms, role):
    here, _elsewhere = rooms
    login(client, people, role)
    response = client.get(reverse("rooms:resolve", args=[here.pk]))
    expect(response, role, ("supervisor",), ok=(200,))
    if role == "supervisor":
        assert "Yes, resolve it anyway" in body(response)


@pytest.mark.parametrize("role", ROLES)
def test_resolving(client, people, rooms, role):
    here, _elsewhere = rooms
    login(client, people, role)
    response = client.post(reverse("rooms:resolve", args=[here.pk]), {"note": "Refunds out."})
    expect(response, role, ("supervisor",), ok=(302,))
    here.refresh_from_db()
    assert (here.status == CrisisStatus.RESOLVED) == (role == "supervisor")


def test_a_commander_who_is_not_a_supervisor_resolves_over_htmx(client, rooms, manager):
    here, _elsewhere = rooms
    here.commander = manager
    here.save()
    seat(here, manager, "customer_service", CabinetRole.MEMBER)
    client.force_login(manager)
    response = client.post(
        reverse("rooms:resolve", args=[here.pk]), {"note": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("rooms:room", args=[here.pk]))
    here.refresh_from_db()
    assert here.status == CrisisStatus.RESOLVED


def test_resolving_twice_is_a_message_not_an_error(client, people, resolved):
    client.force_login(people["supervisor"])
    response = client.post(reverse("rooms:resolve", args=[resolved.pk]), follow=True)
    assert response.status_code == 200
    assert "cannot become resolved" in body(response)


def test_a_resolved_room_offers_the_post_mortem_to_its_workers(client, people, resolved):
    client.force_login(people["member_here"])
    page = body(client.get(reverse("rooms:room", args=[resolved.pk])))
    assert "Start the post-mortem" in page
    assert "Not met when it was resolved:" not in page  # resolved by the fixture, not audited
    client.force_login(people["executive"])
    page = body(client.get(reverse("rooms:room", args=[resolved.pk])))
    assert "Start the post-mortem" not in page
    assert "No post-mortem yet." in page


# --- The post-mortem page ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_post_mortem_page(client, people, started, role):
    login(client, people, role)
    response = client.get(reverse("rooms:post_mortem", args=[started.crisis_id]))
    expect(response, role, SEES, ok=(200,))
    if role in SEES:
        page = body(response)
        assert f"Post-mortem: {TITLE}" in page
        assert 'data-figure="exposure"' in page
        assert "Download as PDF" in page
        writes = role in ACTS
        assert ("Save the post-mortem" in page) == writes
        assert ("Add a follow-up item" in page) == writes
        assert ("Complete the post-mortem" in page) == (role == "supervisor")
        assert ("Create a protocol draft" in page) == (role == "supervisor")


@pytest.mark.parametrize("role", ROLES)
def test_starting_the_post_mortem(client, people, resolved, role):
    login(client, people, role)
    response = client.post(reverse("rooms:post_mortem", args=[resolved.pk]))
    expect(response, role, ACTS, ok=(302,))
    assert PostMortem.objects.filter(crisis=resolved).exists() == (role in ACTS)


def test_starting_before_the_resolution_is_refused_with_a_message(client, people, rooms):
    here, _elsewhere = rooms
    client.force_login(people["supervisor"])
    response = client.post(reverse("rooms:post_mortem", args=[here.pk]), follow=True)
    assert "starts once the crisis is resolved" in body(response)
    assert not PostMortem.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_editing_the_post_mortem(client, people, started, role):
    login(client, people, role)
    response = client.post(
        reverse("rooms:edit_post_mortem", args=[started.crisis_id]),
        {"pm-summary": "Charged twice.", "pm-root_cause": "No idempotency key."},
    )
    expect(response, role, ACTS, ok=(302,))
    started.refresh_from_db()
    assert (started.summary == "Charged twice.") == (role in ACTS)


def test_editing_over_htmx_answers_with_the_post_mortem_body(client, people, started):
    client.force_login(people["member_here"])
    response = client.post(
        reverse("rooms:edit_post_mortem", args=[started.crisis_id]),
        {"pm-summary": "<b>Charged</b> twice."},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = body(response)
    assert page.startswith('<div id="post-mortem-body"')
    assert "Post-mortem saved." in page
    assert "&lt;b&gt;Charged&lt;/b&gt;" in page and "<b>Charged" not in page


def test_a_text_too_long_is_a_form_error(client, people, started):
    client.force_login(people["member_here"])
    response = client.post(
        reverse("rooms:edit_post_mortem", args=[started.crisis_id]),
        {"pm-summary": "x" * (postmortem.TEXT_MAX_LENGTH + 1)},
    )
    assert response.status_code == 400
    assert "Check the form below." in body(response)


@pytest.mark.parametrize("role", ROLES)
def test_refreshing_the_impact(client, people, started, role):
    login(client, people, role)
    response = client.post(reverse("rooms:refresh_impact", args=[started.crisis_id]))
    expect(response, role, ACTS, ok=(302,))


@pytest.mark.parametrize("role", ROLES)
def test_adding_a_follow_up_item(client, people, started, role):
    login(client, people, role)
    response = client.post(
        reverse("rooms:add_follow_up_item", args=[started.crisis_id]),
        {
            "item-title": "Idempotency key on the payment job",
            "item-owner": people["member_here"].pk,
            "item-due_on": (timezone.localdate() + timedelta(days=14)).isoformat(),
        },
    )
    expect(response, role, ACTS, ok=(302,))
    assert FollowUpItem.objects.exists() == (role in ACTS)


def test_an_item_owner_outside_the_cabinet_is_a_form_error(client, people, started):
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("rooms:add_follow_up_item", args=[started.crisis_id]),
        {
            "item-title": "x",
            "item-owner": people["member_elsewhere"].pk,
            "item-due_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert not FollowUpItem.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_marking_an_item_done(client, people, started, role):
    item = postmortem.add_follow_up_item(
        actor=people["supervisor"],
        post_mortem=started,
        title="Idempotency key",
        owner=people["member_here"],
        due_on=date.today() + timedelta(days=3),
        now=timezone.now(),
    )
    login(client, people, role)
    response = client.post(reverse("rooms:follow_up_item_done", args=[item.pk]))
    if role == "executive":
        # Sees the crisis, may not act: the refusal is a 403.
        assert response.status_code == 403
    else:
        expect(response, role, ACTS, ok=(302,))
    item.refresh_from_db()
    assert (item.done_at is not None) == (role in ACTS)


@pytest.mark.parametrize("role", ROLES)
def test_completing(client, people, started, role):
    postmortem.update_post_mortem(
        actor=people["supervisor"],
        post_mortem=started,
        now=timezone.now(),
        summary="s",
        root_cause="r",
    )
    login(client, people, role)
    response = client.post(reverse("rooms:complete_post_mortem", args=[started.crisis_id]))
    expect(response, role, ("supervisor",), ok=(302,))
    started.refresh_from_db()
    assert (started.state == "done") == (role == "supervisor")


def test_completing_without_a_summary_is_a_message(client, people, started):
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("rooms:complete_post_mortem", args=[started.crisis_id]), follow=True
    )
    assert "before completing the post-mortem" in body(response)


@pytest.mark.parametrize("role", ROLES)
def test_creating_the_protocol_draft(client, people, started, role):
    login(client, people, role)
    response = client.post(reverse("rooms:post_mortem_protocol_draft", args=[started.crisis_id]))
    expect(response, role, ("supervisor",), ok=(302,))
    started.refresh_from_db()
    assert (started.protocol_draft is not None) == (role == "supervisor")


@pytest.mark.parametrize("role", ROLES)
def test_backtesting_the_draft(client, people, started, role):
    postmortem.create_protocol_draft_from_post_mortem(
        actor=people["supervisor"], post_mortem=started, now=timezone.now()
    )
    login(client, people, role)
    url = reverse("rooms:post_mortem_backtest", args=[started.crisis_id])
    response = client.post(url)
    expect(response, role, ("supervisor",), ok=(302,))
    started.refresh_from_db()
    assert (started.backtest.get("status") == "done") == (role == "supervisor")
    polled = client.get(url, headers={"HX-Request": "true"})
    expect(polled, role, SEES, ok=(200,))


def test_the_backtest_result_shows_on_the_page(client, people, started):
    postmortem.create_protocol_draft_from_post_mortem(
        actor=people["supervisor"], post_mortem=started, now=timezone.now()
    )
    client.force_login(people["supervisor"])
    response = client.post(
        reverse("rooms:post_mortem_backtest", args=[started.crisis_id]),
        headers={"HX-Request": "true"},
    )
    page = body(response)
    assert "Backtest done" in page
    assert "No replayed mention would change severity." in page
    assert "Edit it in the protocol editor" in page


def test_a_crisis_without_a_post_mortem_has_no_post_mortem_urls(client, people, resolved):
    client.force_login(people["supervisor"])
    for name in ("post_mortem_markdown", "post_mortem_pdf", "edit_post_mortem"):
        method = client.post if name == "edit_post_mortem" else client.get
        assert method(reverse(f"rooms:{name}", args=[resolved.pk])).status_code == 404
    assert client.get(reverse("rooms:post_mortem", args=[999_999])).status_code == 404


# --- Exports -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_markdown_export(client, people, started, role):
    login(client, people, role)
    response = client.get(reverse("rooms:post_mortem_markdown", args=[started.crisis_id]))
    expect(response, role, SEES, ok=(200,))
    if role in SEES:
        assert response["Content-Type"] == "text/markdown; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        assert body(response).startswith(f"# Post-mortem: {TITLE}")


@pytest.mark.parametrize("role", ROLES)
def test_the_pdf_export(client, people, started, role):
    login(client, people, role)
    response = client.get(reverse("rooms:post_mortem_pdf", args=[started.crisis_id]))
    expect(response, role, SEES, ok=(200,))
    if role in SEES:
        assert response["Content-Type"] == "application/pdf"
        document = pypdfium2.PdfDocument(response.content)
        try:
            assert TITLE in document[0].get_textpage().get_text_range()
        finally:
            document.close()


def test_exports_follow_the_readers_language(client, people, started):
    client.force_login(people["supervisor"])
    client.cookies["django_language"] = "es"
    text = body(client.get(reverse("rooms:post_mortem_markdown", args=[started.crisis_id])))
    assert "Borrador" in text


# --- Query counts ------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200
    return len(captured)


def test_the_resolution_section_costs_the_same_for_one_or_many_incidents(client, people, rooms):
    here, _elsewhere = rooms
    client.force_login(people["supervisor"])
    url = reverse("rooms:resolution", args=[here.pk])
    one = count_queries(client, url)
    for minutes in range(6):
        mention = on_topics(("billing",), at=timezone.now() - timedelta(minutes=minutes))
        link(here, incident_on(mention, state=IncidentState.ASSIGNED))
    assert count_queries(client, url) == one


@pytest.mark.parametrize("role", ["supervisor", "member_here", "executive"])
def test_the_post_mortem_page_costs_the_same_for_one_or_many_items(client, people, started, role):
    client.force_login(people[role])
    url = reverse("rooms:post_mortem", args=[started.crisis_id])

    def add_item():
        postmortem.add_follow_up_item(
            actor=people["supervisor"],
            post_mortem=started,
            title="Item",
            owner=people["member_here"],
            due_on=date.today() + timedelta(days=3),
            now=timezone.now(),
        )

    add_item()
    one = count_queries(client, url)
    for _ in range(5):
        add_item()
    assert count_queries(client, url) == one
