"""Segments by country and engagement, tracked links and their clicks, campaigns and their recipients.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from bot.domain.phones import region_of
from bot.store.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("status = 'pending'")
INBOUND = sa.text("direction = 'inbound'")
CAMPAIGN = sa.text("campaign_id IS NOT NULL")
CHUNK = 10_000


def upgrade() -> None:
    op.add_column("subscribers", sa.Column("country", sa.String(2)))
    _fill_countries()
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("campaign_id", Id))
    op.create_index(
        "ix_messages_inbound",
        "messages",
        ["created_at", "subscriber_id"],
        sqlite_where=INBOUND,
        postgresql_where=INBOUND,
    )
    op.create_index(
        "ix_messages_campaign", "messages", ["campaign_id"], sqlite_where=CAMPAIGN, postgresql_where=CAMPAIGN
    )
    _links_and_clicks()
    _campaigns()


def _fill_countries() -> None:
    """The country of every number already stored, as new subscribers get theirs."""
    conn = op.get_bind()
    table = sa.table("subscribers", sa.column("id", Id), sa.column("phone"), sa.column("country"))
    last = 0
    while True:
        found = conn.execute(
            sa.select(table.c.id, table.c.phone).where(table.c.id > last).order_by(table.c.id).limit(CHUNK)
        ).all()
        if not found:
            return
        conn.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(country=sa.bindparam("b_country")),
            [{"b_id": row.id, "b_country": region_of(row.phone)} for row in found],
        )
        last = found[-1].id


def _links_and_clicks() -> None:
    op.create_table(
        "links",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("message_ref", sa.String(100)),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("origin_name", sa.String(100), nullable=False),
        sa.Column("campaign_id", Id),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name="fk_links_subscriber_id_subscribers"
        ),
    )
    op.create_index("uq_links_code", "links", ["code"], unique=True)
    op.create_index("ix_links_campaign_id", "links", ["campaign_id"])
    op.create_table(
        "clicks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("link_id", Id, nullable=False),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("campaign_id", Id),
        sa.Column("preview", sa.Boolean, nullable=False),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clicks"),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name="fk_clicks_link_id_links"),
    )
    op.create_index("ix_clicks_subscriber_id_at", "clicks", ["subscriber_id", "at"])
    op.create_index("ix_clicks_at", "clicks", ["at"])
    op.create_index("ix_clicks_link_id", "clicks", ["link_id"])
    op.create_index("ix_clicks_campaign_id", "clicks", ["campaign_id"])


def _campaigns() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("audience", sa.Integer, nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_index("uq_campaigns_name_round", "campaigns", ["name", "round"], unique=True)
    op.create_index("ix_campaigns_fingerprint", "campaigns", ["fingerprint"])
    op.create_table(
        "campaign_recipients",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", Id, nullable=False),
        sa.Column("subscriber_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40)),
        sa.Column("send_after", UTCDateTime, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message_id", Id),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_recipients"),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_campaign_recipients_campaign_id_campaigns"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"], ["subscribers.id"], name="fk_campaign_recipients_subscriber_id_subscribers"
        ),
    )
    op.create_index(
        "uq_campaign_recipients", "campaign_recipients", ["campaign_id", "subscriber_id"], unique=True
    )
    op.create_index(
        "ix_campaign_recipients_pending",
        "campaign_recipients",
        ["campaign_id", "send_after"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index("ix_campaign_recipients_message_id", "campaign_recipients", ["message_id"])


def downgrade() -> None:
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
    op.drop_table("clicks")
    op.drop_table("links")
    op.drop_index("ix_messages_campaign", "messages")
    op.drop_index("ix_messages_inbound", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("campaign_id")
    op.drop_column("subscribers", "country")
