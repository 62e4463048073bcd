"""On PostgreSQL the counting triggers on inserts fire once per statement, summing the statement's
rows (its transition table) into a delta per metric, label and hour; the webhook's writer inserts a
batch's rows in one statement each.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

from bot.store import activity

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    activity.install(op.get_bind(), revision=25)


def downgrade() -> None:
    activity.install(op.get_bind(), revision=24)
