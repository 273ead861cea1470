"""Triage corrections as labelled data: a folder in the format of shared/data, labelled by the
evaluation's own mapping, that the eval command reads unchanged; a zip for supervisors."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from crisis.incidents import services
from crisis.incidents.export import EXPORTED_TASKS, score_for_class
from crisis.incidents.models import IncidentState
from crisis.models import AuditEvent
from protocols.evaluation import data_sets, read_rows
from protocols.scoring.types import TriageClass
from tests.incidents.factories import NOW, incident, manager, scored_mention, team

pytestmark = pytest.mark.django_db

EXPECTED_LABELS = {
    # corrected class: (complaint, abuse, question)
    "complaint_company_fault": ("complaint", "not_abusive", "not_question"),
    "complaint_no_reason": ("complaint", "not_abusive", "not_question"),
    "troll_abuse": ("not_complaint", "abusive", "not_question"),
    "question": ("not_complaint", "not_abusive", "question"),
    "praise": ("not_complaint", "not_abusive", "not_question"),
    "neutral": ("not_complaint", "not_abusive", "not_question"),
}


def _corrected(to_class: str, *, text: str, origin: str = "live", at=NOW):
    """An incident owned by a manager, whose class they corrected to `to_class`."""
    owner = manager(f"owner-{to_class}-{origin}-{text[:8]}")
    case = incident(state=IncidentState.ASSIGNED, owner=owner, at=at)
    case.origin = origin
    case.triage_class = "neutral" if to_class != "neutral" else "praise"
    case.save()
    mention = case.first_mention
    mention.text, mention.language = text, "en"
    mention.save()
    services.correct_triage_class(
        actor=owner, incident=case, to_class=to_class, reason="a person read it", now=at
    )
    return case


def _rows(folder, task):
    with (folder / task / "data.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_each_task_gets_a_folder_with_the_shared_files_and_columns(tmp_path):
    _corrected("question", text="How do I get a refund?")
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    for task in EXPORTED_TASKS:
        assert (tmp_path / task / "SOURCE.md").is_file()
        header = (tmp_path / task / "data.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == '"text","label","lang","task","timestamp"'  # every field quoted
    assert set(EXPORTED_TASKS) == {"complaint", "abuse", "question"}


@pytest.mark.parametrize("to_class", TriageClass.values)
def test_labels_come_from_the_corrected_class_through_the_evaluation_mapping(tmp_path, to_class):
    _corrected(to_class, text="Some mention text")
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    labels = tuple(_rows(tmp_path, task)[0]["label"] for task in EXPORTED_TASKS)
    assert labels == EXPECTED_LABELS[to_class]
    assert [_rows(tmp_path, task)[0]["task"] for task in EXPORTED_TASKS] == list(EXPORTED_TASKS)


def test_score_for_class_is_what_the_evaluation_reads_for_that_class():
    score = score_for_class("complaint_no_reason")
    assert (score.is_complaint, score.is_abusive, score.is_question) == (True, False, False)


def test_the_latest_correction_of_a_mention_is_its_label(tmp_path):
    case = _corrected("question", text="Is my order lost?")
    services.correct_triage_class(
        actor=case.owner,
        incident=case,
        to_class="complaint_company_fault",
        reason="on reflection, a lost parcel",
        now=NOW + timedelta(minutes=5),
    )
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    rows = _rows(tmp_path, "complaint")
    assert [(row["text"], row["label"]) for row in rows] == [("Is my order lost?", "complaint")]


def test_text_language_and_timestamp_are_the_mentions(tmp_path):
    case = _corrected("troll_abuse", text='You are all "idiots",\nsecond line')
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    row = _rows(tmp_path, "abuse")[0]
    assert row["text"] == 'You are all "idiots",\nsecond line'
    assert row["lang"] == "en"
    assert row["timestamp"] == case.first_mention.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_cells_a_spreadsheet_would_run_are_neutralised(tmp_path):
    _corrected("question", text='=HYPERLINK("http://evil")')
    _corrected("question", text="@brisa where is my refund?")
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    texts = {row["text"] for row in _rows(tmp_path, "question")}
    assert texts == {'\'=HYPERLINK("http://evil")', "'@brisa where is my refund?"}


def test_corrections_made_in_a_drill_are_not_exported(tmp_path):
    _corrected("question", text="drill mention", origin="run:4")
    _corrected("question", text="live mention")
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    assert [row["text"] for row in _rows(tmp_path, "question")] == ["live mention"]


def test_eval_scoring_reads_the_exported_folder_unchanged(tmp_path):
    _corrected("complaint_company_fault", text="You charged me twice and nobody answers, awful")
    _corrected("question", text="How do I change my delivery address?")
    _corrected("troll_abuse", text="You are a bunch of useless idiots")
    _corrected("praise", text="Thank you, the new app is great")
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    assert [path.name for path in data_sets(tmp_path)] == ["abuse", "complaint", "question"]
    assert all(len(read_rows(path / "data.csv")) == 4 for path in data_sets(tmp_path))
    out = io.StringIO()
    call_command("eval_scoring", str(tmp_path), "--no-learned", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["abuse", "en", "4"],
        ["complaint", "en", "4"],
        ["question", "en", "4"],
    ]
    for line in lines:
        accuracy, macro_f1 = map(float, line.split()[3:])
        assert 0.0 <= accuracy <= 1.0 and 0.0 <= macro_f1 <= 1.0


def test_no_corrections_export_empty_data_sets_the_evaluation_skips(tmp_path):
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("eval_scoring", str(tmp_path), "--no-learned", stdout=out)
    assert out.getvalue() == ""


# --- the supervisors' button ------------------------------------------------------------------


def test_supervisor_downloads_the_folder_as_a_zip_and_it_is_audited(client, supervisor):
    _corrected("question", text="How do I get a refund?")
    client.force_login(supervisor)
    response = client.post(reverse("incidents:export_corrections"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted(
        f"calma-corrections/{task}/{name}"
        for task in EXPORTED_TASKS
        for name in ("data.csv", "SOURCE.md")
    )
    assert "How do I get a refund?" in archive.read("calma-corrections/question/data.csv").decode()
    assert AuditEvent.objects.filter(verb="incident.corrections_export", actor=supervisor).exists()


def test_supervisors_see_the_export_button_on_the_incident_page(client, supervisor):
    case = incident()
    client.force_login(supervisor)
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert reverse("incidents:export_corrections") in page


def test_managers_do_not_see_the_export_button(client):
    care = team("Care")
    case = incident(of=care)
    client.force_login(manager("cm", of=care))
    page = client.get(reverse("incidents:detail", args=[case.pk])).content.decode()
    assert reverse("incidents:export_corrections") not in page


@pytest.mark.parametrize("role", ["executive", "administrator"])
def test_executives_and_admins_cannot_export(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.post(reverse("incidents:export_corrections")).status_code == 403


def test_a_manager_cannot_export(client):
    client.force_login(manager("cm", of=team("Care")))
    assert client.post(reverse("incidents:export_corrections")).status_code == 403


def test_anonymous_visitor_is_sent_to_login_for_the_export(client, db):
    response = client.post(reverse("incidents:export_corrections"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_export_is_a_post_only(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("incidents:export_corrections")).status_code == 405


def test_a_mention_nobody_corrected_is_not_labelled_data(tmp_path):
    scored_mention(text="just scored")
    call_command("export_corrections", str(tmp_path), stdout=io.StringIO())
    assert _rows(tmp_path, "complaint") == []
