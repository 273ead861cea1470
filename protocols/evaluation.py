"""Measuring the scorer on labelled data folders: the Score-to-label mapping lives here only.

A data folder holds one sub-folder per data set with a `data.csv` (columns text, label, lang,
task; see shared/data/README.md). `evaluate_folder` scores every row with the protocol as
shipped and reports, per data set and language, accuracy and macro-F1. `learned_lines`
adds, per data set, 5-fold cross-validation of a small multinomial naive Bayes over the
normaliser's tokens: what an organisation would get after labelling that many mentions.
"""

import csv
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from protocols.defaults import default_config
from protocols.scoring.engine import CompiledProtocol, compile_protocol, score_mention
from protocols.scoring.normalise import normalise
from protocols.scoring.types import Score

# Polarity thresholds on Score.sentiment, identical for every sentiment data set.
NEGATIVE_BELOW = -0.1
POSITIVE_ABOVE = 0.3


def sentiment_label(score: Score) -> str:
    if score.sentiment <= NEGATIVE_BELOW:
        return "negative"
    if score.sentiment >= POSITIVE_ABOVE:
        return "positive"
    return "neutral"


def complaint_label(score: Score) -> str:
    return "complaint" if score.is_complaint else "not_complaint"


def abuse_label(score: Score) -> str:
    return "abusive" if score.is_abusive else "not_abusive"


def question_label(score: Score) -> str:
    return "question" if score.is_question else "not_question"


TASKS: dict[str, tuple[Callable[[Score], str], tuple[str, ...]]] = {
    "sentiment": (sentiment_label, ("negative", "neutral", "positive")),
    "complaint": (complaint_label, ("complaint", "not_complaint")),
    "abuse": (abuse_label, ("abusive", "not_abusive")),
    "question": (question_label, ("question", "not_question")),
}


def label_for(task: str, score: Score) -> str:
    """The label a Score means for a task (sentiment, complaint, abuse, question)."""
    return TASKS[task][0](score)


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    label: str
    language: str
    task: str


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    language: str
    count: int
    accuracy: float
    macro_f1: float

    def line(self) -> str:
        return (
            f"{self.name} {self.language or '-'} {self.count} "
            f"{self.accuracy:.3f} {self.macro_f1:.3f}"
        )


def read_rows(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Row(
                text=row.get("text") or "",
                label=(row.get("label") or "").strip(),
                language=(row.get("lang") or "").strip(),
                task=(row.get("task") or "").strip(),
            )
            for row in csv.DictReader(handle)
        ]


def data_sets(folder: Path) -> list[Path]:
    """Sub-folders (and the folder itself) that hold a data.csv, by name."""
    found = [path for path in sorted(folder.iterdir()) if (path / "data.csv").is_file()]
    if (folder / "data.csv").is_file():
        found.insert(0, folder)
    return found


def metrics(gold: list[str], predicted: list[str], labels: Iterable[str]) -> tuple[float, float]:
    """(accuracy, macro-F1 over the task's labels present in gold or predictions)."""
    if not gold:
        return 0.0, 0.0
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    present = [label for label in labels if label in gold or label in predicted]
    scores = []
    for label in present:
        true_positive = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        predicted_count = predicted.count(label)
        gold_count = gold.count(label)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / gold_count if gold_count else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return accuracy, sum(scores) / len(scores) if scores else 0.0


def _group_by_language(rows: list[Row]) -> dict[str, list[Row]]:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.language].append(row)
    return dict(sorted(groups.items()))


def evaluate_rows(name: str, rows: list[Row], protocol: CompiledProtocol) -> list[Result]:
    results = []
    for language, group in _group_by_language(rows).items():
        task = group[0].task
        if task not in TASKS:
            continue
        mapping, labels = TASKS[task]
        gold = [row.label for row in group]
        predicted = [
            mapping(score_mention(row.text, language=row.language, protocol=protocol))
            for row in group
        ]
        accuracy, macro_f1 = metrics(gold, predicted, labels)
        results.append(Result(name, language, len(group), accuracy, macro_f1))
    return results


def _tokens(text: str) -> list[str]:
    tokens = [
        token for token in normalise(text).tokens if token[0].isalnum() or ord(token[0]) > 127
    ]
    return tokens + [f"{a}_{b}" for a, b in pairwise(tokens)]


class NaiveBayes:
    """Multinomial naive Bayes, add-one smoothing, uniform prior (standard library only)."""

    def fit(self, documents: list[list[str]], labels: list[str]) -> "NaiveBayes":
        self.priors = Counter(labels)
        self.counts: dict[str, Counter] = {label: Counter() for label in self.priors}
        for tokens, label in zip(documents, labels, strict=True):
            self.counts[label].update(tokens)
        self.vocabulary = set().union(*self.counts.values())
        self.totals = {label: sum(counts.values()) for label, counts in self.counts.items()}
        return self

    def predict(self, tokens: list[str]) -> str:
        size = len(self.vocabulary) + 1
        best, best_score = "", -math.inf
        for label in self.priors:
            counts, total = self.counts[label], self.totals[label] + size
            # Uniform class prior: on skewed folders the majority prior drowns the minority.
            score = sum(
                math.log((counts.get(token, 0) + 1) / total)
                for token in tokens
                if token in self.vocabulary
            )
            if score > best_score:
                best, best_score = label, score
        return best


def cross_validate(name: str, rows: list[Row], folds: int = 5, seed: int = 7) -> list[Result]:
    """`<name>:learned` results: k-fold cross-validation of naive Bayes on the folder's labels."""
    results = []
    for language, group in _group_by_language(rows).items():
        task = group[0].task
        if task not in TASKS or len(group) < folds:
            continue
        order = list(range(len(group)))
        random.Random(seed).shuffle(order)  # noqa: S311 - reproducible folds, not security
        documents = [_tokens(row.text) for row in group]
        predicted = [""] * len(group)
        for fold_index in range(folds):
            test = set(order[fold_index::folds])
            train = [i for i in order if i not in test]
            model = NaiveBayes().fit([documents[i] for i in train], [group[i].label for i in train])
            for i in test:
                predicted[i] = model.predict(documents[i])
        gold = [row.label for row in group]
        accuracy, macro_f1 = metrics(gold, predicted, TASKS[task][1])
        results.append(Result(f"{name}:learned", language, len(group), accuracy, macro_f1))
    return results


def evaluate_folder(
    folder: Path, *, learned: bool = False, protocol: CompiledProtocol | None = None
) -> Iterable[Result]:
    """Results for every data set of a folder, scored with the shipped protocol."""
    protocol = protocol or compile_protocol(default_config())
    for path in data_sets(folder):
        rows = read_rows(path / "data.csv")
        yield from evaluate_rows(path.name, rows, protocol)
        if learned:
            yield from cross_validate(path.name, rows)
