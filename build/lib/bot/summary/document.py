"""The summary as plain data, already in the person's language.

Every renderer (PDF, HTML, chat preview) draws the same
:class:`SummaryDocument`, so the three formats cannot drift apart and none of
them needs the catalog, the engine or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Entry:
    """One answer (or a few merged answers) under an optional label."""

    label: str | None
    items: tuple[str, ...]
    own_words: bool = True
    """True when the items are text the person typed (escaped, never trusted)."""


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    intro: str | None
    answered: str
    """When these answers were given, said in words ("My answers from 20/11/2026")."""
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class FillIn:
    """Lines left empty, to be written on at the appointment."""

    title: str
    intro: str | None
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Missing:
    """A flow whose answers are not on the summary yet (for "What's missing?")."""

    flow_id: str
    title: str
    in_progress: bool


@dataclass(frozen=True, slots=True)
class SummaryDocument:
    language: str
    heading: str
    details: tuple[str, ...]
    """Header lines: chosen name (if any), date prepared, language."""
    sections: tuple[Section, ...]
    fill_in: FillIn | None
    nothing_yet: str | None
    """When nothing has been answered: what to do first (then ``sections`` is empty)."""
    footer: str
    shortened_note: str
    """Printed when a renderer had to shorten long answers to fit the page limit."""
    other_script: str
    """Stands in for writing the PDF font cannot show (the HTML shows it all)."""
    preview_more: str
    """Template with {count}, for the chat preview."""
    missing: tuple[Missing, ...] = field(default_factory=tuple)
    more_items: str = "…+{count}"
    """Template with {count}: stands for answers left off a squeezed PDF."""

    @property
    def is_empty(self) -> bool:
        return not self.sections
