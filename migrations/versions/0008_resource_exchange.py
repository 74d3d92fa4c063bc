"""resource exchange: categories (the taxonomy seeded), posts, responses, messages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 08:20:29.842929

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


# The taxonomy of the Seoul Statement's exchange (the secretariat adds more in the app).
TAXONOMY = [
    ('epidemiologists', 'staff', 'Epidemiologists', '역학조사관', 'people'),
    ('contact-tracers', 'staff', 'Contact tracers', '접촉자 추적 요원', 'people'),
    ('clinicians', 'staff', 'Clinicians', '임상 의사', 'people'),
    ('nurses', 'staff', 'Nurses', '간호사', 'people'),
    ('laboratory-staff', 'staff', 'Laboratory staff', '검사 인력', 'people'),
    ('public-health-trainers', 'staff', 'Public-health trainers', '공중보건 교육 인력', 'person_days'),
    ('it-for-health', 'staff', 'IT for health', '보건 정보기술 인력', 'person_days'),
    ('test-kits', 'supplies', 'Test kits', '진단 키트', 'kits'),
    ('diagnostic-reagents', 'supplies', 'Diagnostic reagents', '진단 시약', 'kits'),
    ('specimen-collection-kits', 'supplies', 'Specimen collection kits', '검체 채취 키트', 'kits'),
    ('masks', 'supplies', 'Masks', '마스크', 'pieces'),
    ('gowns', 'supplies', 'Gowns', '보호복', 'pieces'),
    ('gloves', 'supplies', 'Gloves', '장갑', 'boxes'),
    ('ventilators', 'supplies', 'Ventilators', '인공호흡기', 'units'),
    ('oxygen', 'supplies', 'Oxygen', '산소', 'cylinders'),
    ('medicines', 'supplies', 'Medicines', '의약품', 'boxes'),
    ('vaccines', 'supplies', 'Vaccines', '백신', 'doses'),
    ('policy-documents', 'knowhow', 'Policy documents', '정책 문서', 'documents'),
    ('training', 'knowhow', 'Training', '교육 훈련', 'sessions'),
    ('software', 'knowhow', 'Software', '소프트웨어', 'units'),
]


def upgrade():
    op.create_table('resource_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('group', sa.Enum('staff', 'supplies', 'knowhow', name='group', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_ko', sa.String(length=120), nullable=False),
    sa.Column('default_unit', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("slug <> ''", name=op.f('ck_resource_categories_slug_given')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_resource_categories_slug'))
    )
    categories = sa.table(
        'resource_categories',
        sa.column('slug', sa.String), sa.column('group', sa.String), sa.column('name_en', sa.String),
        sa.column('name_ko', sa.String), sa.column('default_unit', sa.String),
        sa.column('position', sa.Integer), sa.column('active', sa.Boolean),
    )
    op.bulk_insert(categories, [
        {'slug': slug, 'group': group, 'name_en': en, 'name_ko': ko, 'default_unit': unit,
         'position': position, 'active': True}
        for position, (slug, group, en, ko, unit) in enumerate(TAXONOMY)
    ])

    op.create_table('resource_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('offer', 'request', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ko', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_ko', sa.Text(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.Enum('critical', 'high', 'normal', name='urgency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('available_from', sa.Date(), nullable=True),
    sa.Column('needed_by', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('delivery_note', sa.Text(), nullable=False),
    sa.Column('conditions', sa.Enum('free', 'at_cost', 'loan', name='conditions', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('open', 'partly_met', 'met', 'closed', 'withdrawn', 'expired', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_reason', sa.Text(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("hidden_at IS NULL OR hidden_reason <> ''", name=op.f('ck_resource_posts_hidden_has_reason')),
    sa.CheckConstraint("title_en <> '' OR title_ko <> ''", name=op.f('ck_resource_posts_title_given')),
    sa.CheckConstraint('available_from IS NULL OR needed_by IS NULL OR available_from <= needed_by', name=op.f('ck_resource_posts_dates_in_order')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_resource_posts_quantity_positive')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_resource_posts_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['category_id'], ['resource_categories.id'], name=op.f('fk_resource_posts_category_id_resource_categories'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_resource_posts_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_resource_posts_contact_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_posts')),
    sa.UniqueConstraint('uuid', name=op.f('uq_resource_posts_uuid'))
    )
    with op.batch_alter_table('resource_posts', schema=None) as batch_op:
        batch_op.create_index('ix_resource_posts_category_kind_state', ['category_id', 'kind', 'state'], unique=False)
        batch_op.create_index('ix_resource_posts_city_state', ['city_id', 'state'], unique=False)
        batch_op.create_index('ix_resource_posts_expires_on', ['expires_on'], unique=False)
        batch_op.create_index('ix_resource_posts_state_urgency', ['state', 'urgency', 'created_at'], unique=False)
        batch_op.create_index('ix_resource_posts_search_trgm', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})

    op.create_table('resource_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['resource_categories.id'], name=op.f('fk_resource_subscriptions_category_id_resource_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_resource_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_subscriptions')),
    sa.UniqueConstraint('user_id', 'category_id', name=op.f('uq_resource_subscriptions_user_id_category_id'))
    )
    op.create_table('resource_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('accepted_quantity', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('proposed_date', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum('pending', 'accepted', 'declined', 'withdrawn', 'delivered', 'fell_through', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state NOT IN ('accepted', 'delivered', 'fell_through') OR accepted_quantity IS NOT NULL", name=op.f('ck_resource_responses_accepted_has_quantity')),
    sa.CheckConstraint('accepted_quantity IS NULL OR (accepted_quantity > 0 AND accepted_quantity <= quantity)', name=op.f('ck_resource_responses_accepted_within_asked')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_resource_responses_quantity_positive')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_resource_responses_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_resource_responses_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['post_id'], ['resource_posts.id'], name=op.f('fk_resource_responses_post_id_resource_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_responses')),
    sa.UniqueConstraint('uuid', name=op.f('uq_resource_responses_uuid'))
    )
    with op.batch_alter_table('resource_responses', schema=None) as batch_op:
        batch_op.create_index('ix_resource_responses_city_state', ['city_id', 'state'], unique=False)
        batch_op.create_index('ix_resource_responses_post_state', ['post_id', 'state'], unique=False)
        batch_op.create_index('uq_resource_responses_pending_city_post', ['post_id', 'city_id'], unique=True, sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))

    op.create_table('resource_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("body <> ''", name=op.f('ck_resource_messages_body_given')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_resource_messages_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_resource_messages_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['resource_responses.id'], name=op.f('fk_resource_messages_response_id_resource_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_messages'))
    )
    with op.batch_alter_table('resource_messages', schema=None) as batch_op:
        batch_op.create_index('ix_resource_messages_response_id', ['response_id', 'id'], unique=False)

    op.create_table('resource_thread_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('last_read_message_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['resource_responses.id'], name=op.f('fk_resource_thread_reads_response_id_resource_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_resource_thread_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_thread_reads')),
    sa.UniqueConstraint('user_id', 'response_id', name=op.f('uq_resource_thread_reads_user_id_response_id'))
    )


def downgrade():
    op.drop_table('resource_thread_reads')
    with op.batch_alter_table('resource_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_messages_response_id')

    op.drop_table('resource_messages')
    with op.batch_alter_table('resource_responses', schema=None) as batch_op:
        batch_op.drop_index('uq_resource_responses_pending_city_post', sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
        batch_op.drop_index('ix_resource_responses_post_state')
        batch_op.drop_index('ix_resource_responses_city_state')

    op.drop_table('resource_responses')
    op.drop_table('resource_subscriptions')
    with op.batch_alter_table('resource_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_posts_search_trgm', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
        batch_op.drop_index('ix_resource_posts_state_urgency')
        batch_op.drop_index('ix_resource_posts_expires_on')
        batch_op.drop_index('ix_resource_posts_city_state')
        batch_op.drop_index('ix_resource_posts_category_kind_state')

    op.drop_table('resource_posts')
    op.drop_table('resource_categories')
