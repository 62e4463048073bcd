"""A/B tests: each recipient's variant, a campaign's winner and when it was picked.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.add_column(sa.Column("variant", sa.String(1), nullable=True))
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("winner", sa.String(8), nullable=True))
        batch.add_column(sa.Column("winner_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("winner_at")
        batch.drop_column("winner")
    with op.batch_alter_table("campaign_recipients") as batch:
        batch.drop_column("variant")
