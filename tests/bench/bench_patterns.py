"""Pattern benchmark: hostile keyword patterns and huge mentions, scored in bounded time.

Run with `python tests/bench/bench_patterns.py`. Prints the time to score
"a"*10,000 + "!" against a protocol holding the keyword pattern `(a+)+$` (target under 50 ms;
Python's backtracking `re` took minutes at 40 characters), a 1,000,000-character mention with
the default protocol, and the keyword matching alone on a million characters. Asserts nothing.
Not collected by pytest.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))


def timed(function, runs: int = RUNS) -> tuple[float, float]:
    """(median, worst) wall time of `function` in milliseconds over `runs` runs."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")
    from protocols.defaults import default_config
    from protocols.scoring.engine import MAX_SCORED_CHARS, compile_protocol, score_mention
    from protocols.scoring.patterns import compile_group, keyword_text, matched_words

    config = default_config()
    config["keyword_groups"].append(
        {"key": "hostile", "label": "Hostile", "patterns": ["(a+)+$"], "regex": True, "boost": 5}
    )
    hostile = compile_protocol(config)
    default = compile_protocol(default_config())
    attack = "a" * 10_000 + "!"
    huge = ("el servicio no funciona y quiero la hoja de reclamaciones " * 17_000)[:1_000_000]
    matcher = compile_group("hostile", ["(a+)+$"], regex=True)
    million = "a" * 1_000_000 + "!"

    median, worst = timed(lambda: score_mention(attack, language="en", protocol=hostile))
    print(f'(a+)+$ on "a"*10,000 + "!": median {median:.2f} ms, worst {worst:.2f} ms (target < 50)')
    median, worst = timed(lambda: score_mention(huge, protocol=default))
    print(
        f"1,000,000-char mention, default protocol: median {median:.2f} ms, worst {worst:.2f} ms "
        f"(the scorer reads the first {MAX_SCORED_CHARS:,})"
    )
    median, worst = timed(lambda: matched_words(matcher, keyword_text(million)))
    print(f'(a+)+$ alone on "a"*1,000,000 + "!": median {median:.2f} ms, worst {worst:.2f} ms')


if __name__ == "__main__":
    main()
