"""Response policies and the replies section as forms: round trip, edits, errors on their
field, the live template preview, and who may use them."""

import pytest
from django import forms
from django.urls import reverse

from crisis.models import AuditEvent
from crisis.people.models import Team
from protocols import services
from protocols.defaults import default_config
from protocols.forms import PoliciesForm, RepliesForm
from protocols.models import ProtocolStatus

pytestmark = pytest.mark.django_db

SECTIONS = ("policies", "replies")


def browser_data(form: forms.Form, **changes) -> dict:
    """What a browser posts for `form` as rendered: unticked boxes absent, CRLF in textareas."""
    data = {}
    for bound in form:
        value = bound.value()
        widget = bound.field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            data[bound.html_name] = list(value or [])
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif isinstance(widget, forms.Textarea):
            data[bound.html_name] = (value or "").replace("\n", "\r\n")
        else:
            data[bound.html_name] = "" if value is None else str(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def edit_url(draft, section: str) -> str:
    return reverse("protocols:edit_section", args=[draft.pk, section])


def preview_url(draft, section: str) -> str:
    return reverse("protocols:preview_template", args=[draft.pk, section])


@pytest.fixture
def draft(supervisor):
    return services.create_draft(actor=supervisor)


@pytest.fixture
def signed_in(client, supervisor):
    supervisor.first_name = "Lucía"
    supervisor.save(update_fields=["first_name"])
    client.force_login(supervisor)
    return client


def page_form(client, draft, section: str) -> forms.Form:
    response = client.get(edit_url(draft, section))
    assert response.status_code == 200
    return response.context["form"]


# --- round trip --------------------------------------------------------------------------


def test_the_default_policies_load_into_the_form_and_save_back_identical():
    section = default_config()["policies"]
    shown = PoliciesForm(section_value=section)
    form = PoliciesForm(browser_data(shown), section_value=section)
    assert form.is_valid(), form.errors
    assert form.to_section() == section


def test_the_default_replies_section_loads_into_the_form_and_saves_back_identical():
    config = default_config()
    section = config["replies"]
    shown = RepliesForm(section_value=section, keyword_groups=config["keyword_groups"])
    form = RepliesForm(
        browser_data(shown), section_value=section, keyword_groups=config["keyword_groups"]
    )
    assert form.is_valid(), form.errors
    assert form.to_section() == section


@pytest.mark.parametrize("section", SECTIONS)
def test_saving_an_unchanged_page_leaves_the_draft_identical(signed_in, draft, section):
    before = draft.config
    response = signed_in.post(
        edit_url(draft, section), browser_data(page_form(signed_in, draft, section))
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.config == before


def test_other_languages_and_keys_the_form_does_not_show_are_kept():
    section = default_config()["policies"]
    section["high"]["actions"]["question"]["templates"]["fr"] = ["Bonjour {author}"]
    section["high"]["owner_note"] = "kept"
    shown = PoliciesForm(section_value=section)
    form = PoliciesForm(browser_data(shown), section_value=section)
    assert form.is_valid(), form.errors
    assert form.to_section() == section


# --- changes saved -----------------------------------------------------------------------


def test_supervisor_shortens_the_high_sla_and_adds_a_spanish_template(signed_in, draft):
    new = "Hola {author}, lo revisamos ahora mismo y te contamos. {agent}"
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        **{"high-sla_minutes": "30", "high-complaint_company_fault-es-1": new},
    )
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    high = draft.config["policies"]["high"]
    assert high["sla_minutes"] == 30
    assert high["actions"]["complaint_company_fault"]["templates"]["es"] == [
        default_config()["policies"]["high"]["actions"]["complaint_company_fault"]["templates"][
            "es"
        ][0],
        new,
    ]
    assert draft.config["policies"]["critical"] == default_config()["policies"]["critical"]
    event = AuditEvent.objects.filter(verb="protocol.edit").latest("pk")
    assert event.after["section"] == "policies"
    assert "policies.high.sla_minutes (changed)" in event.after["changes"]


def test_emptying_a_template_box_removes_that_template(signed_in, draft):
    data = browser_data(page_form(signed_in, draft, "policies"), **{"low-praise-en-0": "  \r\n "})
    assert signed_in.post(edit_url(draft, "policies"), data).status_code == 302
    draft.refresh_from_db()
    assert draft.config["policies"]["low"]["actions"]["praise"]["templates"]["en"] == []


def test_approval_and_escalation_contacts_are_saved_one_per_line(signed_in, draft):
    Team.objects.create(name="Legal")
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        **{
            "low-needs_approval": "on",
            "low-escalation_contacts": "pr@brisa.example\r\n\r\n legal \r\npr@brisa.example",
        },
    )
    assert signed_in.post(edit_url(draft, "policies"), data).status_code == 302
    draft.refresh_from_db()
    low = draft.config["policies"]["low"]
    assert low["needs_approval"] is True
    assert low["escalation_contacts"] == ["pr@brisa.example", "legal"]


