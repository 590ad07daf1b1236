"""What checking the content costs `companion chat` and `companion run` at start-up.

    python benchmarks/content_check.py [--content DIR] [--rounds N]

Both commands read the content folder once and run every check on it
(bot/checks.py) before they talk to anyone. The script times, in this one
process, reading and validating the content as the commands did before
(``load_catalog``) and reading and checking it as they do now
(``checked_catalog``), then the checks alone on content already read: that
is what checking adds to a start. The first
round (cold caches) is printed apart from the median of the rest.
Nothing is cached on disk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.checks import checked_catalog, every_check
from bot.content import DEFAULT_CONTENT_DIR, load_catalog, read_documents
from flows.check import check_documents


def timed(work: Callable[[], object], rounds: int) -> tuple[float, float]:
    """(first run, median of the others) in milliseconds."""
    times = []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", type=Path, default=DEFAULT_CONTENT_DIR)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    folder: Path = options.content

    for name, work in (
        ("read and validate (before)", lambda: load_catalog(folder)),
        ("read and check every check (now)", lambda: checked_catalog(folder)),
    ):
        first, median = timed(work, options.rounds)
        print(f"{name:40s} first {first:7.1f} ms   median {median:7.1f} ms")
    catalog = load_catalog(folder)
    documents = read_documents(folder)
    first, median = timed(lambda: check_documents(documents, every_check()), options.rounds)
    print(f"{'every check, on content already read':40s} first {first:7.1f} ms   median {median:7.1f} ms")
    first, median = timed(lambda: check_documents(documents, ()), options.rounds)
    print(f"{'  structure (flows, texts, graph)':40s} first {first:7.1f} ms   median {median:7.1f} ms")
    for check in every_check():
        first, median = timed(lambda check=check: list(check(catalog)), options.rounds)
        print(f"{'  ' + check.__name__:40s} first {first:7.1f} ms   median {median:7.1f} ms")


if __name__ == "__main__":
    main()
