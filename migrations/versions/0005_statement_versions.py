"""statement versions, frozen once published; version 1 seeded

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 06:10:00

A trigger refuses any UPDATE of a published version, on PostgreSQL and SQLite alike, so what
cities endorsed can never change under them. (A later SQLite batch migration of this table
recreates it: such a migration must create the trigger again.)
"""

import hashlib
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FROZEN_MESSAGE = "published statement versions cannot be changed"


def upgrade():
    op.create_table(
        "statement_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("title_ko", sa.String(length=300), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("body_ko", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_statement_versions_number_positive")),
        sa.CheckConstraint(
            "(published_at IS NULL) = (text_sha256 IS NULL)",
            name=op.f("ck_statement_versions_published_has_hash"),
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_statement_versions_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_statement_versions_number")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION statement_version_frozen() RETURNS trigger AS $$
            BEGIN
                IF OLD.published_at IS NOT NULL THEN
                    RAISE EXCEPTION '{FROZEN_MESSAGE}' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER trg_statement_versions_frozen BEFORE UPDATE ON statement_versions
            FOR EACH ROW EXECUTE FUNCTION statement_version_frozen()
        """)
    else:
        op.execute(f"""
            CREATE TRIGGER trg_statement_versions_frozen BEFORE UPDATE ON statement_versions
            WHEN OLD.published_at IS NOT NULL
            BEGIN SELECT RAISE(ABORT, '{FROZEN_MESSAGE}'); END
        """)

    # Version 1: the five commitments, in English and Korean.
    from cacnet.statement import text
    from cacnet.statement.models import canonical_text

    published = datetime.fromisoformat(text.PUBLISHED)
    when = sa.DateTime(timezone=True)
    versions = sa.table(
        "statement_versions",
        *(sa.column(c) for c in ("number", "title_en", "title_ko", "body_en", "body_ko", "note",
                                 "text_sha256")),
        sa.column("published_at", when), sa.column("created_at", when), sa.column("updated_at", when),
    )  # fmt: skip
    digest = hashlib.sha256(
        canonical_text(text.TITLE_EN, text.BODY_EN, text.TITLE_KO, text.BODY_KO)
    ).hexdigest()
    op.bulk_insert(versions, [{
        "number": 1, "title_en": text.TITLE_EN, "title_ko": text.TITLE_KO, "body_en": text.BODY_EN,
        "body_ko": text.BODY_KO, "note": text.NOTE, "published_at": published,
        "text_sha256": digest, "created_at": published, "updated_at": published,
    }])  # fmt: skip


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER trg_statement_versions_frozen ON statement_versions")
        op.execute("DROP FUNCTION statement_version_frozen()")
    op.drop_table("statement_versions")  # SQLite drops the table's triggers with it
