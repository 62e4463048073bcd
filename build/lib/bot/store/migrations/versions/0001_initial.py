"""Subscribers, their consent log and every message.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("opt_in_source", sa.String(100)),
        sa.Column("opt_in_keyword", sa.String(100)),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("subscribed_at", UTCDateTime),
        sa.Column("unsubscribed_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("phone", name="uq_subscribers_phone"),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("keyword", sa.String(100)),
        sa.Column("source", sa.String(100)),
        sa.Column("text", sa.Text),
        sa.Column("message_sid", sa.String(64)),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_events"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name="fk_consent_events_subscriber_id_subscribers"
        ),
    )
    op.create_index("ix_consent_events_subscriber_id_id", "consent_events", ["subscriber_id", "id"])
    op.create_table(
        "messages",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("media_urls", sa.JSON, nullable=False),
        sa.Column("sid", sa.String(64)),
        sa.Column("ref", sa.String(100)),
        sa.Column("reply_to", sa.String(64)),
        sa.Column("intent", sa.String(16)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error_code", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("sid", name="uq_messages_sid"),
        sa.UniqueConstraint("ref", name="uq_messages_ref"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name="fk_messages_subscriber_id_subscribers"
        ),
    )
    op.create_index("ix_messages_subscriber_id_id", "messages", ["subscriber_id", "id"])
    op.create_index("ix_messages_reply_to", "messages", ["reply_to"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("consent_events")
    op.drop_table("subscribers")
