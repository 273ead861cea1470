"""Acceptance 1 of issue 11 in a real browser, the declaration: complaints on one hashtag,
stored and scored through the real scoring stage, cross the protocol's crisis threshold and
the stage raises a crisis suggestion; a supervisor declares the crisis from it (its open
incidents on the topic join), convenes the cabinet (the spokesperson, a cabinet-member user
from legal, the manager) and hands command to a colleague from communications, all with the
keyboard; the legal member, whose role sees only the crises they sit in, lands on the crisis
list and opens the room."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crisis.incidents.models import Incident
from crisis.models import AuditEvent
from crisis.notifications.models import Notification, NotificationKind
from crisis.rooms.models import CabinetMember, CabinetRole, Crisis, CrisisStatus
from tests.e2e.conftest import screenshot
from tests.e2e.journeys import exactly, press, sign_in
from tests.e2e.rooms_journeys import (
    COMMANDER,
    LEGAL,
    LEVEL,
    SPOKESPERSON,
    TITLE,
    TOPIC,
    complaint_surge,
    crisis_people,
)

pytestmark = pytest.mark.e2e


def add_member(page, label: str, department: str, role: str) -> None:
    """The room's "Add a member" disclosure: person, department, crisis role."""
    manage = page.locator(".cabinet-manage")
    adding = manage.locator("details").filter(has=page.get_by_text("Add a member", exact=True))
    if adding.get_attribute("open") is None:
        press(adding.locator("summary"))
    adding.get_by_label("Person").select_option(label=label)
    adding.get_by_label("Department").select_option(label=department)
    adding.get_by_label("Crisis role").select_option(label=role)
    press(adding.get_by_role("button", name=exactly("Add to the cabinet")))


