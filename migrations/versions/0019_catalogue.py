"""catalogue: companies, their products, the products' certifications; offers may name a product

``catalogue_companies`` and ``catalogue_products`` carry their vetting state (pending, vetted,
rejected; a vetted entry has its date, a rejected one its reason) and the member city that
submitted them. ``catalogue_certifications`` belong to a product (ON DELETE CASCADE); an issuing
authority is required and an expiry comes after the issue (``ck_..._expires_after_issue``); that
the issue is not in the future is the service's check, a CHECK cannot know today's date. Export
permission is a certification kind of its own. ``resource_posts.product_id`` (nullable, ON DELETE
SET NULL) links an offer to a product.

On SQLite the batch mode rebuilds ``resource_posts`` to add the foreign key. No trigger lives on
that table (only statement_versions has one, 0005); its CHECK constraints and indexes are copied,
but the rebuilt ``ix_resource_posts_live_urgency`` loses the DESC of its columns, so it is made
again as 0009 made it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-21 12:42:33.954963

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _restore_live_urgency_index():
    """SQLite's batch rebuild copies the index without its DESC: make it again as 0009 did."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    with op.batch_alter_table('resource_posts', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_resource_posts_live_urgency')
        batch_op.create_index('ix_resource_posts_live_urgency', ['urgency', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text("state IN ('open', 'partly_met')"), sqlite_where=sa.text("state IN ('open', 'partly_met')"))


def upgrade():
    op.create_table('catalogue_companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=60), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_ko', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'vetted', 'rejected', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('vetted_by_id', sa.Integer(), nullable=True),
    sa.Column('vetted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("name_en <> ''", name=op.f('ck_catalogue_companies_name_given')),
    sa.CheckConstraint("state <> 'rejected' OR rejection_reason <> ''", name=op.f('ck_catalogue_companies_rejected_has_reason')),
    sa.CheckConstraint("state <> 'vetted' OR vetted_at IS NOT NULL", name=op.f('ck_catalogue_companies_vetted_has_date')),
    sa.CheckConstraint('length(country_code) = 2', name=op.f('ck_catalogue_companies_country_code_length')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_catalogue_companies_city_id_cities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_catalogue_companies_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vetted_by_id'], ['users.id'], name=op.f('fk_catalogue_companies_vetted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_companies'))
    )
    with op.batch_alter_table('catalogue_companies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_companies_city_id'), ['city_id'], unique=False)
        batch_op.create_index('ix_catalogue_companies_state_country', ['state', 'country_code'], unique=False)

    op.create_table('catalogue_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=False),
    sa.Column('product_type', sa.Enum('specimen_collection_kit', 'diagnostic_reagent', 'ppe', 'device', 'other', name='product_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_ko', sa.Text(), nullable=False),
    sa.Column('sheet_sha256', sa.String(length=64), nullable=True),
    sa.Column('sheet_filename', sa.String(length=200), nullable=False),
    sa.Column('sheet_size', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'vetted', 'rejected', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('vetted_by_id', sa.Integer(), nullable=True),
    sa.Column('vetted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(sheet_sha256 IS NULL AND sheet_size IS NULL) OR (sheet_sha256 IS NOT NULL AND sheet_size > 0 AND sheet_size <= 10485760 AND sheet_filename <> '')", name=op.f('ck_catalogue_products_sheet_complete')),
    sa.CheckConstraint("name_en <> '' OR name_ko <> ''", name=op.f('ck_catalogue_products_name_given')),
    sa.CheckConstraint("state <> 'rejected' OR rejection_reason <> ''", name=op.f('ck_catalogue_products_rejected_has_reason')),
    sa.CheckConstraint("state <> 'vetted' OR vetted_at IS NOT NULL", name=op.f('ck_catalogue_products_vetted_has_date')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_catalogue_products_city_id_cities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['company_id'], ['catalogue_companies.id'], name=op.f('fk_catalogue_products_company_id_catalogue_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_catalogue_products_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['vetted_by_id'], ['users.id'], name=op.f('fk_catalogue_products_vetted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_products'))
    )
    with op.batch_alter_table('catalogue_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_products_city_id'), ['city_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_products_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_catalogue_products_search_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.create_index('ix_catalogue_products_state_type', ['state', 'product_type'], unique=False)

    op.create_table('catalogue_certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ce_ivd', 'fda_eua', 'mfds_approval', 'who_eul', 'iso_13485', 'export_permission', 'other', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('issuing_authority', sa.String(length=200), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("issuing_authority <> ''", name=op.f('ck_catalogue_certifications_authority_given')),
    sa.CheckConstraint('expires_on IS NULL OR expires_on > issued_on', name=op.f('ck_catalogue_certifications_expires_after_issue')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_catalogue_certifications_added_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['catalogue_products.id'], name=op.f('fk_catalogue_certifications_product_id_catalogue_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_certifications'))
    )
    with op.batch_alter_table('catalogue_certifications', schema=None) as batch_op:
        batch_op.create_index('ix_catalogue_certifications_kind_product', ['kind', 'product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_certifications_product_id'), ['product_id'], unique=False)

    with op.batch_alter_table('resource_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_resource_posts_product_id'), ['product_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_resource_posts_product_id_catalogue_products'), 'catalogue_products', ['product_id'], ['id'], ondelete='SET NULL')
    _restore_live_urgency_index()



def downgrade():
    with op.batch_alter_table('resource_posts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_resource_posts_product_id_catalogue_products'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_resource_posts_product_id'))
        batch_op.drop_column('product_id')
    _restore_live_urgency_index()

    with op.batch_alter_table('catalogue_certifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_certifications_product_id'))
        batch_op.drop_index('ix_catalogue_certifications_kind_product')

    op.drop_table('catalogue_certifications')
    with op.batch_alter_table('catalogue_products', schema=None) as batch_op:
        batch_op.drop_index('ix_catalogue_products_state_type')
        batch_op.drop_index('ix_catalogue_products_search_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_catalogue_products_company_id'))
        batch_op.drop_index(batch_op.f('ix_catalogue_products_city_id'))

    op.drop_table('catalogue_products')
    with op.batch_alter_table('catalogue_companies', schema=None) as batch_op:
        batch_op.drop_index('ix_catalogue_companies_state_country')
        batch_op.drop_index(batch_op.f('ix_catalogue_companies_city_id'))

    op.drop_table('catalogue_companies')
