"""city imports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:30:00

Written by hand: the secretariat's CSV imports of cities (cacnet.cities.imports.CityImport), with
the CHECK constraints that autogenerate does not see.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "city_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum("validating", "ready", "applying", "done", "cancelled", "failed", name="state",
                    native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.CheckConstraint("total_rows >= 0", name=op.f("ck_city_imports_total_rows_positive")),
        sa.CheckConstraint(
            "processed_rows >= 0 AND processed_rows <= total_rows",
            name=op.f("ck_city_imports_processed_rows_range"),
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_city_imports_created_by_id_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_imports")),
        sa.UniqueConstraint("uuid", name=op.f("uq_city_imports_uuid")),
    )
    with op.batch_alter_table("city_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_city_imports_created_by_id"), ["created_by_id"], unique=False)
        batch_op.create_index("ix_city_imports_created_at", ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("city_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_city_imports_created_at")
        batch_op.drop_index(batch_op.f("ix_city_imports_created_by_id"))
    op.drop_table("city_imports")
