"""What a process has done since it started, as counts only, for its metrics (bot/adapters/health.py).

Never a person, an id or a word: only how many. One object per process,
made by the conversation service and shared by whatever counts into it (the
Telegram request layer counts sends and 429s), so nothing is global.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Counts:
    turns: int = 0
    """Conversation turns committed (a redelivered update is not a turn)."""
    crisis_cards: int = 0
    """Replies that carried the crisis card or the supporters' card."""
    sends: int = 0
    """Bot API calls that put something in a chat (messages, edits, documents) and were accepted."""
    rate_limited: int = 0
    """Bot API answers of 429 (flood control: Telegram asked to wait)."""