def test_supervisor_edits_the_replies_section(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "replies"),
        brand="Brisa Fibra",
        approval_classes=["complaint_company_fault", "question"],
        legal_groups=["authority", "data_breach"],
        approval_escalate_minutes="45",
        boilerplate_es="disculpe las molestias\r\nsegún nuestra política",
        **{"ack-en-1": "Hi {author}, we'll DM you about {case}.", "hide_needs_approval": "on"},
    )
    assert signed_in.post(edit_url(draft, "replies"), data).status_code == 302
    draft.refresh_from_db()
    replies = draft.config["replies"]
    assert replies["brand"] == "Brisa Fibra"
    assert replies["approval_classes"] == ["complaint_company_fault", "question"]
    assert replies["legal_groups"] == ["authority", "data_breach"]
    assert replies["approval_escalate_minutes"] == 45
    assert replies["boilerplate"]["es"] == ["disculpe las molestias", "según nuestra política"]
    assert replies["boilerplate"]["en"] == default_config()["replies"]["boilerplate"]["en"]
    assert (
        replies["acknowledgement_templates"]["en"][-1] == "Hi {author}, we'll DM you about {case}."
    )
    assert replies["hide_needs_approval"] is True


def test_the_legal_groups_offered_are_the_versions_keyword_groups(signed_in, draft):
    form = page_form(signed_in, draft, "replies")
    keys = [key for key, _label in form.fields["legal_groups"].choices]
    assert keys == [group["key"] for group in draft.config["keyword_groups"]]
    data = browser_data(form, legal_groups=["no_such_group"])
    response = signed_in.post(edit_url(draft, "replies"), data)
    assert response.status_code == 200
    assert "legal_groups" in response.context["form"].errors


def test_add_a_template_adds_a_focused_blank_box_and_saves_nothing(signed_in, draft):
    before = draft.config
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        add_row="medium-question-en",
        **{"medium-sla_minutes": "5"},
    )
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="medium-question-en-2"' in page
    assert 'name="medium-sla_minutes" value="5"' in page  # what was typed stays
    box = page.split('<textarea name="medium-question-en-2"')[1].split(">")[0]
    assert "autofocus" in box
    draft.refresh_from_db()
    assert draft.config == before


# --- validation errors on their field ----------------------------------------------------


def test_an_unknown_variable_is_shown_on_its_template_box(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        **{"high-question-es-0": "Hola {foo}, te respondemos. {agent}"},
    )
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "unknown variable {foo}" in str(errors["high-question-es-0"])
    assert set(errors) == {"high-question-es-0"}
    draft.refresh_from_db()
    assert "{foo}" not in str(draft.config["policies"])


def test_an_error_lands_on_the_right_box_when_an_earlier_box_is_empty(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        **{"low-praise-es-0": "", "low-praise-es-1": "¡Gracias {autor}!"},
    )
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert "unknown variable {autor}" in str(response.context["form"].errors["low-praise-es-1"])


