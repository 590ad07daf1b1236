"""sessions count their changes, for calendar files that update

- ``group_sessions.sequence`` counts how often a session was moved or
  cancelled. Its calendar file carries it as ``SEQUENCE``, so a member's
  calendar replaces the entry it has (same UID) instead of keeping the old
  one, or takes it out (``METHOD:CANCEL``). Sessions so far start at 0.

Revision ID: 6f2a9c4e8d13
Revises: 3e8b5c1d7a42
Create Date: 2026-12-01 16:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f2a9c4e8d13"
down_revision: str | None = "3e8b5c1d7a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("group_sessions") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("group_sessions") as batch:
        batch.drop_column("sequence")
