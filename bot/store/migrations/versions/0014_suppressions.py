"""Suppressions: numbers erased on request, kept only as a keyed hash so that no import brings them
back until the person opts in again themselves.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_suppressions"),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
