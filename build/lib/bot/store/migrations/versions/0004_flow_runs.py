"""Flow runs: which flow is running for whom, and its next step.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "flow_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("waiting", sa.Boolean, nullable=False),
        sa.Column("asked_again", sa.Boolean, nullable=False),
        sa.Column("due_at", UTCDateTime),
        sa.Column("started_by", sa.String(64)),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_flow_runs"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name="fk_flow_runs_subscriber_id_subscribers"
        ),
    )
    op.create_index(
        "uq_flow_runs_active",
        "flow_runs",
        ["subscriber_id", "flow"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_index("ix_flow_runs_status_due_at", "flow_runs", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("flow_runs")
