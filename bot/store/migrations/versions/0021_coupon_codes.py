"""Unique coupon codes: pools loaded from a store's export, each code given to one recipient.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from bot.store.schema import Id, UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupon_codes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("pool", sa.String(60), nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.Column(
            "subscriber_id",
            Id,
            sa.ForeignKey("subscribers.id", name="fk_coupon_codes_subscriber_id_subscribers"),
        ),
        sa.Column("origin", sa.String(16)),
        sa.Column("origin_name", sa.String(100)),
        sa.Column("campaign_id", Id),
        sa.Column("message_ref", sa.String(100)),
        sa.Column("assigned_at", UTCDateTime()),
        sa.Column("redeemed_at", UTCDateTime()),
        sa.Column("order_ref", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_coupon_codes"),
    )
    op.create_index("uq_coupon_codes_pool_code", "coupon_codes", ["pool", "code"], unique=True)
    given = ["pool", "subscriber_id", "origin", "origin_name"]
    op.create_index("uq_coupon_codes_given", "coupon_codes", given, unique=True)
    op.create_index(
        "ix_coupon_codes_free",
        "coupon_codes",
        ["pool", "id"],
        sqlite_where=sa.text("assigned_at IS NULL"),
        postgresql_where=sa.text("assigned_at IS NULL"),
    )
    op.create_index("ix_coupon_codes_code", "coupon_codes", ["code"])
    op.create_index("ix_coupon_codes_campaign_id", "coupon_codes", ["campaign_id"])
    op.create_index("ix_coupon_codes_origin_origin_name", "coupon_codes", ["origin", "origin_name"])


def downgrade() -> None:
    op.drop_table("coupon_codes")
