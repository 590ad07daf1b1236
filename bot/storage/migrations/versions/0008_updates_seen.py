"""updates seen, for per-person order across processes

- ``updates_seen`` holds the updates bot processes have received: in flight
  until handled, then kept for a short while. A later update of the same person
  waits for a gap in the ids below it to fill and for a lower update of theirs
  in flight to be handled, in any process (bot/services/ordering.py). Rows hold
  the channel, the update id and a bucket of the person's channel id, never the
  id itself.

Revision ID: 7c1e4a9b2d63
Revises: 6f2a9c4e8d13
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e4a9b2d63"
down_revision: str | None = "6f2a9c4e8d13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "updates_seen",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("person_bucket", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_updates_seen_person", "updates_seen", ["channel", "person_bucket", "update_id"], unique=False)
    op.create_index("ix_updates_seen_id", "updates_seen", ["channel", "update_id"], unique=False)
    op.create_index("ix_updates_seen_arrived", "updates_seen", ["channel", "arrived_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_updates_seen_arrived", table_name="updates_seen")
    op.drop_index("ix_updates_seen_id", table_name="updates_seen")
    op.drop_index("ix_updates_seen_person", table_name="updates_seen")
    op.drop_table("updates_seen")
