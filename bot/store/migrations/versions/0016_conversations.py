"""Conversations with a person (the inbox), and who wrote a person's reply.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import Id, UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "subscriber_id",
            Id,
            sa.ForeignKey("subscribers.id", name="fk_conversations_subscriber_id_subscribers"),
            nullable=False,
        ),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("last_message_at", UTCDateTime(), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("assigned_to", sa.String(60)),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("closed_by", sa.String(60)),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
    )
    op.create_index(
        "uq_conversations_open",
        "conversations",
        ["subscriber_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_conversations_status_last_message_at", "conversations", ["status", "last_message_at"])
    op.create_index("ix_conversations_subscriber_id_id", "conversations", ["subscriber_id", "id"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sent_by", sa.String(60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sent_by")
    op.drop_table("conversations")
