"""Recognise risk in what a person types, before anything else happens.

The lexicon is content (``content/crisis/<language>.yaml``, written by
clinicians, not programmers); this package reads it and judges a message:

- :mod:`flows.crisis.text`: sentences, parts of sentences, folded words;
- :mod:`flows.crisis.lexicon`: the file's format, checked with kind errors;
- :mod:`flows.crisis.matching`: phrases as stems, in any order, near each other;
- :mod:`flows.crisis.detector`: the setting of each phrase and the tier
  (:class:`CrisisDetector`, the module docstring explains every choice);
- :mod:`flows.crisis.check`: ``companion content check`` for the lexicons.

What to do about a message over a conversation is :mod:`flows.safety`'s.
"""

from flows.crisis.check import REQUIRED_LANGUAGES, REQUIRED_NUMBERS, check_crisis
from flows.crisis.detector import CRISIS_FILE, CrisisDetector, Judged, Match
from flows.crisis.lexicon import Category, Lexicon, LexiconError
from flows.crisis.text import fold

__all__ = [
    "CRISIS_FILE",
    "REQUIRED_LANGUAGES",
    "REQUIRED_NUMBERS",
    "Category",
    "CrisisDetector",
    "Judged",
    "Lexicon",
    "LexiconError",
    "Match",
    "check_crisis",
    "fold",
]
