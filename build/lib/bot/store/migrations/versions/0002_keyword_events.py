"""Every program keyword a subscriber texts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "keyword_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("keyword", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("message_sid", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_keyword_events"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name="fk_keyword_events_subscriber_id_subscribers"
        ),
    )
    op.create_index("ix_keyword_events_keyword_subscriber_id", "keyword_events", ["keyword", "subscriber_id"])
    op.create_index("ix_keyword_events_subscriber_id_id", "keyword_events", ["subscriber_id", "id"])


def downgrade() -> None:
    op.drop_table("keyword_events")
