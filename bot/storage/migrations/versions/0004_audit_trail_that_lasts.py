"""an audit trail that lasts: no cascades from people, append-only

- ``access_log.actor_id`` and ``subject_id`` lose their foreign keys (they
  were ON DELETE CASCADE, so a coordinator's /delete erased the record of what
  they had looked at). They stay as pseudonymous ids: people's ids are never
  reused (migration 0003). Every existing row is kept.
- Triggers make the table append-only (bot/storage/audit.py): UPDATE and
  DELETE are refused, on PostgreSQL TRUNCATE as well.

Revision ID: 9d4a6b2e1f57
Revises: 7c1e2f4a8b30
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.audit import install_append_only, remove_append_only

revision: str = "9d4a6b2e1f57"
down_revision: str | None = "7c1e2f4a8b30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _without_foreign_keys() -> sa.Table:
    return sa.Table(
        "access_log",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_access_log_actor_id", "actor_id"),
        sa.Index("ix_access_log_subject_id", "subject_id"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite cannot drop a constraint: the table is made again, rows and all.
        with op.batch_alter_table("access_log", recreate="always", copy_from=_without_foreign_keys()):
            pass
    else:
        for key in sa.inspect(bind).get_foreign_keys("access_log"):
            if key["name"]:  # PostgreSQL names every constraint
                op.drop_constraint(key["name"], "access_log", type_="foreignkey")
    install_append_only(bind)


def downgrade() -> None:
    bind = op.get_bind()
    remove_append_only(bind)
    with op.batch_alter_table("access_log") as batch:
        batch.create_foreign_key("fk_access_log_actor_id_people", "people", ["actor_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(
            "fk_access_log_subject_id_people", "people", ["subject_id"], ["id"], ondelete="CASCADE"
        )
