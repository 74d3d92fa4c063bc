"""issued documents: sealed declarations and certificates, by the hash of their contents

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 07:51:43.883375

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('declaration', 'certificate', name='kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('queued', 'rendering', 'issued', 'failed', name='state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('endorsement_id', sa.Integer(), nullable=True),
    sa.Column('sort_order', sa.String(length=8), nullable=False),
    sa.Column('contents_sha256', sa.String(length=64), nullable=False),
    sa.Column('signatory_count', sa.Integer(), nullable=False),
    sa.Column('signatories', sa.JSON(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('pdf_size', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('render_seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'certificate' OR endorsement_id IS NOT NULL", name=op.f('ck_issued_documents_certificate_has_endorsement')),
    sa.CheckConstraint("sort_order IN ('date', 'city')", name=op.f('ck_issued_documents_sort_order_known')),
    sa.CheckConstraint("state <> 'issued' OR (pdf_sha256 IS NOT NULL AND issued_at IS NOT NULL)", name=op.f('ck_issued_documents_issued_has_file')),
    sa.ForeignKeyConstraint(['endorsement_id'], ['endorsements.id'], name=op.f('fk_issued_documents_endorsement_id_endorsements'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['version_id'], ['statement_versions.id'], name=op.f('fk_issued_documents_version_id_statement_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_documents')),
    sa.UniqueConstraint('document_id', name=op.f('uq_issued_documents_document_id')),
    sa.UniqueConstraint('pdf_sha256', name=op.f('uq_issued_documents_pdf_sha256'))
    )
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_documents_endorsement_id'), ['endorsement_id'], unique=False)
        batch_op.create_index('ix_issued_documents_kind_state_issued_at', ['kind', 'state', 'issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_documents_version_id'), ['version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_documents_version_id'))
        batch_op.drop_index('ix_issued_documents_kind_state_issued_at')
        batch_op.drop_index(batch_op.f('ix_issued_documents_endorsement_id'))

    op.drop_table('issued_documents')
