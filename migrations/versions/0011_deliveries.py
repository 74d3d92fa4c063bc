"""core: the e-mail delivery queue (deliveries), for notices sent to many people at once

Issue 8's alerts go to the focal points of every member city: thousands of messages, sent in the
background, each recorded (sent, failed, retried) and never sent twice. One row per message and
person: ``key`` is unique (adding a delivery twice adds nothing); ``ix_deliveries_due`` is a
partial index on the pending rows only, in the order workers claim them, so it stays small however
many sent rows pile up; the other two serve the secretariat's counts by state and topic and its
filter by object. A new table only: nothing to copy, nothing rebuilt.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 11:05:06.675139

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("recipient = lower(recipient) AND recipient <> ''", name=op.f('ck_deliveries_recipient_lower')),
    sa.CheckConstraint("state <> 'sending' OR claimed_at IS NOT NULL", name=op.f('ck_deliveries_sending_claimed')),
    sa.CheckConstraint("state <> 'sent' OR sent_at IS NOT NULL", name=op.f('ck_deliveries_sent_has_time')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_deliveries_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('key', name=op.f('uq_deliveries_key'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['next_attempt_at', 'id'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
        batch_op.create_index('ix_deliveries_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_deliveries_state_topic', ['state', 'topic'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_state_topic')
        batch_op.drop_index('ix_deliveries_object')
        batch_op.drop_index('ix_deliveries_due', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    op.drop_table('deliveries')
