"""The project's targets for crisis detection, on every labelled set present in benchmarks/crisis/.

- every crisis message (labelled definite or possible) reaches the card or the safety question;
- at least 90% of crisis cards go to messages labelled definite or possible;
- at most 10% of hard negatives get the question or the card;
- every conversation of a person at risk gets the question or the card at some point,
  and at most 10% of conversations of people at no risk get the crisis card.

Every development set is held to them, development-4 and development-5 too: each was the
held-out set, run once untuned (its figures then are kept below and in
benchmarks/crisis/README.md) and then opened for tuning. The new held-out set,
``heldout-3.yaml``, is written apart and kept elsewhere until it is run: its tests skip while it
is absent, and nobody reads or tunes against it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from flows.catalog import Catalog
from flows.crisis import CrisisDetector

ROOT = Path(__file__).parent.parent
DATA = ROOT / "benchmarks" / "crisis"
SET_FILES = (
    "development.yaml",
    "development-extra.yaml",
    "development-2.yaml",
    "development-3.yaml",
    "development-4.yaml",
    "development-5.yaml",
)
"""The development sets, held to the project's targets."""
HELD_OUT = DATA / "heldout-3.yaml"


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crisis_eval", ROOT / "benchmarks" / "crisis_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crisis_eval"] = module
    spec.loader.exec_module(module)
    return module


crisis_eval = _load_benchmark()


@pytest.fixture(scope="module")
def detector(catalog: Catalog) -> CrisisDetector:
    return CrisisDetector.from_catalog(catalog, required=("en", "sv"))


@pytest.fixture(scope="module", params=SET_FILES)
def result(request: pytest.FixtureRequest, detector: CrisisDetector) -> object:
    path = DATA / request.param
    if not path.exists():
        pytest.skip(f"{path.name} is not here ({path})")
    return crisis_eval.evaluate(detector, path)


def _listed(messages: list[object]) -> str:
    return "\n".join(f"  [{m.language} {m.label}/{m.category}] {m.text}" for m in messages)  # type: ignore[attr-defined]


def test_every_crisis_message_reaches_the_card_or_the_question(result: object) -> None:
    reached, total = result.reached()  # type: ignore[attr-defined]
    assert total > 0
    assert reached == total, f"missed in {result.name}:\n{_listed(result.missed())}"  # type: ignore[attr-defined]


def test_at_least_nine_in_ten_cards_go_to_crisis_messages(result: object) -> None:
    right, cards = result.card_precision()  # type: ignore[attr-defined]
    assert cards == 0 or right / cards >= 0.9, f"cards in {result.name}:\n{_listed(result.false_cards())}"  # type: ignore[attr-defined]


def test_at_most_one_in_ten_hard_negatives_gets_the_question_or_the_card(result: object) -> None:
    alarms, total = result.hard_negatives_asked()  # type: ignore[attr-defined]
    assert total == 0 or alarms / total <= 0.1, f"in {result.name}:\n{_listed(result.hard_negative_alarms())}"  # type: ignore[attr-defined]


def test_every_conversation_at_risk_gets_help(result: object) -> None:
    helped, total = result.at_risk_helped()  # type: ignore[attr-defined]
    assert helped == total


def test_conversations_at_no_risk_rarely_get_the_crisis_card(result: object) -> None:
    carded, total = result.no_risk_carded()  # type: ignore[attr-defined]
    assert total == 0 or carded / total <= 0.1


def test_the_evaluation_counts_what_it_says(detector: CrisisDetector, tmp_path: Path) -> None:
    """A small set with known answers, so the figures above cannot pass by counting nothing."""
    path = tmp_path / "tiny.yaml"
    path.write_text(
        """
messages:
  - {text: "I want to kill myself", language: en, label: definite, category: intent}
  - {text: "I wish I was dead", language: en, label: possible, category: wish_to_be_dead}
  - {text: "I like my new dog", language: en, label: definite, category: intent}
  - {text: "this medicine is killing my sex drive", language: en, label: none, category: idiom, hard_negative: true}
  - {text: "I want to end my life", language: en, label: none, category: idiom, hard_negative: true}
conversations:
  - {id: a, language: en, at_risk: true, messages: ["hello", "nothing will ever get better", "I'm so tired of everything"]}
  - {id: b, language: en, at_risk: true, messages: ["hello", "thanks"]}
  - {id: c, language: en, at_risk: false, messages: ["I took a whole box of paracetamol"]}
""",
        encoding="utf-8",
    )
    result = crisis_eval.evaluate(detector, path)
    assert result.reached() == (2, 3)
    assert [m.text for m in result.missed()] == ["I like my new dog"]
    assert result.card_precision() == (1, 2)
    assert result.hard_negatives_asked() == (1, 2)
    assert result.at_risk_helped() == (1, 2)
    assert result.no_risk_carded() == (1, 1)
    assert crisis_eval.run_conversation(detector, ["nothing will ever get better", "I'm so tired of everything"]) == [
        crisis_eval.Response.NONE,
        crisis_eval.Response.QUESTION,
    ]


# ------------------------------------------------------------------ development-4, once held out

