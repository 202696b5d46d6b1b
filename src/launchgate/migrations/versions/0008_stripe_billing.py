"""Stripe billing: the organisation's Stripe customer, the webhook events received

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from launchgate.models.base import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('stripe_customer_id', sa.String(length=255), nullable=True))
    op.create_index(
        op.f('ix_organisations_stripe_customer_id'),
        'organisations',
        ['stripe_customer_id'],
        unique=True,
    )
    op.create_table(
        'stripe_events',
        sa.Column('id', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=100), nullable=False),
        sa.Column('created', UTCDateTime(timezone=True), nullable=False),
        sa.Column('org_id', sa.Uuid(), nullable=True),
        sa.Column('outcome', sa.String(length=30), nullable=False),
        sa.Column('plan', sa.String(length=20), nullable=True),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_stripe_events_org_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events')),
    )
    op.create_index('ix_stripe_events_org_created', 'stripe_events', ['org_id', 'created'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_stripe_events_org_created', table_name='stripe_events')
    op.drop_table('stripe_events')
    op.drop_index(op.f('ix_organisations_stripe_customer_id'), table_name='organisations')
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('stripe_customer_id')
