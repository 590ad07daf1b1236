"""The garbage-collection settings ``companion run`` applies once it has started."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.memory import YOUNG_GENERATION_THRESHOLD, settle_after_start_up


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """The test process goes back to its own settings afterwards."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settling_freezes_what_start_up_made_and_collects_the_young_less_often(restored_gc: None) -> None:
    gc.unfreeze()
    kept = [[] for _ in range(10)]  # tracked objects alive at start-up
    garbage = _Node()
    garbage.itself = garbage  # a cycle only the collector can free
    gone = weakref.ref(garbage)
    del garbage
    settle_after_start_up()
    assert gc.get_freeze_count() >= len(kept)
    assert gone() is None  # collected before the freeze, not kept for ever
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD > 700


class _Node:
    itself: object
