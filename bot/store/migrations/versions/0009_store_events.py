"""Store events (checkouts, orders, shipping, a store's own types) and conversions: an order
attributed to the message that earned it; a flow run keeps the event that started it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.schema import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Document = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("flow_runs", sa.Column("event", Document))
    op.create_index(
        "ix_flow_runs_flow_subscriber_id_started_at", "flow_runs", ["flow", "subscriber_id", "started_at"]
    )
    op.create_table(
        "store_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("subscriber_id", Id),
        sa.Column("order_ref", sa.String(200)),
        sa.Column("value_minor", sa.BigInteger()),
        sa.Column("currency", sa.String(3)),
        sa.Column("properties", Document, nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_store_events"),
    )
    op.create_index("uq_store_events_source_id", "store_events", ["source", "external_id"], unique=True)
    op.create_index(
        "ix_store_events_subscriber_id_type_occurred_at",
        "store_events",
        ["subscriber_id", "type", "occurred_at"],
    )
    op.create_index("ix_store_events_type_occurred_at", "store_events", ["type", "occurred_at"])
    op.create_index("ix_store_events_order_ref_type", "store_events", ["order_ref", "type"])
    op.create_index("ix_store_events_phone", "store_events", ["phone"])
    op.create_table(
        "conversions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("event_id", Id, nullable=False),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("message_id", Id),
        sa.Column("via", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("origin_name", sa.String(100), nullable=False),
        sa.Column("campaign_id", Id),
        sa.Column("opt_in_source", sa.String(100)),
        sa.Column("value_minor", sa.BigInteger()),
        sa.Column("currency", sa.String(3)),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversions"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["store_events.id"], name="fk_conversions_event_id_store_events"
        ),
        sa.UniqueConstraint("event_id", name="uq_conversions_event_id"),
    )
    op.create_index("ix_conversions_campaign_id", "conversions", ["campaign_id"])
    op.create_index("ix_conversions_origin_origin_name", "conversions", ["origin", "origin_name"])


def downgrade() -> None:
    op.drop_table("conversions")
    op.drop_table("store_events")
    op.drop_index("ix_flow_runs_flow_subscriber_id_started_at", "flow_runs")
    op.drop_column("flow_runs", "event")
