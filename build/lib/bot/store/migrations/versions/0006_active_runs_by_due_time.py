"""Due runs through a partial index of active runs only.

The (status, due_at) index let SQLite answer "this subscriber's active runs" by walking every active
run in the database; without `status` as a column it takes the unique (subscriber_id, flow) index.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.drop_index("ix_flow_runs_status_due_at", "flow_runs")
    op.create_index("ix_flow_runs_due", "flow_runs", ["due_at"], sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("ix_flow_runs_due", "flow_runs")
    op.create_index("ix_flow_runs_status_due_at", "flow_runs", ["status", "due_at"])
