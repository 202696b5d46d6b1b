"""judge cost: the run's cost, the spend per organisation/day/model, the monthly budget

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'judge_spend',
        sa.Column('org_id', sa.Uuid(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('model', sa.String(length=200), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('input_tokens', sa.Integer(), nullable=False),
        sa.Column('output_tokens', sa.Integer(), nullable=False),
        sa.Column('cached_input_tokens', sa.Integer(), nullable=False),
        sa.Column('estimated_input_tokens', sa.Integer(), nullable=False),
        sa.Column('cost_usd', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_judge_spend_org_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_id', 'day', 'provider', 'model', name=op.f('pk_judge_spend')),
    )
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('cost_usd', sa.Double(), nullable=True))
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('judge_budget_usd_monthly', sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('judge_budget_usd_monthly')
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('cost_usd')
    op.drop_table('judge_spend')
