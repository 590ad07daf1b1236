"""processed updates without rowid (SQLite)

Every turn records its update id. On SQLite a rowid table with a composite
primary key is two B-trees (the rows and the key's index), so each claim
wrote two pages; WITHOUT ROWID keeps the rows in the key's own B-tree. The
table is made again and its rows copied. PostgreSQL has no rowid: nothing to do.

Revision ID: 5b0f3c7d9a21
Revises: 2db844cb049d
Create Date: 2026-11-22 16:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b0f3c7d9a21"
down_revision: str | None = "2db844cb049d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _remake(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table(
        "processed_updates_new",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_id"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO processed_updates_new (channel, update_id, processed_at) "
        "SELECT channel, update_id, processed_at FROM processed_updates"
    )
    op.drop_table("processed_updates")
    op.rename_table("processed_updates_new", "processed_updates")


def upgrade() -> None:
    _remake(with_rowid=False)


def downgrade() -> None:
    _remake(with_rowid=True)
