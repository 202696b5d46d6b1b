"""inconclusive verdicts: the run status, its counts and raw verdict, the suite setting

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=Text()), 'postgresql'
)


def upgrade() -> None:
    with op.batch_alter_table('runs') as batch:
        # "inconclusive" is 12 characters; the column held 10.
        batch.alter_column(
            'status', existing_type=sa.String(length=10), type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch.add_column(sa.Column(
            'inconclusive_cases', sa.Integer(), nullable=False, server_default='0'
        ))
        batch.add_column(sa.Column('verdict_detail', _JSON, nullable=True))
    with op.batch_alter_table('runs') as batch:
        batch.alter_column('inconclusive_cases', server_default=None)
    with op.batch_alter_table('suites') as batch:
        batch.add_column(sa.Column(
            'on_inconclusive', sa.String(length=12), nullable=False,
            server_default='inconclusive',
        ))
    with op.batch_alter_table('suites') as batch:
        batch.alter_column('on_inconclusive', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('suites') as batch:
        batch.drop_column('on_inconclusive')
    # Runs that ended inconclusive do not fit the old column: they become aborted,
    # which is what an undecided gate meant before the status existed.
    op.execute("UPDATE runs SET status = 'aborted' WHERE status = 'inconclusive'")
    with op.batch_alter_table('runs') as batch:
        batch.drop_column('verdict_detail')
        batch.drop_column('inconclusive_cases')
        batch.alter_column(
            'status', existing_type=sa.String(length=16), type_=sa.String(length=10),
            existing_nullable=False,
        )
