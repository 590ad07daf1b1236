"""Reminders: rows with a due time in UTC, claimed and sent by dispatchers."""
