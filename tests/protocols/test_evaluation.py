"""The Score-to-label mapping and the eval_scoring output on a tiny data folder."""

import csv
import re
from io import StringIO

from django.core.management import call_command

from protocols.evaluation import (
    Result,
    cross_validate,
    evaluate_folder,
    label_for,
    metrics,
    read_rows,
)
from protocols.scoring.types import Score

LINE = re.compile(r"^\S+ (es|en) \d+ [01]\.\d{3} [01]\.\d{3}$")


def make_score(**fields):
    values = {"value": 10, "severity": "low", "triage_class": "neutral", "sentiment": 0.0}
    values.update(fields)
    return Score(language="es", **values)


def test_sentiment_mapping_uses_polarity_thresholds():
    assert label_for("sentiment", make_score(sentiment=-0.6)) == "negative"
    assert label_for("sentiment", make_score(sentiment=0.0)) == "neutral"
    assert label_for("sentiment", make_score(sentiment=0.7)) == "positive"


def test_binary_task_mappings_follow_the_score_flags():
    assert label_for("complaint", make_score(is_complaint=True)) == "complaint"
    assert label_for("complaint", make_score()) == "not_complaint"
    assert label_for("abuse", make_score(is_abusive=True)) == "abusive"
    assert label_for("abuse", make_score()) == "not_abusive"
    assert label_for("question", make_score(is_question=True)) == "question"
    assert label_for("question", make_score()) == "not_question"


def test_metrics_accuracy_and_macro_f1():
    accuracy, macro_f1 = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], ("a", "b"))
    assert accuracy == 0.75
    assert round(macro_f1, 3) == round((2 / 3 + 0.8) / 2, 3)


def write_set(folder, name, task, rows):
    path = folder / name
    path.mkdir()
    with (path / "data.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(["text", "label", "lang", "task"])
        for text, label, lang in rows:
            writer.writerow([text, label, lang, task])


def tiny_folder(tmp_path):
    write_set(
        tmp_path,
        "sentiment_mixed",
        "sentiment",
        [
            ("Pésimo servicio, no funciona", "negative", "es"),
            ("Muchas gracias, sois geniales", "positive", "es"),
            ("Hoy voy a la tienda", "neutral", "es"),
            ("Worst airline ever, delayed again", "negative", "en"),
            ("Thanks, great crew!", "positive", "en"),
        ],
    )
    write_set(
        tmp_path,
        "question_en",
        "question",
        [("How do I cancel my plan?", "question", "en"), ("Nice day today", "not_question", "en")],
    )
    (tmp_path / "streams").mkdir()  # no data.csv: not a scoring set
    (tmp_path / "streams" / "AAPL.csv").write_text("timestamp,count\n")
    return tmp_path


def test_evaluate_folder_scores_every_set_and_language(tmp_path):
    results = list(evaluate_folder(tiny_folder(tmp_path)))
    assert [(r.name, r.language, r.count) for r in results] == [
        ("question_en", "en", 2),
        ("sentiment_mixed", "en", 2),
        ("sentiment_mixed", "es", 3),
    ]
    assert all(result.accuracy == 1.0 for result in results)


def test_result_line_format():
    assert Result("sentiment_es_tass", "es", 4802, 0.5612, 0.5123).line() == (
        "sentiment_es_tass es 4802 0.561 0.512"
    )


def test_eval_scoring_command_prints_one_line_per_set_and_language(tmp_path):
    out = StringIO()
    call_command("eval_scoring", str(tiny_folder(tmp_path)), stdout=out)
    lines = out.getvalue().splitlines()
    shipped = [line for line in lines if ":learned" not in line]
    assert len(shipped) == 3
    assert all(LINE.match(line) for line in shipped), lines
    assert shipped[0].startswith("question_en en 2 1.000 1.000")
    learned = [line for line in lines if ":learned" in line]
    assert all(line.split()[0].endswith(":learned") for line in learned)


def test_cross_validation_learns_from_the_folder_labels(tmp_path):
    rows = [("buen servicio gracias", "positive", "es"), ("fatal servicio", "negative", "es")] * 10
    write_set(tmp_path, "learn", "sentiment", rows)
    (result,) = cross_validate("learn", read_rows(tmp_path / "learn" / "data.csv"))
    assert result.name == "learn:learned"
    assert result.accuracy == 1.0
