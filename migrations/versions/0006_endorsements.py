"""endorsements: one active endorsement per city and version (partial unique index)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 06:12:43.865484

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('endorsements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('city_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('signer_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('submitted', 'verified', 'returned', 'withdrawn', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('signatory_name', sa.String(length=200), nullable=False),
    sa.Column('signatory_title', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('signature_sha256', sa.String(length=64), nullable=False),
    sa.Column('signature_kind', sa.String(length=8), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('record_sha256', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("signature_kind IN ('drawn', 'typed')", name=op.f('ck_endorsements_signature_kind_known')),
    sa.CheckConstraint("state NOT IN ('returned', 'withdrawn') OR reason <> ''", name=op.f('ck_endorsements_reason_given')),
    sa.ForeignKeyConstraint(['city_id'], ['cities.id'], name=op.f('fk_endorsements_city_id_cities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_endorsements_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_endorsements_signer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['statement_versions.id'], name=op.f('fk_endorsements_version_id_statement_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsements')),
    sa.UniqueConstraint('uuid', name=op.f('uq_endorsements_uuid'))
    )
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsements_city_id'), ['city_id'], unique=False)
        batch_op.create_index('ix_endorsements_version_state', ['version_id', 'state'], unique=False)
        batch_op.create_index('uq_endorsements_active_city_version', ['city_id', 'version_id'], unique=True, sqlite_where=sa.text("state IN ('submitted', 'verified')"), postgresql_where=sa.text("state IN ('submitted', 'verified')"))




def downgrade():

    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.drop_index('uq_endorsements_active_city_version', sqlite_where=sa.text("state IN ('submitted', 'verified')"), postgresql_where=sa.text("state IN ('submitted', 'verified')"))
        batch_op.drop_index('ix_endorsements_version_state')
        batch_op.drop_index(batch_op.f('ix_endorsements_city_id'))

    op.drop_table('endorsements')

