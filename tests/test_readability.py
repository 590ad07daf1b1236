"""Readability scores and the content check that uses them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.content import DEFAULT_CONTENT_DIR, read_documents
from flows import check
from flows.catalog import Catalog
from flows.readability import (
    HARD_LIMIT,
    check_readability,
    english_syllables,
    flesch,
    lix,
    score_english,
    score_swedish,
    sentences_in,
    worst,
)

EASY_EN = "You can skip any question. Your answers are saved as you go."
HARD_EN = (
    "Comprehensive pharmacological reconsideration necessitates collaborative "
    "deliberation regarding therapeutic alternatives and individualised administration."
)
EASY_SV = "Du kan hoppa över alla frågor. Dina svar sparas hela tiden."
HARD_SV = (
    "Läkemedelsbehandlingens utformning förutsätter kontinuerlig uppföljning, "
    "individualiserad doseringsstrategi och interprofessionellt samarbete."
)


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("the", 1),
        ("side", 1),
        ("make", 1),
        ("needed", 2),
        ("people", 2),
        ("being", 2),
        ("medicine", 3),
        ("appointment", 3),
        ("statement", 2),
        ("idea", 3),
        ("situation", 4),
        ("relationships", 4),
        ("don't", 1),
    ],
)
def test_english_syllables_of_everyday_words(word: str, syllables: int) -> None:
    assert english_syllables(word) == syllables


def test_flesch_follows_the_formula() -> None:
    # 6 words, 1 sentence, 6 syllables: 206.835 - 1.015 * 6 - 84.6 * 1
    assert flesch("The cat sat on the mat.") == pytest.approx(116.145)
    score = score_english("Take your time. Medicine questions are welcome.")
    assert (score.words, score.sentences, score.syllables) == (7, 2, 11)
    assert score.flesch == pytest.approx(206.835 - 1.015 * 3.5 - 84.6 * 11 / 7)


def test_lix_follows_the_formula() -> None:
    # 6 words, 1 sentence, no word over six letters.
    assert lix("Det här är en enkel mening.") == pytest.approx(6.0)
    score = score_swedish("Förskrivaren planerar ändringen. Du bestämmer tillsammans med henne.")
    # Long: Förskrivaren, planerar, ändringen, bestämmer, tillsammans -> 5 of 8 words, 2 sentences.
    assert (score.words, score.sentences, score.long_words) == (8, 2, 5)
    assert score.lix == pytest.approx(8 / 2 + 100 * 5 / 8)


def test_sentences_end_at_stops_and_line_breaks() -> None:
    assert sentences_in("One. Two? Three!") == 3
    assert sentences_in("D: say it\nE: feel it") == 4
    assert sentences_in("no stop at all") == 1
    assert sentences_in("Version 2.5 is here.") == 1


def test_plain_text_scores_better_than_jargon() -> None:
    assert flesch(EASY_EN) >= 65 > flesch(HARD_EN)
    assert lix(EASY_SV) <= 40 < lix(HARD_SV)


def _documents(steps: list[dict[str, Any]]) -> Any:
    documents = read_documents(DEFAULT_CONTENT_DIR)
    documents.flows = {
        "flows/sample.yaml": {
            "id": "sample",
            "title": {"en": "Sample", "sv": "Prov"},
            "description": {"en": "A flow to test the checker.", "sv": "Ett flöde för att testa kontrollen."},
            "steps": steps,
        }
    }
    return documents


def _problems(steps: list[dict[str, Any]]) -> list[str]:
    return [str(problem) for problem in check_readability(Catalog.build(_documents(steps)))]


def test_hard_messages_are_reported_hardest_first_with_their_step() -> None:
    problems = _problems(
        [
            {"id": "easy", "type": "message", "say": {"en": EASY_EN, "sv": EASY_SV}},
            {
                "id": "hard",
                "type": "text",
                "say": {"en": HARD_EN, "sv": HARD_SV},
                "why": {"en": EASY_EN + " " + HARD_EN, "sv": EASY_SV},
            },
        ]
    )
    assert len(problems) == 3
    assert problems[0].startswith("flows/sample.yaml, step 'hard': say (")
    assert any("say (en) is hard to read: Flesch reading ease" in p and "(must be 65 or more)" in p for p in problems)
    assert any("say (sv) is hard to read: LIX" in p and "(must be 40 or less)" in p for p in problems)
    assert any("why (en)" in p for p in problems)
    assert not any("'easy'" in p for p in problems)
    english = [p for p in problems if "(en)" in p]
    scores = [float(p.split("Flesch reading ease ")[1].split(" ")[0]) for p in english]
    assert scores == sorted(scores)  # hardest (lowest) first


def test_short_labels_and_quoted_answers_are_not_held_against_a_message() -> None:
    problems = _problems(
        [
            {"id": "ask", "type": "text", "say": {"en": "Medication?", "sv": "Biverkningar?"}},
            {
                "id": "quote",
                "type": "message",
                "say": {"en": "You wrote {ask}. Thank you for that.", "sv": "Du skrev {ask}. Tack för det."},
            },
        ]
    )
    assert problems == []


def test_overlong_and_mostly_long_messages_are_reported() -> None:
    sentence = "You can take your time with this. "
    long_text = sentence * (HARD_LIMIT // len(sentence) + 1)
    medium = sentence * 10  # about 340 characters: over the soft limit, under the hard one
    swedish = "Du kan ta den tid du behöver. "
    problems = _problems(
        [
            {"id": "too_long", "type": "message", "say": {"en": long_text, "sv": swedish}},
            {"id": "medium", "type": "message", "say": {"en": medium, "sv": swedish}},
        ]
    )
    assert any("step 'too_long': say (en) is" in p and f"under {HARD_LIMIT}" in p for p in problems)
    assert any("messages (en) are over 300 characters" in p and "too_long, medium" in p for p in problems)
    assert not any("(sv)" in p for p in problems)


def test_the_check_runs_in_companion_content_check() -> None:
    from bot.checks import every_check

    assert check_readability in every_check()
    assert every_check().count(check_readability) == 1
    documents = _documents([{"id": "hard", "type": "message", "say": {"en": HARD_EN, "sv": HARD_SV}}])
    found = [str(problem) for problem in check.check_documents(documents, every_check())]
    assert any("step 'hard': say (en) is hard to read" in p for p in found)


def test_the_shipped_content_is_easy_to_read(catalog: Catalog) -> None:
    assert [str(problem) for problem in check_readability(catalog)] == []
    hardest_english = worst(catalog, "en", 1)[0]
    hardest_swedish = worst(catalog, "sv", 1)[0]
    assert hardest_english.score is not None and hardest_english.score >= 65
    assert hardest_swedish.score is not None and hardest_swedish.score <= 40


def test_companion_content_readability_lists_the_hardest_messages(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["content", "readability", "--count", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Hardest en messages (Flesch):" and lines[4] == "Hardest sv messages (LIX):"
    english = [float(line.split()[0]) for line in lines[1:4]]
    swedish = [float(line.split()[0]) for line in lines[5:8]]
    assert english == sorted(english) and swedish == sorted(swedish, reverse=True)
    assert all("flows/" in line or "ui/" in line for line in lines[1:4] + lines[5:8])
