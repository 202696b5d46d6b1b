"""batches: many outputs in one call, their items as runs, the suite's batch settings

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import launchgate.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=Text()), 'postgresql'
)
_WHEN = launchgate.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'batches',
        sa.Column('id', sa.String(length=28), nullable=False),
        sa.Column('org_id', sa.Uuid(), nullable=False),
        sa.Column('project_id', sa.Uuid(), nullable=False),
        sa.Column('suite_id', sa.Uuid(), nullable=False),
        sa.Column('api_key_id', sa.Uuid(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('trigger', sa.String(length=20), nullable=False),
        sa.Column('trigger_meta', _JSON, nullable=False),
        sa.Column('total_items', sa.Integer(), nullable=False),
        sa.Column('min_cleared', sa.Double(), nullable=False),
        sa.Column('fail_on_regression', sa.Boolean(), nullable=False),
        sa.Column('baseline_requested', sa.String(length=28), nullable=True),
        sa.Column('baseline_id', sa.String(length=28), nullable=True),
        sa.Column('billable', sa.Boolean(), nullable=False),
        sa.Column('pass_rate', sa.Double(), nullable=True),
        sa.Column('result', _JSON, nullable=True),
        sa.Column('created_at', _WHEN, nullable=False),
        sa.Column('completed_at', _WHEN, nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_batches_org_id_organisations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_batches_project_id_projects'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['suite_id'], ['suites.id'], name=op.f('fk_batches_suite_id_suites'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batches')),
    )
    op.create_index('ix_batches_suite_created', 'batches', ['suite_id', 'created_at'])
    op.create_index('ix_batches_org_created', 'batches', ['org_id', 'created_at'])
    with op.batch_alter_table('runs') as batch:
        batch.add_column(sa.Column('batch_id', sa.String(length=28), nullable=True))
        batch.add_column(sa.Column('item_key', sa.String(length=200), nullable=True))
        batch.create_foreign_key(
            op.f('fk_runs_batch_id_batches'), 'batches', ['batch_id'], ['id'], ondelete='CASCADE'
        )
        batch.create_index('ix_runs_batch', ['batch_id'])
    with op.batch_alter_table('suites') as batch:
        batch.add_column(sa.Column('batch_threshold', sa.Double(), nullable=False, server_default='1.0'))
        batch.add_column(sa.Column('baseline_branch', sa.String(length=200), nullable=False, server_default='main'))
        batch.add_column(sa.Column('fail_on_regression', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('suites') as batch:
        batch.alter_column('batch_threshold', server_default=None)
        batch.alter_column('baseline_branch', server_default=None)
        batch.alter_column('fail_on_regression', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('suites') as batch:
        batch.drop_column('fail_on_regression')
        batch.drop_column('baseline_branch')
        batch.drop_column('batch_threshold')
    with op.batch_alter_table('runs') as batch:
        batch.drop_index('ix_runs_batch')
        batch.drop_constraint(op.f('fk_runs_batch_id_batches'), type_='foreignkey')
        batch.drop_column('item_key')
        batch.drop_column('batch_id')
    op.drop_index('ix_batches_org_created', table_name='batches')
    op.drop_index('ix_batches_suite_created', table_name='batches')
    op.drop_table('batches')