def test_an_sla_of_zero_is_shown_on_the_sla_field(signed_in, draft):
    data = browser_data(page_form(signed_in, draft, "policies"), **{"high-sla_minutes": "0"})
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert response.status_code == 200
    assert "must be at least 1" in str(response.context["form"].errors["high-sla_minutes"])
    page = response.content.decode()
    field_html = page.split('id="id_high-sla_minutes"')[1].split("</div>")[0]
    assert "must be at least 1" in field_html
    draft.refresh_from_db()
    assert draft.config["policies"]["high"]["sla_minutes"] == 60


def test_an_escalation_contact_must_be_an_address_or_a_team(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        **{"critical-escalation_contacts": "legal@brisa.example\r\nthe lawyers"},
    )
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert response.status_code == 200
    errors = str(response.context["form"].errors["critical-escalation_contacts"])
    assert "“the lawyers” is neither an e-mail address nor the name of a team" in errors


def test_a_bad_acknowledgement_template_and_a_long_phrase_are_shown_on_their_fields(
    signed_in, draft
):
    data = browser_data(
        page_form(signed_in, draft, "replies"),
        boilerplate_en="x" * 301,
        **{"ack-es-0": "Hola {author}, caso {numero}"},
    )
    response = signed_in.post(edit_url(draft, "replies"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "unknown variable {numero}" in str(errors["ack-es-0"])
    assert "1 to 300 characters" in str(errors["boilerplate_en"])


# --- the live preview --------------------------------------------------------------------


def test_the_preview_fills_the_sample_incident(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        preview="high-question-en-0",
        preview_channel="mastodon",
        **{"high-question-en-0": "Hi {author}, {agent} of {brand} here about {case} on {channel}."},
    )
    response = signed_in.post(preview_url(draft, "policies"), data, headers={"hx-request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    filled = "Hi María, Lucía of Brisa here about #123 on Mastodon."
    assert filled in page
    assert f"{len(filled)} of 500 characters on Mastodon" in page
    assert "unfilled" not in page and "boilerplate" not in page


def test_the_preview_flags_unknown_variables_and_boilerplate(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        preview="medium-complaint_no_reason-es-0",
        **{
            "medium-complaint_no_reason-es-0": "Hola {author}, disculpe las molestias. Ref {pedido}"
        },
    )
    page = signed_in.post(
        preview_url(draft, "policies"), data, headers={"hx-request": "true"}
    ).content.decode()
    assert "Hola María, disculpe las molestias. Ref {pedido}" in page
    assert "Unknown variables, left unfilled:" in page and "<code>{pedido}</code>" in page
    assert "Sounds like corporate boilerplate:" in page
    assert "<q>disculpe las molestias</q>" in page


def test_the_preview_counts_against_the_chosen_channels_limit(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        preview="low-praise-en-0",
        preview_channel="bluesky",
        **{"low-praise-en-0": "Thanks {author}! " + "a" * 300},
    )
    page = signed_in.post(
        preview_url(draft, "policies"), data, headers={"hx-request": "true"}
    ).content.decode()
    assert "314 of 300 characters on Bluesky" in page
    assert "too long for this channel" in page


def test_the_preview_warns_about_a_template_that_cannot_be_read(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        preview="low-praise-en-0",
        **{"low-praise-en-0": "Thanks {author"},
    )
    page = signed_in.post(
        preview_url(draft, "policies"), data, headers={"hx-request": "true"}
    ).content.decode()
    assert "This template cannot be read" in page


def test_the_replies_preview_uses_the_brand_and_phrases_being_typed(signed_in, draft):
    data = browser_data(
        page_form(signed_in, draft, "replies"),
        brand="Brisa Móvil",
        boilerplate_en="thanks for reaching out",
        preview="ack-en-0",
        **{"ack-en-0": "Thanks for reaching out, {author}. {brand} will DM you."},
    )
    page = signed_in.post(
        preview_url(draft, "replies"), data, headers={"hx-request": "true"}
    ).content.decode()
    assert "Brisa Móvil will DM you." in page
    assert "<q>thanks for reaching out</q>" in page


def test_the_preview_works_without_javascript_and_saves_nothing(signed_in, draft):
    before = draft.config
    data = browser_data(
        page_form(signed_in, draft, "policies"),
        preview="critical-complaint_company_fault-es-0",
        **{"critical-sla_minutes": "0"},
    )
    response = signed_in.post(edit_url(draft, "policies"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert "Hola María, tienes toda la razón" in page
    assert 'name="preview_source" value="critical-complaint_company_fault-es-0"' in page
    draft.refresh_from_db()
    assert draft.config == before


def test_the_preview_url_as_a_full_page(signed_in, draft):
    data = browser_data(page_form(signed_in, draft, "replies"), preview="ack-es-0")
    response = signed_in.post(preview_url(draft, "replies"), data)
    page = response.content.decode()
    assert "<html" in page and "Hola María, lo sentimos." in page
    assert signed_in.get(preview_url(draft, "replies")).status_code == 302


def test_a_preview_of_no_template_asks_for_one(signed_in, draft):
    data = browser_data(page_form(signed_in, draft, "policies"), preview="sla_minutes")
    page = signed_in.post(
        preview_url(draft, "policies"), data, headers={"hx-request": "true"}
    ).content.decode()
    assert "to see it filled for the sample incident" in page


# --- the JSON view stays ------------------------------------------------------------------


@pytest.mark.parametrize("section", SECTIONS)
def test_the_advanced_json_view_still_edits_the_section(signed_in, draft, section):
    import json

    page = signed_in.get(edit_url(draft, section) + "?view=json")
    assert page.status_code == 200
    assert 'name="value"' in page.content.decode()
    value = draft.config[section]
    if section == "policies":
        value["low"]["sla_minutes"] = 720
    else:
        value["follow_up_due_hours"] = 48
    response = signed_in.post(edit_url(draft, section), {"value": json.dumps(value)})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.config[section] == value


def test_the_form_page_links_to_the_json_view(signed_in, draft):
    page = signed_in.get(edit_url(draft, "policies")).content.decode()
    assert 'href="?view=json"' in page
    assert "hx-post" in page and "high-question-es-0" in page


def test_the_version_page_shows_the_replies_section_and_the_templates(signed_in, draft):
    page = signed_in.get(reverse("protocols:detail", args=[draft.pk])).content.decode()
    assert "Classes that always need approval" in page
    assert "Complaint: company at fault" in page
    assert "Recommended actions and reply templates" in page
    assert "Hola {author}, tienes toda la razón" in page
    assert edit_url(draft, "replies") in page


# --- who may use it ------------------------------------------------------------------------


def _urls(draft) -> list[tuple[str, str]]:
    return [
        ("get", edit_url(draft, "policies")),
        ("get", edit_url(draft, "replies")),
        ("post", edit_url(draft, "policies")),
        ("post", preview_url(draft, "policies")),
        ("post", preview_url(draft, "replies")),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(client, draft):
    for method, url in _urls(draft):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("role", ["manager", "executive", "administrator"])
def test_only_a_supervisor_may_edit_policies(client, draft, request, role):
    client.force_login(request.getfixturevalue(role))
    for method, url in _urls(draft):
        assert getattr(client, method)(url).status_code == 403, (role, url)
    draft.refresh_from_db()
    assert draft.config == services.active_version().config


def test_a_supervisor_may_open_every_page(signed_in, draft):
    for method, url in _urls(draft):
        response = getattr(signed_in, method)(url, {"preview": "low-praise-es-0"})
        assert response.status_code in (200, 302), url


@pytest.mark.parametrize("status", [ProtocolStatus.ACTIVE, ProtocolStatus.ARCHIVED])
def test_active_and_archived_versions_are_not_editable(signed_in, supervisor, status):
    first = services.active_version()
    if status == ProtocolStatus.ARCHIVED:
        services.activate(actor=supervisor, version=services.create_draft(actor=supervisor))
        first.refresh_from_db()
    assert first.status == status
    for method, url in _urls(first):
        assert getattr(signed_in, method)(url).status_code == 404, url
    page = signed_in.get(reverse("protocols:detail", args=[first.pk])).content.decode()
    assert edit_url(first, "policies") not in page
