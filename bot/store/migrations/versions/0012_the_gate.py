"""One gate for every outgoing message: each message says why it exists (`purpose`) and, when the
gate holds it back for good, why (`reason`); a flow that runs once per event keeps the event's key
on its run (`run_key`), so two orders get two confirmations and one order never gets two.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from bot.store import activity

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")
KEYED = sa.text("run_key <> ''")
# What each message already stored was for, as well as the rows tell it.
PURPOSES = """
UPDATE messages SET purpose = CASE
    WHEN direction <> 'outbound' THEN NULL
    WHEN reply_to IS NOT NULL THEN 'reply'
    WHEN campaign_id IS NOT NULL THEN 'marketing'
    WHEN run_id IS NOT NULL AND marketing THEN 'marketing'
    WHEN run_id IS NOT NULL THEN 'transactional'
    ELSE 'consent' END
"""


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("purpose", sa.String(16)))
        batch.add_column(sa.Column("reason", sa.String(200)))
    op.execute(PURPOSES)
    with op.batch_alter_table("flow_runs") as batch:
        batch.add_column(sa.Column("run_key", sa.String(200), nullable=False, server_default=""))
    op.drop_index("uq_flow_runs_active", "flow_runs")
    op.create_index(
        "uq_flow_runs_active",
        "flow_runs",
        ["subscriber_id", "flow", "run_key"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "uq_flow_runs_key",
        "flow_runs",
        ["subscriber_id", "flow", "run_key"],
        unique=True,
        sqlite_where=KEYED,
        postgresql_where=KEYED,
    )
    connection = op.get_bind()
    activity.fill(connection, revision=12, since=11)  # messages held back, by their reason
    activity.install(connection, revision=12)


def downgrade() -> None:
    op.drop_index("uq_flow_runs_key", "flow_runs")
    op.drop_index("uq_flow_runs_active", "flow_runs")
    op.execute("UPDATE flow_runs SET status = 'cancelled' WHERE run_key <> '' AND status = 'active'")
    op.create_index(
        "uq_flow_runs_active",
        "flow_runs",
        ["subscriber_id", "flow"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_column("run_key")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("reason")
        batch.drop_column("purpose")
    activity.install(op.get_bind(), revision=11)
