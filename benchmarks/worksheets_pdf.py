"""How long `companion worksheets` takes to lay out and draw the worksheets, and how many pages they have.

    python benchmarks/worksheets_pdf.py [--rounds N]

The content is read once; each round builds the worksheets from it and draws
the PDF (fonts embedded), in English and in Swedish. The first round (fonts
loading, cold caches) is printed apart from the median of the rest.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pypdf

from bot.content import DEFAULT_CONTENT_DIR, load_catalog
from bot.summary.worksheets import build_worksheets, render_worksheets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    catalog = load_catalog(DEFAULT_CONTENT_DIR)
    for language in ("en", "sv"):
        times = []
        data = b""
        for _ in range(args.rounds):
            start = time.perf_counter()
            data = render_worksheets(build_worksheets(catalog, language))
            times.append((time.perf_counter() - start) * 1000)
        pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        print(
            f"{language}: {pages} pages, {len(data) // 1024} KiB; first round {times[0]:.0f} ms, "
            f"median of the rest {statistics.median(times[1:]):.0f} ms"
        )


if __name__ == "__main__":
    main()
