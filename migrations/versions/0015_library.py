"""library: the countermeasure library's cases, their attachments and links

Three new tables. A case belongs to a member city (ON DELETE CASCADE, with its attachments and
links) and to an area (RESTRICT: an area in use stays). Each language is optional, but a case has
a title in at least one (``ck_library_cases_some_title``) and a summary, description or results
in a language need that language's title (``ck_library_cases_<field>_<lang>_has_title``); an end
is never before the start; a published case has its publication time. Links are http(s) only.
On PostgreSQL a GIN trigram index serves the search (``contains`` on search_text).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

LANGUAGES = ('en', 'ko')
TEXT_FIELDS = ('summary', 'body', 'results')


def upgrade():
    op.create_table('library_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'published', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'members', name='visibility', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ko', sa.String(length=200), nullable=False),
    sa.Column('summary_en', sa.Text(), nullable=False),
    sa.Column('summary_ko', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_ko', sa.Text(), nullable=False),
    sa.Column('results_en', sa.Text(), nullable=False),
    sa.Column('results_ko', sa.Text(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("title_en <> '' OR title_ko <> ''", name=op.f('ck_library_cases_some_title')),
    *[
        sa.CheckConstraint(
            f"{field}_{lang} = '' OR title_{lang} <> ''",
            name=op.f(f'ck_library_cases_{field}_{lang}_has_title'),
        )
        for field in TEXT_FIELDS for lang in LANGUAGES
    ],
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= started_on', name=op.f('ck_library_cases_ends_after_start')),
    sa.CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name=op.f('ck_library_cases_published_at_set')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_library_cases_area_id_areas'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_library_cases_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_library_cases_city_id_cities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_cases'))
    )
    with op.batch_alter_table('library_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_cases_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_cases_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_library_cases_city_id_state', ['city_id', 'state'], unique=False)
        batch_op.create_index('ix_library_cases_state_published_at', ['state', 'published_at'], unique=False)
        batch_op.create_index('ix_library_cases_state_started_on', ['state', 'started_on'], unique=False)
    # A trigram GIN index on PostgreSQL (pg_trgm, made by 0004), a plain index elsewhere.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_index(
        'ix_library_cases_search_trgm', 'library_cases', ['search_text'], unique=False,
        postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'},
    )

    op.create_table('library_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/webp')", name=op.f('ck_library_attachments_content_type_known')),
    sa.CheckConstraint("filename <> ''", name=op.f('ck_library_attachments_filename_given')),
    sa.CheckConstraint('size > 0', name=op.f('ck_library_attachments_size_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['library_cases.id'], name=op.f('fk_library_attachments_case_id_library_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_library_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_attachments')),
    sa.UniqueConstraint('case_id', 'sha256', name=op.f('uq_library_attachments_case_id_sha256'))
    )
    with op.batch_alter_table('library_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_library_attachments_uploaded_by_id'), ['uploaded_by_id'], unique=False)

    op.create_table('library_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("title <> ''", name=op.f('ck_library_links_title_given')),
    sa.CheckConstraint("url LIKE 'http://%' OR url LIKE 'https://%'", name=op.f('ck_library_links_url_http')),
    sa.ForeignKeyConstraint(['case_id'], ['library_cases.id'], name=op.f('fk_library_links_case_id_library_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_links'))
    )
    with op.batch_alter_table('library_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_links_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('library_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_links_case_id'))
    op.drop_table('library_links')
    with op.batch_alter_table('library_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_attachments_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_library_attachments_case_id'))
    op.drop_table('library_attachments')
    op.drop_index('ix_library_cases_search_trgm', table_name='library_cases')
    with op.batch_alter_table('library_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_library_cases_state_started_on')
        batch_op.drop_index('ix_library_cases_state_published_at')
        batch_op.drop_index('ix_library_cases_city_id_state')
        batch_op.drop_index(batch_op.f('ix_library_cases_author_id'))
        batch_op.drop_index(batch_op.f('ix_library_cases_area_id'))
    op.drop_table('library_cases')
