"""An import's consent records are counted a batch at a time by the importer (one delta per hour
and label), no longer one by one by the trigger: the counting triggers are made again.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

from bot.store import activity

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    activity.install(op.get_bind(), revision=24)


def downgrade() -> None:
    activity.install(op.get_bind(), revision=23)
