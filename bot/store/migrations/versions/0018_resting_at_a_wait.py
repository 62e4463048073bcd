"""The Flows funnel: a run resting at a wait is counted at the wait (it was filed under the step
after it). The counting triggers are made again; counts kept before stay where they were.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

from bot.store import activity

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    activity.install(op.get_bind(), revision=18)


def downgrade() -> None:
    activity.install(op.get_bind(), revision=12)
