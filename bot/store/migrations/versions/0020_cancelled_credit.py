"""A cancelled order takes back its credit: conversions keep when their order was cancelled, the
reports leave them out, and the counting triggers take their count and revenue back.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from bot.store import activity
from bot.store.schema import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversions") as batch:
        batch.add_column(sa.Column("cancelled_at", UTCDateTime(), nullable=True))
    activity.install(op.get_bind(), revision=20)


def downgrade() -> None:
    activity.uninstall(op.get_bind())
    with op.batch_alter_table("conversions") as batch:
        batch.drop_column("cancelled_at")
    activity.install(op.get_bind(), revision=19)
