"""Answers and examples written the way people read them, per language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows.turns import Context


def format_date(value: Any, language: str) -> str:
    """A saved ISO date as people write it: 05/01/2027 in English, 2027-01-05 in Swedish."""
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if language == "sv":
        return day.isoformat()
    return day.strftime("%d/%m/%Y")


def example_date(context: Context) -> str:
    """A date two weeks from today, to show how to write one."""
    return format_date((context.today + dt.timedelta(days=14)).isoformat(), context.language)
