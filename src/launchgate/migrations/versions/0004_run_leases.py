"""run leases: a running run is held by one worker until its lease runs out

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import launchgate.models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column(
            'lease_expires_at', launchgate.models.base.UTCDateTime(timezone=True), nullable=True
        ))


def downgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('lease_expires_at')
