"""situation: a city's figures per day (new cases, active cases, hospitalised, tests, vaccinated)

One row per city and day (``uq_situation_days_city_id_day``, which is also the index every read
walks: a city's days in order, or several cities over a period). Each figure is optional but
never negative; a day without any figure is refused by ``ck_situation_days_some_figure``. The
figures go with their city (ON DELETE CASCADE); who entered them is kept while that account
exists. A new table only: nothing to copy, nothing rebuilt.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

MEASURES = ('new_cases', 'active_cases', 'hospitalised', 'tests_done', 'vaccinated')


def upgrade():
    op.create_table('situation_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('new_cases', sa.Integer(), nullable=True),
    sa.Column('active_cases', sa.Integer(), nullable=True),
    sa.Column('hospitalised', sa.Integer(), nullable=True),
    sa.Column('tests_done', sa.Integer(), nullable=True),
    sa.Column('vaccinated', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    *[
        sa.CheckConstraint(
            f'{m} IS NULL OR ({m} >= 0 AND {m} <= 1000000000)',
            name=op.f(f'ck_situation_days_{m}_range'),
        )
        for m in MEASURES
    ],
    sa.CheckConstraint(
        ' OR '.join(f'{m} IS NOT NULL' for m in MEASURES),
        name=op.f('ck_situation_days_some_figure'),
    ),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_situation_days_city_id_cities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_situation_days_entered_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_situation_days')),
    sa.UniqueConstraint('city_id', 'day', name=op.f('uq_situation_days_city_id_day'))
    )
    with op.batch_alter_table('situation_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_situation_days_entered_by_id'), ['entered_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('situation_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_situation_days_entered_by_id'))

    op.drop_table('situation_days')
