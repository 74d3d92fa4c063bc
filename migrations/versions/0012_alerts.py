"""alerts: early warning between member cities (alerts, updates, acknowledgements, links,
documents, and who receives alert mail)

Issue 8. ``alerts`` holds one city's alert: a draft until it is published, then open, then closed
with a summary. The database keeps the rules that matter whoever writes: counts are never
negative (here and in ``alert_updates``), a published alert has a "what", a first-observed date
and a publication time, a closed one a summary, a draft is never a public notice. A city
acknowledges an alert once (``uq_alert_acknowledgements_alert_id_city_id``); a link between two
alerts is stored once, lower id first. ``alert_subscriptions`` records a city administrator's
choice per focal point (no row: the primary focal point receives alerts). The partial index
``ix_alerts_public_notice`` serves the public page and /alerts.atom. New tables only: nothing to
copy, nothing rebuilt.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-21 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_alert_subscriptions_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_alert_subscriptions_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_subscriptions')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_alert_subscriptions_contact_id'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('draft', 'published', 'closed', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('what', sa.String(length=200), nullable=False),
    sa.Column('signal_type', sa.Enum('cluster', 'unusual_severity', 'new_variant', 'health_system_strain', 'imported_cases', 'other', name='signal_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('watch', 'warning', 'emergency', name='severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('district', sa.String(length=200), nullable=False),
    sa.Column('first_observed_on', sa.Date(), nullable=True),
    sa.Column('cases', sa.Integer(), nullable=True),
    sa.Column('deaths', sa.Integer(), nullable=True),
    sa.Column('actions', sa.Text(), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('contact_text', sa.String(length=500), nullable=False),
    sa.Column('is_public_notice', sa.Boolean(), nullable=False),
    sa.Column('public_notice_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closing_summary', sa.Text(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("NOT is_public_notice OR state <> 'draft'", name=op.f('ck_alerts_notice_not_draft')),
    sa.CheckConstraint("state <> 'closed' OR (closed_at IS NOT NULL AND closing_summary <> '')", name=op.f('ck_alerts_closed_has_summary')),
    sa.CheckConstraint("state = 'draft' OR first_observed_on IS NOT NULL", name=op.f('ck_alerts_published_has_date')),
    sa.CheckConstraint("state = 'draft' OR published_at IS NOT NULL", name=op.f('ck_alerts_published_at_set')),
    sa.CheckConstraint("state = 'draft' OR what <> ''", name=op.f('ck_alerts_published_has_what')),
    sa.CheckConstraint('cases IS NULL OR cases >= 0', name=op.f('ck_alerts_cases_not_negative')),
    sa.CheckConstraint('deaths IS NULL OR deaths >= 0', name=op.f('ck_alerts_deaths_not_negative')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_alerts_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_alerts_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_alerts_raised_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('uuid', name=op.f('uq_alerts_uuid'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_city_state', ['city_id', 'state'], unique=False)
        batch_op.create_index('ix_alerts_public_notice', [sa.literal_column('published_at DESC')], unique=False, postgresql_where=sa.text('is_public_notice'), sqlite_where=sa.text('is_public_notice'))
        batch_op.create_index('ix_alerts_state_severity_published', ['state', 'severity', 'published_at'], unique=False)

    op.create_table('alert_acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('seen', 'checking', 'similar', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('similar_alert_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("similar_alert_id IS NULL OR kind = 'similar'", name=op.f('ck_alert_acknowledgements_similar_has_kind')),
    sa.CheckConstraint('similar_alert_id IS NULL OR similar_alert_id <> alert_id', name=op.f('ck_alert_acknowledgements_not_itself')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_acknowledgements_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_alert_acknowledgements_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['similar_alert_id'], ['alerts.id'], name=op.f('fk_alert_acknowledgements_similar_alert_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_acknowledgements_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_acknowledgements')),
    sa.UniqueConstraint('alert_id', 'city_id', name=op.f('uq_alert_acknowledgements_alert_id_city_id'))
    )
    with op.batch_alter_table('alert_acknowledgements', schema=None) as batch_op:
        batch_op.create_index('ix_alert_acknowledgements_city_id', ['city_id', 'alert_id'], unique=False)

    op.create_table('alert_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/webp')", name=op.f('ck_alert_documents_content_type_known')),
    sa.CheckConstraint("filename <> ''", name=op.f('ck_alert_documents_filename_given')),
    sa.CheckConstraint('size > 0', name=op.f('ck_alert_documents_size_positive')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_documents_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_alert_documents_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_documents')),
    sa.UniqueConstraint('alert_id', 'sha256', name=op.f('uq_alert_documents_alert_id_sha256'))
    )
    with op.batch_alter_table('alert_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_documents_alert_id'), ['alert_id'], unique=False)

    op.create_table('alert_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('other_alert_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('alert_id < other_alert_id', name=op.f('ck_alert_links_ordered_pair')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_links_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_alert_links_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['other_alert_id'], ['alerts.id'], name=op.f('fk_alert_links_other_alert_id_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_links')),
    sa.UniqueConstraint('alert_id', 'other_alert_id', name=op.f('uq_alert_links_alert_id_other_alert_id'))
    )
    with op.batch_alter_table('alert_links', schema=None) as batch_op:
        batch_op.create_index('ix_alert_links_other_alert_id', ['other_alert_id'], unique=False)

    op.create_table('alert_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('update', 'escalation', 'closure', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=True),
    sa.Column('deaths', sa.Integer(), nullable=True),
    sa.Column('severity_from', sa.Enum('watch', 'warning', 'emergency', name='severity_from', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('severity_to', sa.Enum('watch', 'warning', 'emergency', name='severity_to', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("body <> ''", name=op.f('ck_alert_updates_body_given')),
    sa.CheckConstraint("kind <> 'escalation' OR (severity_from IS NOT NULL AND severity_to IS NOT NULL)", name=op.f('ck_alert_updates_escalation_has_severities')),
    sa.CheckConstraint('cases IS NULL OR cases >= 0', name=op.f('ck_alert_updates_cases_not_negative')),
    sa.CheckConstraint('deaths IS NULL OR deaths >= 0', name=op.f('ck_alert_updates_deaths_not_negative')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_updates_alert_id_alerts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_alert_updates_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_alert_updates_city_id_cities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_updates'))
    )
    with op.batch_alter_table('alert_updates', schema=None) as batch_op:
        batch_op.create_index('ix_alert_updates_alert_id', ['alert_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('alert_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_updates_alert_id')

    op.drop_table('alert_updates')
    with op.batch_alter_table('alert_links', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_links_other_alert_id')

    op.drop_table('alert_links')
    with op.batch_alter_table('alert_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_documents_alert_id'))

    op.drop_table('alert_documents')
    with op.batch_alter_table('alert_acknowledgements', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_acknowledgements_city_id')

    op.drop_table('alert_acknowledgements')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_state_severity_published')
        batch_op.drop_index('ix_alerts_public_notice', postgresql_where=sa.text('is_public_notice'), sqlite_where=sa.text('is_public_notice'))
        batch_op.drop_index('ix_alerts_city_state')

    op.drop_table('alerts')
    op.drop_table('alert_subscriptions')
