"""areas: the shared areas of work of the library and the events, with the summit's ten

A new table; the CAC Global Summit 2020's ten areas are inserted in their order (slugs are stable:
links and filters use them). Names are unique in each language and never blank.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21 13:00:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# Copied (not imported) so this migration keeps meaning what it meant when written.
DEFAULT_AREAS = (
    ('quarantine-measures', 'Quarantine measures', '방역'),
    ('climate-environment', 'Climate and environment', '기후·환경'),
    ('education', 'Education', '교육'),
    ('urban-sharing', 'Urban sharing', '도시 공유'),
    ('citizen-participation', 'Citizen participation', '시민 참여'),
    ('culture', 'Culture', '문화'),
    ('welfare', 'Welfare', '복지'),
    ('public-transportation', 'Public transportation', '대중교통'),
    ('smart-city', 'Smart city', '스마트 시티'),
    ('sports', 'Sports', '체육'),
)


def upgrade():
    areas = op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_ko', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(trim(name_en)) > 0', name=op.f('ck_areas_name_en_present')),
    sa.CheckConstraint('length(trim(name_ko)) > 0', name=op.f('ck_areas_name_ko_present')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('name_en', name=op.f('uq_areas_name_en')),
    sa.UniqueConstraint('name_ko', name=op.f('uq_areas_name_ko')),
    sa.UniqueConstraint('slug', name=op.f('uq_areas_slug'))
    )
    now = datetime.now(timezone.utc)
    op.bulk_insert(areas, [
        {'slug': slug, 'name_en': en, 'name_ko': ko, 'position': n, 'created_at': now,
         'updated_at': now}
        for n, (slug, en, ko) in enumerate(DEFAULT_AREAS, start=1)
    ])


def downgrade():
    op.drop_table('areas')
