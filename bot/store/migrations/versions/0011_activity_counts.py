"""The dashboard's counts kept as the data arrives: keyword events say whether a misspelling was
caught; counting triggers append to activity_deltas, folded into hourly_counts; the history counted;
consent records found by action (the possible opt-outs to review); segments' counts kept.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from bot.store import activity
from bot.store.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("keyword_events", sa.Column("misspelt", sa.Boolean()))
    op.create_table(
        "activity_deltas",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("label", sa.String(140), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activity_deltas"),
    )
    op.create_table(
        "hourly_counts",
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("label", sa.String(140), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "metric", "label", name="pk_hourly_counts"),
    )
    op.create_table(
        "total_counts",
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("label", sa.String(140), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "label", name="pk_total_counts"),
    )
    op.create_index("ix_subscribers_status", "subscribers", ["status"])
    op.create_table(
        "segment_counts",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("members", sa.BigInteger(), nullable=False),
        sa.Column("subscribed", sa.BigInteger(), nullable=False),
        sa.Column("definition", sa.String(64), nullable=False),
        sa.Column("counted_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_segment_counts"),
    )
    op.create_index("ix_consent_events_action_id", "consent_events", ["action", "id"])
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # Every row is deleted within seconds of its insert (the fold): vacuum it after every few
        # thousand, not after a fifth of its size, or reads wade through dead rows between folds.
        op.execute(
            "ALTER TABLE activity_deltas SET "
            "(autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000)"
        )
    activity.fill(connection, revision=11)
    activity.install(connection, revision=11)


def downgrade() -> None:
    activity.uninstall(op.get_bind())
    op.drop_table("hourly_counts")
    op.drop_table("activity_deltas")
    op.drop_index("ix_consent_events_action_id", "consent_events")
    op.drop_table("segment_counts")
    op.drop_index("ix_subscribers_status", "subscribers")
    op.drop_table("total_counts")
    op.drop_column("keyword_events", "misspelt")
