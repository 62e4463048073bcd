"""Flows' recipients counted (a run at its first message handed over), so that a flow's conversion
rate on the Overview is per recipient, as on its own report, and not per message. The history is
counted once, then the triggers are made again.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

from bot.store import activity

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    activity.fill(connection, revision=19, since=18)
    activity.install(connection, revision=19)


def downgrade() -> None:
    op.execute("DELETE FROM hourly_counts WHERE metric = 'recipients'")
    op.execute("DELETE FROM total_counts WHERE metric = 'recipients'")
    op.execute("DELETE FROM activity_deltas WHERE metric = 'recipients'")
    activity.install(op.get_bind(), revision=18)
