"""Why a database cannot be used, in one line an operator can act on (never a traceback).

:meth:`Storage.open` turns the errors of opening and migrating into
:class:`DatabaseUnavailable`; the command line prints its message and exits
with status 1. The message names the database without its password.
"""

from __future__ import annotations

import sqlite3

from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError


class DatabaseUnavailable(Exception):
    """The database cannot be used; ``str()`` says why and what to do, in one line."""


def where(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return f"the SQLite file {parsed.database}"
    return f"the PostgreSQL database {parsed.render_as_string(hide_password=True)}"


def explain(error: BaseException, url: str) -> DatabaseUnavailable | None:
    """A clear account of ``error``, or None for an error this does not know (it is raised as it is)."""
    place = where(url)
    if isinstance(error, CommandError) and "Can't locate revision" in str(error):
        return DatabaseUnavailable(
            f"Cannot use {place}: it was made by a newer version of the companion. "
            "Upgrade the companion, or set COMPANION_DATABASE_URL to another database."
        )
    cause = error.orig if isinstance(error, DBAPIError) else error
    text = str(cause).lower()
    if isinstance(cause, sqlite3.Error) or (isinstance(error, OperationalError) and url.startswith("sqlite")):
        if "locked" in text or "busy" in text:
            return DatabaseUnavailable(
                f"Cannot use {place}: another program holds its lock. Try again in a moment, or stop the other program."
            )
        if "unable to open" in text:
            return DatabaseUnavailable(
                f"Cannot open {place}: check the path in COMPANION_DATABASE_URL, and that its folder"
                " can be written by this user and the disk is not read-only."
            )
        if "readonly" in text or "read-only" in text:
            return DatabaseUnavailable(
                f"Cannot write to {place}: check that its folder and file are writable by this user "
                "and that the disk is not read-only."
            )
        if "disk is full" in text:
            return DatabaseUnavailable(f"Cannot write to {place}: the disk is full. Free some space and try again.")
        if "not a database" in text or "malformed" in text:
            return DatabaseUnavailable(f"Cannot use {place}: it is not a companion database, or it is damaged.")
        return None
    if isinstance(error, OSError) and url.startswith("sqlite"):
        return DatabaseUnavailable(
            f"Cannot open {place} ({type(error).__name__}): check the path in COMPANION_DATABASE_URL"
            " and that its folder can be written by this user."
        )
    if isinstance(error, (DBAPIError, OSError)):
        kind = _root(error)
        if isinstance(kind, OSError):
            return DatabaseUnavailable(
                f"Cannot reach {place} ({type(kind).__name__}): check COMPANION_DATABASE_URL"
                " and that the server is running."
            )
        return DatabaseUnavailable(
            f"Cannot use {place} ({type(kind).__name__}): check COMPANION_DATABASE_URL,"
            " the user, its password and the database name."
        )
    return None


def _root(error: BaseException) -> BaseException:
    """The first cause of an error (the driver's own exception, e.g. asyncpg's InvalidCatalogNameError)."""
    seen = {id(error)}
    while error.__cause__ is not None and id(error.__cause__) not in seen:
        error = error.__cause__
        seen.add(id(error))
    return error
