"""ids never reused, runs about a person go with them, safety state and answer marks

- ``people`` on SQLite becomes AUTOINCREMENT, so the id of someone who was
  erased is never given to the next person who signs up (PostgreSQL's
  sequences never reuse ids). The table is made again with its rows; the
  caller runs this with foreign keys off (see SqliteDatabase.migrate), as
  SQLite's documented procedure for remaking a table asks.
- ``runs.about_person_id`` names the person a run is about when that is not
  its owner (a care coordinator's notes with someone), with ON DELETE CASCADE.
  Existing runs get it from their position; runs about someone no longer in
  the database are removed with their answers (they could otherwise reach
  whoever was given that id).
- ``safety_states`` and ``answer_marks`` are new (see models.py).

Revision ID: 7c1e2f4a8b30
Revises: 5b0f3c7d9a21
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e2f4a8b30"
down_revision: str | None = "5b0f3c7d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        with op.batch_alter_table("people", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("about_person_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_runs_about_person_id_people", "people", ["about_person_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_runs_about_person_id", ["about_person_id"], unique=False)
    _backfill_about(bind)
    op.create_table(
        "answer_marks",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("mark", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "key", "mark"),
    )
    op.create_index("ix_answer_marks_person_id", "answer_marks", ["person_id"], unique=False)
    op.create_table(
        "safety_states",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id"),
    )


def _backfill_about(bind: sa.engine.Connection) -> None:
    """Name the person each run is about, and remove runs about someone who is gone."""
    people = {row[0] for row in bind.execute(sa.text("SELECT id FROM people"))}
    runs = bind.execute(sa.text("SELECT id, position FROM runs")).all()
    for run_id, position in runs:
        if isinstance(position, str):
            position = json.loads(position)
        about = (position or {}).get("about") or {}
        subject = about.get("person_id")
        if not isinstance(subject, int):
            continue
        if subject in people:
            bind.execute(sa.text("UPDATE runs SET about_person_id = :s WHERE id = :r"), {"s": subject, "r": run_id})
        else:
            bind.execute(sa.text("DELETE FROM answers WHERE run_id = :r"), {"r": run_id})
            bind.execute(sa.text("DELETE FROM runs WHERE id = :r"), {"r": run_id})


def downgrade() -> None:
    op.drop_table("safety_states")
    op.drop_index("ix_answer_marks_person_id", table_name="answer_marks")
    op.drop_table("answer_marks")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_about_person_id")
        batch.drop_constraint("fk_runs_about_person_id_people", type_="foreignkey")
        batch.drop_column("about_person_id")
