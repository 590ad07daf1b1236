"""Garbage collection tuned for a long-running bot process.

CPython frees almost everything by reference counting; its cyclic collector is
a second net, and it runs by counting allocations. Two defaults cost a busy
bot dearly:

- A full collection walks every object the process holds. After start-up,
  most of them are the content catalog, the flow machines, and SQLAlchemy's
  and PTB's own objects, which live as long as the process. ``gc.freeze()``
  moves them out of the collector's way, so a full collection only walks what
  has been made since.
- The youngest generation is collected after 700 new objects. PTB turns every
  update into a few hundred objects (a pressed button arrives with its whole
  message and keyboard), so that happened every turn or two. After 10,000 it
  happens every twenty turns or so, for the same garbage.

In the Telegram benchmark this made one process about a tenth faster (see
README, Performance). ``companion run`` calls :func:`settle_after_start_up`
once everything is loaded; short-lived commands need not. Objects frozen are
never collected, so start-up's garbage is collected first; what start-up keeps
lives as long as the process anyway.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 10_000


def settle_after_start_up() -> None:
    """Collect start-up's garbage, freeze what is left, and collect the young less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
