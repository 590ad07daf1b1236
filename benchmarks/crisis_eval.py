"""How well crisis detection works, on labelled sets of messages and conversations.

    .venv/bin/python benchmarks/crisis_eval.py                    # the development set
    .venv/bin/python benchmarks/crisis_eval.py --set heldout-3    # the held-out set, if present
    .venv/bin/python benchmarks/crisis_eval.py --set path/to/file.yaml --no-timing

For each set file it prints recall and precision per tier, per category and
per language; how many crisis messages (labelled definite or possible) reach
the card directly or through the safety question; how precise the crisis card
is; how many hard negatives get the question or the card; and, over whole
conversations run through :func:`flows.safety.decide` a minute apart (with a
person who answers "No" to the question), how many conversations of people at
risk get help and how many of people at no risk get the crisis card. Then the
time to read a 300-character message.

The file format is described in ``benchmarks/crisis/README.md``. The tests in
``tests/test_crisis_eval.py`` hold every set file present to the project's
targets, using :func:`evaluate`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.content import DEFAULT_CONTENT_DIR, read_documents  # noqa: E402
from flows.catalog import Catalog  # noqa: E402
from flows.crisis import CrisisDetector  # noqa: E402
from flows.safety import Answer, Assessment, Response, SafetyState, Tier, answered, decide  # noqa: E402

DATA = ROOT / "benchmarks" / "crisis"
SETS = {
    "development": (
        DATA / "development.yaml",
        DATA / "development-extra.yaml",
        DATA / "development-2.yaml",
        DATA / "development-3.yaml",
        DATA / "development-4.yaml",
        DATA / "development-5.yaml",
    ),
    "heldout-3": (DATA / "heldout-3.yaml",),
}
HELD_OUT = "heldout-3"
"""The set kept apart from the detection's authors: run, never read or tuned against. When its
file is absent (it is kept elsewhere until it is run), the benchmark says so and the tests skip."""
LABELS = ("definite", "possible", "someone_else", "weak", "none")
CRISIS_LABELS = ("definite", "possible")
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
HELP = (Response.CARD, Response.QUESTION)
"""What counts as help in a conversation: the crisis card or the direct safety question."""


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    language: str
    label: str
    category: str
    hard_negative: bool


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    language: str
    at_risk: bool
    messages: tuple[str, ...]


@dataclass(slots=True)
class Result:
    """Everything measured on one set file (the tests assert on these)."""

    name: str
    messages: list[tuple[Message, Assessment]] = field(default_factory=list)
    conversations: list[tuple[Conversation, list[Response]]] = field(default_factory=list)

    @property
    def crisis(self) -> list[tuple[Message, Assessment]]:
        return [(m, a) for m, a in self.messages if m.label in CRISIS_LABELS]

    def reached(self) -> tuple[int, int]:
        """Crisis messages that get the card or the question, out of all crisis messages."""
        return sum(_reaches(a) for _m, a in self.crisis), len(self.crisis)

    def card_precision(self, *, strict: bool = False) -> tuple[int, int]:
        """Crisis cards given to messages labelled definite (or possible, unless strict)."""
        wanted = ("definite",) if strict else CRISIS_LABELS
        cards = [m for m, a in self.messages if a.tier is Tier.DEFINITE]
        return sum(m.label in wanted for m in cards), len(cards)

    def hard_negatives_asked(self) -> tuple[int, int]:
        hard = [a for m, a in self.messages if m.hard_negative]
        return sum(_reaches(a) for a in hard), len(hard)

    def at_risk_helped(self) -> tuple[int, int]:
        risky = [responses for c, responses in self.conversations if c.at_risk]
        return sum(any(r in HELP for r in responses) for responses in risky), len(risky)

    def no_risk_carded(self) -> tuple[int, int]:
        calm = [responses for c, responses in self.conversations if not c.at_risk]
        return sum(Response.CARD in responses for responses in calm), len(calm)

    def missed(self) -> list[Message]:
        return [m for m, a in self.crisis if not _reaches(a)]

    def false_cards(self) -> list[Message]:
        return [m for m, a in self.messages if a.tier is Tier.DEFINITE and m.label not in CRISIS_LABELS]

    def hard_negative_alarms(self) -> list[Message]:
        return [m for m, a in self.messages if m.hard_negative and _reaches(a)]


def _reaches(assessment: Assessment) -> bool:
    return assessment.tier in (Tier.DEFINITE, Tier.POSSIBLE)


def load(path: Path) -> tuple[list[Message], list[Conversation]]:
    """Read a set file; raise ValueError naming the entry that does not fit the format."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    messages = []
    for number, raw in enumerate(data.get("messages") or [], start=1):
        label = raw.get("label")
        if label not in LABELS or not isinstance(raw.get("text"), str):
            raise ValueError(f"{path.name}: message {number} needs text and a label ({', '.join(LABELS)})")
        messages.append(
            Message(
                text=raw["text"],
                language=str(raw.get("language", "")),
                label=label,
                category=str(raw.get("category", "")),
                hard_negative=bool(raw.get("hard_negative", False)),
            )
        )
    conversations = []
    for number, raw in enumerate(data.get("conversations") or [], start=1):
        texts = raw.get("messages")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"{path.name}: conversation {number} needs a list of messages")
        conversations.append(
            Conversation(
                id=str(raw.get("id", number)),
                language=str(raw.get("language", "")),
                at_risk=bool(raw.get("at_risk")),
                messages=tuple(texts),
            )
        )
    return messages, conversations


