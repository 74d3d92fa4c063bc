"""news: news items of the secretariat and member cities, the weekly digest's subscribers and runs

``news_items`` holds each item in English and/or Korean (``ck_news_items_has_title``), its
category (a note from the chair is never a city's story), visibility and moderation state, an
optional image checked by content (with alt text: ``ck_news_items_image_has_alt``) and the folded
``search_text`` (a trigram GIN index on PostgreSQL, as for cities in 0004). A city's items keep
the city (RESTRICT); the author is kept while the account exists. ``news_digest_subscriptions``:
one row per user who asked for the weekly digest (gone with the account). ``news_digest_runs``:
one row per digest period and the window of publication it covered. New tables only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-21 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('news_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ko', sa.String(length=200), nullable=False),
    sa.Column('summary_en', sa.String(length=1000), nullable=False),
    sa.Column('summary_ko', sa.String(length=1000), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('body_ko', sa.Text(), nullable=False),
    sa.Column('category', sa.Enum('news', 'announcement', 'chair_note', name='category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'members', name='visibility', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'published', 'rejected', 'withdrawn', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('image_type', sa.String(length=20), nullable=True),
    sa.Column('image_alt_en', sa.String(length=300), nullable=False),
    sa.Column('image_alt_ko', sa.String(length=300), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("title_en <> '' OR title_ko <> ''", name=op.f('ck_news_items_has_title')),
    sa.CheckConstraint('(image_sha256 IS NULL) = (image_type IS NULL)', name=op.f('ck_news_items_image_has_type')),
    sa.CheckConstraint("image_type IS NULL OR image_type IN ('image/png', 'image/jpeg', 'image/webp')", name=op.f('ck_news_items_image_type_known')),
    sa.CheckConstraint("image_sha256 IS NULL OR image_alt_en <> '' OR image_alt_ko <> ''", name=op.f('ck_news_items_image_has_alt')),
    sa.CheckConstraint("state NOT IN ('published', 'withdrawn') OR published_at IS NOT NULL", name=op.f('ck_news_items_published_at_set')),
    sa.CheckConstraint("state <> 'rejected' OR rejection_reason <> ''", name=op.f('ck_news_items_rejected_has_reason')),
    sa.CheckConstraint("category <> 'chair_note' OR city_id IS NULL", name=op.f('ck_news_items_chair_note_no_city')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_news_items_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_news_items_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_news_items_decided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news_items')),
    sa.UniqueConstraint('uuid', name=op.f('uq_news_items_uuid'))
    )
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.create_index('ix_news_items_state_published_at', ['state', 'published_at'], unique=False)
        batch_op.create_index('ix_news_items_city_id_state', ['city_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_news_items_author_id'), ['author_id'], unique=False)
    op.create_index(
        'ix_news_items_search_trgm',
        'news_items',
        ['search_text'],
        unique=False,
        postgresql_using='gin',
        postgresql_ops={'search_text': 'gin_trgm_ops'},
    )

    op.create_table('news_digest_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_news_digest_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news_digest_subscriptions')),
    sa.UniqueConstraint('user_id', name=op.f('uq_news_digest_subscriptions_user_id'))
    )
    op.create_table('news_digest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('window_end > window_start', name=op.f('ck_news_digest_runs_window_ordered')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news_digest_runs')),
    sa.UniqueConstraint('period', name=op.f('uq_news_digest_runs_period'))
    )


def downgrade():
    op.drop_table('news_digest_runs')
    op.drop_table('news_digest_subscriptions')
    op.drop_index('ix_news_items_search_trgm', table_name='news_items')
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_news_items_author_id'))
        batch_op.drop_index('ix_news_items_city_id_state')
        batch_op.drop_index('ix_news_items_state_published_at')
    op.drop_table('news_items')
