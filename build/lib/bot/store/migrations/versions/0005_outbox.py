"""The outbox: outbound messages the worker sends, with when, how often tried, and for which run.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OUTBOX = sa.text("status IN ('pending', 'dispatching')")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("run_id", Id))
        batch.add_column(sa.Column("marketing", sa.Boolean))
        batch.add_column(sa.Column("due_at", UTCDateTime))
        batch.add_column(sa.Column("send_after", UTCDateTime))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("handed_at", UTCDateTime))
    op.create_index(
        "ix_messages_outbox", "messages", ["send_after"], sqlite_where=OUTBOX, postgresql_where=OUTBOX
    )


def downgrade() -> None:
    op.drop_index("ix_messages_outbox", "messages")
    with op.batch_alter_table("messages") as batch:
        for column in ("handed_at", "attempts", "send_after", "due_at", "marketing", "run_id"):
            batch.drop_column(column)