def run_conversation(detector: CrisisDetector, messages: Sequence[str]) -> list[Response]:
    """The response to each message, a minute apart, from a person who answers "No" when asked."""
    state = SafetyState()
    responses = []
    for minute, text in enumerate(messages):
        now = START + dt.timedelta(minutes=minute)
        decision = decide(detector.assess(text), state, now, now.date())
        state = decision.state
        responses.append(decision.response)
        if decision.response in (Response.QUESTION, Response.SUPPORTER):
            _response, state = answered(Answer.NO, state, now)
    return responses


def evaluate(detector: CrisisDetector, path: Path) -> Result:
    messages, conversations = load(path)
    result = Result(name=path.name)
    result.messages = [(m, detector.assess(m.text)) for m in messages]
    result.conversations = [(c, run_conversation(detector, c.messages)) for c in conversations]
    return result


def shipped_detector() -> CrisisDetector:
    return CrisisDetector.from_catalog(Catalog.build(read_documents(DEFAULT_CONTENT_DIR)), required=("en", "sv"))


# ---------------------------------------------------------------------- printing


def _share(numbers: tuple[int, int]) -> str:
    hit, total = numbers
    return f"{hit}/{total} ({100 * hit / total:.1f}%)" if total else "0/0 (-)"


def _tier(assessment: Assessment) -> str:
    return assessment.tier.value if assessment.tier else "none"


def report(result: Result, *, show: bool) -> list[str]:
    lines = [f"== {result.name}: {len(result.messages)} messages, {len(result.conversations)} conversations"]
    lines.append("Per tier (label -> what the detector gave):")
    lines.append(f"  {'tier':<13} {'recall':>18} {'precision':>18}")
    for tier in LABELS:
        labelled = [a for m, a in result.messages if m.label == tier]
        given = [m for m, a in result.messages if _tier(a) == tier]
        recall = (sum(_tier(a) == tier for a in labelled), len(labelled))
        precision = (sum(m.label == tier for m in given), len(given))
        lines.append(f"  {tier:<13} {_share(recall):>18} {_share(precision):>18}")
    lines.append("Per category (same tier as labelled / reaching the card or the question):")
    groups: dict[tuple[str, str], list[tuple[Message, Assessment]]] = defaultdict(list)
    for m, a in result.messages:
        groups[(m.label, m.category)].append((m, a))
    for (label, category), items in sorted(groups.items()):
        same = (sum(_tier(a) == label for _m, a in items), len(items))
        asked = (sum(_reaches(a) for _m, a in items), len(items))
        lines.append(f"  {label + '/' + category:<32} {_share(same):>18} {_share(asked):>18}")
    lines.append("Per language (same tier as labelled; crisis messages reaching the card or the question):")
    for language in sorted({m.language for m, _a in result.messages}):
        items = [(m, a) for m, a in result.messages if m.language == language]
        same = (sum(_tier(a) == m.label for m, a in items), len(items))
        crisis = [(m, a) for m, a in items if m.label in CRISIS_LABELS]
        asked = (sum(_reaches(a) for _m, a in crisis), len(crisis))
        lines.append(f"  {language:<13} {_share(same):>18} {_share(asked):>18}")
    lines.append(f"Crisis messages reaching the card or the question: {_share(result.reached())}")
    direct = (sum(a.tier is Tier.DEFINITE for _m, a in result.crisis), len(result.crisis))
    lines.append(f"  directly (the card): {_share(direct)}")
    lines.append(f"Crisis card precision (label definite or possible): {_share(result.card_precision())}")
    lines.append(f"  strict (label definite only): {_share(result.card_precision(strict=True))}")
    lines.append(f"Hard negatives getting the question or the card: {_share(result.hard_negatives_asked())}")
    supporter = [a for m, a in result.messages if m.hard_negative and a.tier is Tier.SOMEONE_ELSE]
    lines.append(f"  getting the supporters' card: {len(supporter)}")
    stopping = Counter(a.stopping_medicine for _m, a in result.messages)
    lines.append(f"Messages that bring the not-suddenly reminder: {stopping[True]}")
    if result.conversations:
        lines.append(f"At-risk conversations that get help at some point: {_share(result.at_risk_helped())}")
        lines.append(f"No-risk conversations that get the crisis card: {_share(result.no_risk_carded())}")
    if show:
        for title, items in (
            ("Missed crisis messages", result.missed()),
            ("Cards for messages not labelled crisis", result.false_cards()),
            ("Hard negatives that got the question or the card", result.hard_negative_alarms()),
        ):
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  [{m.language} {m.label}/{m.category}] {m.text}" for m in items)
        for conversation, responses in result.conversations:
            helped = any(r in HELP for r in responses)
            if conversation.at_risk != helped or (not conversation.at_risk and Response.CARD in responses):
                lines.append(f"  conversation {conversation.id}: {[r.value for r in responses]}")
    return lines


