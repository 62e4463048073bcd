"""Segment triggers: who was in a watched segment at the worker's last look, and since when each is
watched.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import Id, UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_entries",
        sa.Column("segment", sa.String(100), nullable=False),
        sa.Column(
            "subscriber_id",
            Id,
            sa.ForeignKey("subscribers.id", name="fk_segment_entries_subscriber_id_subscribers"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment", "subscriber_id", name="pk_segment_entries"),
    )
    op.create_table(
        "segment_watches",
        sa.Column("segment", sa.String(100), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment", name="pk_segment_watches"),
    )


def downgrade() -> None:
    op.drop_table("segment_watches")
    op.drop_table("segment_entries")
