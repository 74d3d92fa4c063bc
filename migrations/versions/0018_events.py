"""events: the summit and its sessions, webinars and meetings; speakers, cities, registrations

New tables only. ``events`` keeps times in UTC with the IANA zone the event is held in; an event
ends after it starts and has a title in at least one language (CHECKs). A summit's sessions go
with it (parent ON DELETE CASCADE); speakers, participating cities and registrations go with
their event. One registration per event and person (``uq_event_registrations_event_id_user_id``).
On PostgreSQL a trigram index serves the search.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-21 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('summit', 'session', 'webinar', 'meeting', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ko', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_ko', sa.Text(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('organiser', sa.String(length=200), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=False),
    sa.Column('stream_url', sa.String(length=500), nullable=False),
    sa.Column('stream_url_ko', sa.String(length=500), nullable=False),
    sa.Column('recording_url', sa.String(length=500), nullable=False),
    sa.Column('interpretation', sa.JSON(), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('visibility', sa.Enum('public', 'members', name='visibility', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('draft', 'published', 'cancelled', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_events_ends_after_start')),
    sa.CheckConstraint("title_en <> '' OR title_ko <> ''", name=op.f('ck_events_has_title')),
    sa.CheckConstraint('sequence >= 0', name=op.f('ck_events_sequence_not_negative')),
    sa.CheckConstraint("timezone <> ''", name=op.f('ck_events_timezone_present')),
    sa.ForeignKeyConstraint(['parent_id'], ['events.id'], name=op.f('fk_events_parent_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_events_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_events_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('uid', name=op.f('uq_events_uid'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('event_cities',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_cities_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_event_cities_city_id_cities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'city_id', name=op.f('pk_event_cities'))
    )
    with op.batch_alter_table('event_cities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_cities_city_id'), ['city_id'], unique=False)

    op.create_table('event_speakers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=300), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(trim(name)) > 0', name=op.f('ck_event_speakers_name_present')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_speakers_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_event_speakers_city_id_cities'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_speakers'))
    )
    with op.batch_alter_table('event_speakers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_speakers_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_speakers_city_id'), ['city_id'], unique=False)

    op.create_table('event_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_registrations_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_event_registrations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_registrations')),
    sa.UniqueConstraint('event_id', 'user_id', name=op.f('uq_event_registrations_event_id_user_id'))
    )
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_registrations_user_id'), ['user_id'], unique=False)

    # Substring search (LIKE '%…%'): a trigram GIN index on PostgreSQL (pg_trgm, from 0004),
    # a plain index elsewhere.
    op.create_index('ix_events_search_trgm', 'events', ['search_text'], unique=False,
                    postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})


def downgrade():
    op.drop_index('ix_events_search_trgm', table_name='events')
    with op.batch_alter_table('event_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_registrations_user_id'))
    op.drop_table('event_registrations')
    with op.batch_alter_table('event_speakers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_speakers_city_id'))
        batch_op.drop_index(batch_op.f('ix_event_speakers_event_id'))
    op.drop_table('event_speakers')
    with op.batch_alter_table('event_cities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_cities_city_id'))
    op.drop_table('event_cities')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_events_starts_at'))
        batch_op.drop_index(batch_op.f('ix_events_area_id'))
        batch_op.drop_index(batch_op.f('ix_events_parent_id'))
    op.drop_table('events')
