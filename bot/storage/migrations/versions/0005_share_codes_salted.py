"""share-code hashes salted and slow

- ``install_secrets`` holds random values made once per database; the first
  is the salt of share-code hashes (made on first use).
- Share codes are now stored as scrypt with that salt (bot/roles/tokens.py)
  instead of unsalted SHA-256. Codes made before cannot be matched any more, so
  the unused ones are ended now; a person makes a new one with /share (codes
  last 24 hours anyway).

Revision ID: 3e8b5c1d7a42
Revises: 9d4a6b2e1f57
Create Date: 2026-12-01 14:20:00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e8b5c1d7a42"
down_revision: str | None = "9d4a6b2e1f57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "install_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    codes = sa.table("share_codes", sa.column("used_at"), sa.column("expires_at", sa.DateTime(timezone=True)))
    now = dt.datetime.now(dt.UTC)
    op.execute(codes.update().where(codes.c.used_at.is_(None), codes.c.expires_at > now).values(expires_at=now))


def downgrade() -> None:
    op.drop_table("install_secrets")