def test_a_supervisor_declares_the_crisis_from_its_suggestion_and_convenes_the_cabinet(
    page, browser, live_server, transactional_db, redis_client
):
    now = timezone.now()
    crisis_people()
    surge = complaint_surge(now=now)
    open_on_topic = Incident.objects.filter(topic=TOPIC).count()
    assert open_on_topic == 12

    # The supervisor finds the suggestion from the crisis list (g x), keyboard only.
    sign_in(page, live_server.url, "supervisor")
    page.keyboard.press("g")
    page.keyboard.press("x")
    page.wait_for_url(re.compile(r"/crises/$"))
    expect(page.get_by_text("No crisis to show", exact=False)).to_be_visible()
    press(page.get_by_role("link", name=exactly("Crisis suggestions")))
    suggestion = page.locator(f"#suggestion-{surge.suggestion.pk}")
    expect(suggestion).to_contain_text(TOPIC)
    # A link styled as a button (role="button"): Enter follows it.
    press(suggestion.get_by_role("button", name=exactly("Declare a crisis from this")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Declare a crisis from a suggestion")
    joining = f"Its {open_on_topic} open incidents on this topic join"
    expect(page.get_by_text(joining)).to_be_visible()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Level").select_option(value=str(LEVEL))
    press(page.get_by_role("button", name=exactly("Declare the crisis")))

    crisis = Crisis.objects.get(title=TITLE)
    page.wait_for_url(re.compile(rf"/crises/{crisis.pk}/$"))
    header = page.locator("#room-header")
    expect(header.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(header.locator("[data-crisis-status]")).to_have_attribute(
        "data-crisis-status", CrisisStatus.ACTIVE
    )
    expect(header).to_contain_text("Commander: supervisor")
    expect(header).to_contain_text(f"{open_on_topic} incidents")
    expect(page.locator("#room-incidents tbody tr")).not_to_have_count(0)
    assert crisis.level == LEVEL
    assert crisis.topics == [TOPIC]
    assert crisis.suggestion_id == surge.suggestion.pk
    assert crisis.incident_links.count() == open_on_topic
    surge.suggestion.refresh_from_db()
    assert surge.suggestion.dismissed_at is not None  # taken: the topic may be suggested again

    # The cabinet: spokesperson and a member from communications, legal, customer service.
    add_member(page, "Sofia (sofia)", "Communications", "Spokesperson")
    expect(page.locator("#room-cabinet")).to_contain_text("Sofia")
    add_member(page, "Lorena (lorena)", "Legal", "Member")
    expect(page.locator("#room-cabinet")).to_contain_text("Lorena")
    add_member(page, "manager", "Customer service", "Member")
    expect(page.locator("#room-cabinet")).to_contain_text("manager")

    # Command goes to Carmen (she had no seat: she gets one in communications).
    manage = page.locator(".cabinet-manage")
    handing = manage.locator("details").filter(
        has=page.get_by_text("Hand over command", exact=True)
    )
    press(handing.locator("summary"))
    handing.get_by_label("New commander").select_option(label="Carmen (carmen)")
    press(handing.get_by_role("button", name=exactly("Hand over command")))
    expect(page.locator("#room-header")).to_contain_text(f"Commander: {COMMANDER.username}")

    seats = {
        member.user.username: (member.department.key, member.role)
        for member in CabinetMember.objects.filter(crisis=crisis, removed_at__isnull=True)
    }
    assert seats == {
        "supervisor": ("communications", CabinetRole.MEMBER),
        COMMANDER.username: ("communications", CabinetRole.COMMANDER),
        SPOKESPERSON.username: ("communications", CabinetRole.SPOKESPERSON),
        LEGAL.username: ("legal", CabinetRole.MEMBER),
        "manager": ("customer_service", CabinetRole.MEMBER),
    }
    roster = page.locator("#room-cabinet")
    for name in ("Carmen", "Sofia", "Lorena", "manager", "supervisor"):
        expect(roster).to_contain_text(name)
    expect(roster.locator(".cabinet-role-commander")).to_have_count(1)
    expect(roster.locator(".cabinet-role-spokesperson")).to_have_count(1)
    screenshot(page, "crisis-room-1-declared")

    # Recorded and told: the executives of the declaration, each member of their seat, the
    # new commander of the hand-over.
    verbs = set(
        AuditEvent.objects.filter(object_type="rooms.crisis", object_id=str(crisis.pk)).values_list(
            "verb", flat=True
        )
    )
    assert {"crisis.declare", "crisis.member_added", "crisis.command_handed_over"} <= verbs
    told = set(Notification.objects.values_list("user__username", "kind"))
    assert ("executive", NotificationKind.CRISIS_DECLARED) in told
    assert (LEGAL.username, NotificationKind.CABINET_ADDED) in told
    assert (SPOKESPERSON.username, NotificationKind.CABINET_ADDED) in told
    assert (COMMANDER.username, NotificationKind.COMMAND_HANDED_OVER) in told

    # The legal member (a cabinet-member user) lands on the crisis list and opens the room;
    # the navigation offers nothing else of Calma's case work.
    legal_context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    legal = legal_context.new_page()
    legal.set_default_timeout(15_000)
    try:
        sign_in(legal, live_server.url, LEGAL.username)
        legal.wait_for_url(re.compile(r"/crises/$"))
        row = legal.locator(f"#crisis-{crisis.pk}")
        expect(row).to_contain_text(TITLE)
        expect(legal.locator("table.crisis-list tbody tr")).to_have_count(1)
        navigation = legal.get_by_role("navigation").first
        expect(navigation.get_by_role("link", name=exactly("Crises"))).to_be_visible()
        for elsewhere in ("Inbox", "Crisis board", "Mentions", "Protocol"):
            expect(navigation.get_by_role("link", name=exactly(elsewhere))).to_have_count(0)
        press(row.get_by_role("link", name=exactly(TITLE)))
        legal.wait_for_url(re.compile(rf"/crises/{crisis.pk}/$"))
        expect(legal.locator("#room-cabinet tr.cabinet-me")).to_contain_text("Lorena")
        expect(legal.locator(".cabinet-manage")).to_have_count(0)  # the cabinet is not hers
        assert legal.goto(f"{live_server.url}/inbox/").status == 403
    finally:
        legal_context.close()
