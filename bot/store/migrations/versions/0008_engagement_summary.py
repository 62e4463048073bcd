"""What segments read per subscriber instead of their history: engaged_at (the last text to us or
tracked-link click) and keywords_texted (per keyword: how often, when last), filled for the
subscribers already stored from their messages, clicks and keyword events. The index of inbound
messages by time, which only segments read, goes: one write fewer per message. On PostgreSQL
both documents are JSONB, which a segment reads without parsing text for every row.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.schema import UTCDateTime
from bot.store.summaries import fill_summaries

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INBOUND = sa.text("direction = 'inbound'")


Document = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("engaged_at", UTCDateTime))
    op.add_column("subscribers", sa.Column("keywords_texted", Document))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("subscribers", "properties", type_=JSONB(), postgresql_using="properties::jsonb")
    fill_summaries(op.get_bind())
    op.drop_index("ix_messages_inbound", "messages")


def downgrade() -> None:
    op.create_index(
        "ix_messages_inbound",
        "messages",
        ["created_at", "subscriber_id"],
        sqlite_where=INBOUND,
        postgresql_where=INBOUND,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("subscribers", "properties", type_=sa.JSON(), postgresql_using="properties::json")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("keywords_texted")
        batch.drop_column("engaged_at")