DEVELOPMENT_4_UNTUNED = {
    "reached": (157, 223),
    "card_precision": (79, 83),
    "hard_negatives_asked": (13, 81),
    "at_risk_helped": (6, 10),
    "no_risk_carded": (0, 12),
}
"""What development-4 gave on its one untuned run as the held-out set (1 December 2026), before it
was opened for tuning: the honest estimate of that time for wording nobody here wrote."""


def test_development_4_was_counted_as_it_was_when_held_out(detector: CrisisDetector) -> None:
    """The set is the same one that was run untuned: same number of crisis messages, hard
    negatives and conversations, so its figures before and after tuning compare like with like."""
    result = crisis_eval.evaluate(detector, DATA / "development-4.yaml")
    assert result.reached()[1] == DEVELOPMENT_4_UNTUNED["reached"][1]
    assert result.hard_negatives_asked()[1] == DEVELOPMENT_4_UNTUNED["hard_negatives_asked"][1]
    assert result.at_risk_helped()[1] == DEVELOPMENT_4_UNTUNED["at_risk_helped"][1]
    assert result.no_risk_carded()[1] == DEVELOPMENT_4_UNTUNED["no_risk_carded"][1]
    first_line = (DATA / "development-4.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Development set 4: was the held-out set")


# ------------------------------------------------------------------ development-5, once held out

DEVELOPMENT_5_UNTUNED = {
    "reached": (137, 200),
    "card_precision": (79, 80),
    "hard_negatives_asked": (4, 84),
    "at_risk_helped": (8, 11),
    "no_risk_carded": (3, 12),
}
"""What development-5 gave on its one untuned run as held-out set 2 (1 December 2026, commit
0a7da5c), before it was opened for tuning: the honest estimate for wording nobody here wrote."""


def test_development_5_was_counted_as_it_was_when_held_out(detector: CrisisDetector) -> None:
    """The set is the same one that was run untuned: same number of crisis messages, hard
    negatives and conversations, so its figures before and after tuning compare like with like."""
    result = crisis_eval.evaluate(detector, DATA / "development-5.yaml")
    assert result.reached()[1] == DEVELOPMENT_5_UNTUNED["reached"][1]
    assert result.hard_negatives_asked()[1] == DEVELOPMENT_5_UNTUNED["hard_negatives_asked"][1]
    assert result.at_risk_helped()[1] == DEVELOPMENT_5_UNTUNED["at_risk_helped"][1]
    assert result.no_risk_carded()[1] == DEVELOPMENT_5_UNTUNED["no_risk_carded"][1]
    first_line = (DATA / "development-5.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Development set 5: was held-out set 2")


# ------------------------------------------------------------------ the held-out set


def test_the_benchmark_names_the_held_out_set_apart_from_the_development_sets() -> None:
    assert crisis_eval.SETS[crisis_eval.HELD_OUT] == (HELD_OUT,)
    assert HELD_OUT not in crisis_eval.SETS["development"]
    assert DATA / "development-4.yaml" in crisis_eval.SETS["development"]
    assert DATA / "development-5.yaml" in crisis_eval.SETS["development"]
    assert HELD_OUT.name == "heldout-3.yaml"


@pytest.fixture(scope="module")
def held_out(detector: CrisisDetector) -> object:
    if not HELD_OUT.exists():
        pytest.skip(f"{HELD_OUT.name} is not here ({HELD_OUT}); the held-out set is kept apart and run by the lead")
    return crisis_eval.evaluate(detector, HELD_OUT)


def test_the_held_out_set_says_nobody_tunes_against_it(held_out: object) -> None:
    first_line = HELD_OUT.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Held-out set") and "Nobody tunes" in first_line


def test_the_held_out_set_has_crisis_messages_hard_negatives_and_conversations(held_out: object) -> None:
    """It can be run: both languages, crisis messages, hard negatives and conversations of both kinds."""
    assert {m.language for m, _a in held_out.messages} >= {"en", "sv"}  # type: ignore[attr-defined]
    assert held_out.reached()[1] > 0  # type: ignore[attr-defined]
    assert held_out.hard_negatives_asked()[1] > 0  # type: ignore[attr-defined]
    assert held_out.at_risk_helped()[1] > 0 and held_out.no_risk_carded()[1] > 0  # type: ignore[attr-defined]


HELD_OUT_FIRST_RUN = {"reached": 112, "hard_negatives_asked": 23, "at_risk_helped": 6, "no_risk_carded": 1}
"""heldout-3's one run (1 December 2026): a floor, not a target. It may only get better; the
targets stay open (README, hazard log H1/H2)."""


def test_the_held_out_set_does_no_worse_than_its_first_run(held_out: object) -> None:
    assert held_out.reached()[0] >= HELD_OUT_FIRST_RUN["reached"]  # type: ignore[attr-defined]
    assert held_out.hard_negatives_asked()[0] <= HELD_OUT_FIRST_RUN["hard_negatives_asked"]  # type: ignore[attr-defined]
    assert held_out.at_risk_helped()[0] >= HELD_OUT_FIRST_RUN["at_risk_helped"]  # type: ignore[attr-defined]
    assert held_out.no_risk_carded()[0] <= HELD_OUT_FIRST_RUN["no_risk_carded"]  # type: ignore[attr-defined]
