"""The roles a person can be given: by an operator's invitation, never by asking.

A module of names only, so that channels can name a role without reaching
the database code (bot/roles/grants.py)."""

COORDINATOR, FACILITATOR = "coordinator", "facilitator"
ROLES = (COORDINATOR, FACILITATOR)
