"""One stored order_placed per order: a unique index, so two web processes taking the same order at
once under two event ids store it once (the read-then-write check alone let PostgreSQL store both).
Duplicates an earlier race left are removed first, keeping the first stored, with their conversions.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PLACED = sa.text("type = 'order_placed' AND order_ref IS NOT NULL")
LATER = """
SELECT id FROM store_events AS later
WHERE type = 'order_placed' AND order_ref IS NOT NULL AND EXISTS (
    SELECT 1 FROM store_events AS first
    WHERE first.type = 'order_placed' AND first.source = later.source
      AND first.order_ref = later.order_ref AND first.id < later.id)
"""


def upgrade() -> None:
    op.execute(f"DELETE FROM conversions WHERE event_id IN ({LATER})")
    op.execute(f"DELETE FROM store_events WHERE id IN ({LATER})")
    op.create_index(
        "uq_store_events_order_placed",
        "store_events",
        ["source", "order_ref"],
        unique=True,
        sqlite_where=PLACED,
        postgresql_where=PLACED,
    )


def downgrade() -> None:
    op.drop_index("uq_store_events_order_placed", "store_events")
