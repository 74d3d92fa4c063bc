"""links: the cities network's links to official pandemic pages, and international organisations

Two new tables. ``link_organisations``: the organisations the secretariat enters (WHO...), named in
English and Korean (each unique). ``network_links``: a link owned by exactly one member city or
organisation (``ck_network_links_one_owner``; both ON DELETE CASCADE), http(s) only, its address
unique per owner, with the link checker's last result (state, failures in a row, broken since,
owner told at). The checker walks ``ix_network_links_last_checked_at``, oldest first.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-21 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('link_organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=False),
    sa.Column('acronym', sa.String(length=20), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(trim(name_en)) > 0', name=op.f('ck_link_organisations_name_en_present')),
    sa.CheckConstraint('length(trim(name_ko)) > 0', name=op.f('ck_link_organisations_name_ko_present')),
    sa.CheckConstraint("website = '' OR website LIKE 'http://%' OR website LIKE 'https://%'", name=op.f('ck_link_organisations_website_http')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_organisations')),
    sa.UniqueConstraint('name_en', name=op.f('uq_link_organisations_name_en')),
    sa.UniqueConstraint('name_ko', name=op.f('uq_link_organisations_name_ko'))
    )
    op.create_table('network_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=3), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('unchecked', 'ok', 'broken', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('broken_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('owner_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(city_id IS NOT NULL AND organisation_id IS NULL) OR (city_id IS NULL AND organisation_id IS NOT NULL)', name=op.f('ck_network_links_one_owner')),
    sa.CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name=op.f('ck_network_links_url_http')),
    sa.CheckConstraint('length(trim(title)) > 0', name=op.f('ck_network_links_title_present')),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_network_links_failures_not_negative')),
    sa.CheckConstraint('(failures = 0) = (broken_since IS NULL)', name=op.f('ck_network_links_failing_has_since')),
    sa.CheckConstraint("state <> 'broken' OR failures > 0", name=op.f('ck_network_links_broken_is_failing')),
    sa.CheckConstraint("owner_notified_at IS NULL OR state = 'broken'", name=op.f('ck_network_links_notified_only_broken')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_network_links_city_id_cities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['link_organisations.id'], name=op.f('fk_network_links_organisation_id_link_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_links')),
    sa.UniqueConstraint('city_id', 'url', name=op.f('uq_network_links_city_id_url')),
    sa.UniqueConstraint('organisation_id', 'url', name=op.f('uq_network_links_organisation_id_url'))
    )
    with op.batch_alter_table('network_links', schema=None) as batch_op:
        batch_op.create_index('ix_network_links_last_checked_at', ['last_checked_at'], unique=False)


def downgrade():
    with op.batch_alter_table('network_links', schema=None) as batch_op:
        batch_op.drop_index('ix_network_links_last_checked_at')

    op.drop_table('network_links')
    op.drop_table('link_organisations')
