"""Scoring benchmark: mentions scored per second on one core, compile time excluded.

Run with `python tests/bench/bench_scoring.py` (or `make bench-scoring`). Uses the labelled
texts of ../shared/data when present, else synthetic Spanish and English mentions. Prints
figures; asserts nothing. Not collected by pytest.
"""

import csv
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("BENCH_DATA", ROOT.parent / "shared" / "data"))
TOTAL = int(os.environ.get("BENCH_MENTIONS", "50000"))

WORDS_ES = (
    "el servicio de brisa no funciona hoy llevo dos horas sin fibra gracias pésimo muy "
    "bueno me han cobrado dos veces la factura ¿alguien sabe cómo reclamar? OCU 😡 jajaja"
).split()
WORDS_EN = (
    "my brisa bill is wrong again and support never answers thanks love it not bad "
    "charged twice refund please how do I cancel? lawyer 👍 lol sooo slow!!!"
).split()


def labelled_texts() -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    if not DATA.is_dir():
        return texts
    for path in sorted(DATA.glob("*/data.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts.extend((row["text"], "") for row in csv.DictReader(handle))
    return texts


def synthetic_texts(count: int) -> list[tuple[str, str]]:
    rng = random.Random(42)  # noqa: S311 - reproducible text, not security
    texts = []
    for _ in range(count):
        words = WORDS_ES if rng.random() < 0.5 else WORDS_EN
        texts.append((" ".join(rng.choices(words, k=rng.randint(6, 30))), ""))
    return texts


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")
    from protocols.defaults import default_config
    from protocols.scoring.engine import compile_protocol, score_mention
    from protocols.scoring.types import AuthorContext, ScoringContext

    texts = labelled_texts() or synthetic_texts(TOTAL)
    source = "labelled texts" if DATA.is_dir() and texts else "synthetic texts"
    mentions = (texts * (TOTAL // max(len(texts), 1) + 1))[:TOTAL]
    protocol = compile_protocol(default_config())
    author = AuthorContext(followers=12_000, flags=frozenset({"customer"}), previous_complaints=3)
    context = ScoringContext(velocity_factor=1.5, velocity_topic="billing")
    for text, language in mentions[:500]:  # warm-up
        score_mention(text, language=language, author=author, context=context, protocol=protocol)
    started = time.perf_counter()
    for text, language in mentions:
        score_mention(text, language=language, author=author, context=context, protocol=protocol)
    elapsed = time.perf_counter() - started
    print(
        f"scoring: {len(mentions)} mentions in {elapsed:.2f} s = "
        f"{len(mentions) / elapsed:,.0f} mentions/s (one core, {source}, language detected)"
    )


if __name__ == "__main__":
    main()
