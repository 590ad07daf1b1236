"""The summary as plain data, already in the person's language.

Every renderer (PDF, HTML, plain text, chat preview) draws the same
:class:`SummaryDocument`, so the formats cannot drift apart and none of them
needs the catalog, the engine or the database.
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
    after: tuple[str, ...] = ()
    """Lines to fill in on paper at the end of the section (did it happen?)."""


@dataclass(frozen=True, slots=True)
class GlanceItem:
    """One part of the top third of page 1: a label and the answers under it.

    ``in_full`` is set when an answer was shortened here: it says where on the
    page the whole answer is printed.
    """

    label: str
    entries: tuple[Entry, ...]
    in_full: str | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Glance:
    """What the appointment needs first, in the top third of page 1."""

    title: str
    items: tuple[GlanceItem, ...]


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
    """Header lines: chosen name (if any), the appointment, date prepared."""
    sections: tuple[Section, ...]
    fill_in: FillIn | None
    nothing_yet: str | None
    """When nothing has been answered: what to do first (then ``sections`` is empty)."""
    footer: str
    shortened_note: str
    """Kept for older callers; the renderers say per answer where the rest is."""
    other_script: str
    """Stands in for a character no embedded font can draw (rare: the fonts cover most scripts)."""
    preview_more: str
    """Template with {count}, for the chat preview."""
    missing: tuple[Missing, ...] = field(default_factory=tuple)
    more_items: str = "…+{count}"
    """Template with {count}: for the chat preview."""
    glance: Glance | None = None
    elsewhere: str | None = None
    """Says which answers are not printed and where they are kept."""
    large_print: bool = False
    continued: str = "Continued on page {page}."
    """Template with {page}: printed at the foot of a page that runs on."""
    page_of: str = "Page {page} of {pages}"
    title: str = ""
    """The document's title (PDF metadata, HTML <title>)."""

    def parts(self) -> tuple[Section, ...]:
        """The top third (as a section of its own, first) and then the sections: for walking
        through the summary one part at a time, as a care coordinator does with the person."""
        if self.glance is None or not self.glance.items:
            return self.sections
        entries = []
        for item in self.glance.items:
            for entry in item.entries:
                label = f"{item.label}: {entry.label}" if entry.label else item.label
                entries.append(Entry(label, entry.items, entry.own_words))
        first = Section("at_a_glance", self.glance.title, None, "", tuple(entries))
        return (first, *self.sections)

    @property
    def is_empty(self) -> bool:
        return not self.sections and not (self.glance and self.glance.items)
