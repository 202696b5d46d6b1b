"""Stripe billing: the organisation's open checkout session and its live subscription

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from launchgate.models.base import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('stripe_subscription_id', sa.String(length=255), nullable=True))
    op.create_table(
        'stripe_checkouts',
        sa.Column('org_id', sa.Uuid(), nullable=False),
        sa.Column('session_id', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_stripe_checkouts_org_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_stripe_checkouts')),
    )


def downgrade() -> None:
    op.drop_table('stripe_checkouts')
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('stripe_subscription_id')