ROUNDS = 10
"""Timing rounds. Other work on the machine only ever adds time, so the best round's median
is the figure least disturbed by it; the median over all rounds is printed too."""


def timing(detector: CrisisDetector, texts: Iterable[str], rounds: int = ROUNDS) -> dict[str, float]:
    """Microseconds to read a 300-character message, as CPU time of this thread (time the
    machine spends on other work does not count) and as wall time: median and p99 once warm,
    and the median of a new detector's first reading of each message (nothing cached yet).

    The messages are the set's messages joined one after another and cut at 300
    characters, so most of them hold crisis words: dearer to read than everyday ones,
    which are timed apart."""
    pool = [t for t in texts if t.strip()]
    messages = []
    for start in range(len(pool)):
        text = ""
        index = start
        while len(text) < 300:
            text += pool[index % len(pool)] + " "
            index += 1
        messages.append(text[:300])
    cold = shipped_detector()
    first = []
    for text in messages:
        began = time.thread_time_ns()
        cold.assess(text)
        first.append((time.thread_time_ns() - began) / 1000)
    cpu, wall, round_medians = [], [], []
    for _ in range(rounds):
        this_round = []
        for text in messages:
            began, began_wall = time.thread_time_ns(), time.perf_counter_ns()
            detector.assess(text)
            this_round.append((time.thread_time_ns() - began) / 1000)
            wall.append((time.perf_counter_ns() - began_wall) / 1000)
        cpu.extend(this_round)
        round_medians.append(statistics.median(this_round))
    cpu.sort()
    wall.sort()
    return {
        "messages": len(messages),
        "median": statistics.median(cpu),
        "best_round_median": min(round_medians),
        "p99": cpu[int(0.99 * (len(cpu) - 1))],
        "wall_median": statistics.median(wall),
        "wall_p99": wall[int(0.99 * (len(wall) - 1))],
        "first_median": statistics.median(first),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", dest="sets", help="development, heldout-3 or a file (repeatable)")
    parser.add_argument("--show", action="store_true", help="list the messages that were missed or wrongly carded")
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args(argv)
    detector = shipped_detector()
    texts: list[str] = []
    everyday: list[str] = []
    for name in args.sets or ["development"]:
        paths = SETS.get(name, (Path(name),))
        for path in paths:
            if not path.exists():
                if name == HELD_OUT or path.name == "development.yaml":
                    print(f"== {path.name}: absent ({path})")
                continue
            result = evaluate(detector, path)
            print("\n".join(report(result, show=args.show)))
            texts.extend(m.text for m, _a in result.messages)
            everyday.extend(m.text for m, _a in result.messages if m.label == "none" and not m.hard_negative)
            print()
    if not args.no_timing and texts:
        figures = timing(detector, texts)
        print(
            f"Time to read a 300-character message ({figures['messages']:.0f} different messages, CPU time): "
            f"median {figures['median']:.0f} µs (best of {ROUNDS} rounds {figures['best_round_median']:.0f} µs), "
            f"p99 {figures['p99']:.0f} µs once warm; "
            f"first reading by a new detector: median {figures['first_median']:.0f} µs. "
            f"Wall time: median {figures['wall_median']:.0f} µs, p99 {figures['wall_p99']:.0f} µs"
        )
        if everyday:
            calm = timing(detector, everyday)
            print(
                f"Messages made only of everyday 'none' messages ({calm['messages']:.0f}), CPU time: "
                f"median {calm['median']:.0f} µs (best of {ROUNDS} rounds {calm['best_round_median']:.0f} µs), "
                f"p99 {calm['p99']:.0f} µs"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
