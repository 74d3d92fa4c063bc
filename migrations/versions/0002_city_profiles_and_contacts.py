"""city profiles and contacts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:14:53

Reviewed by hand: new NOT NULL columns get server defaults for the rows that exist, search_text
is filled for them, and the CHECK constraints (which autogenerate does not see) are written out.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CITY_TEXT_COLUMNS = ("mayor_name", "mayor_title", "response_page", "description", "timezone")


def upgrade():
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column(
            "area",
            sa.Enum("health", "quarantine", "supplies", "transport", "communications", "other",
                    name="area", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column(
            "visibility",
            sa.Enum("public", "members", "secretariat", name="visibility", native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("phone = '' OR phone LIKE '+%'", name=op.f("ck_contacts_phone_e164")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_contacts_email_lowercase")),
        sa.ForeignKeyConstraint(["city_id"], ["cities.id"], name=op.f("fk_contacts_city_id_cities"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_city_position", ["city_id", "position"], unique=False)
        batch_op.create_index("uq_contacts_primary_city", ["city_id"], unique=True,
                              sqlite_where=sa.text("is_primary"), postgresql_where=sa.text("is_primary"))

    with op.batch_alter_table("cities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Numeric(8, 5, asdecimal=False), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Numeric(8, 5, asdecimal=False), nullable=True))
        for name in CITY_TEXT_COLUMNS:
            length = {"timezone": 64, "response_page": 500}.get(name, 200)
            column_type = sa.Text() if name == "description" else sa.String(length=length)
            batch_op.add_column(sa.Column(name, column_type, nullable=False, server_default=""))
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("logo_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.String(length=420), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cities_merged_into_id_cities"), "cities", ["merged_into_id"], ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_cities_name_en_id", ["name_en", "id"], unique=False)
        batch_op.create_index("ix_cities_search_text", ["search_text"], unique=False)
        batch_op.drop_constraint(op.f("ck_cities_population_positive"), type_="check")
        batch_op.create_check_constraint(
            "population_range", "population IS NULL OR (population >= 0 AND population <= 100000000)"
        )
        batch_op.create_check_constraint("latitude_range", "latitude IS NULL OR (latitude >= -90 AND latitude <= 90)")
        batch_op.create_check_constraint(
            "longitude_range", "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)"
        )
        batch_op.create_check_constraint("coordinates_paired", "(latitude IS NULL) = (longitude IS NULL)")

    # The models keep search_text; fill it for the cities that exist already.
    from cacnet.core.text import search_key

    conn = op.get_bind()
    cities = sa.table("cities", sa.column("id"), sa.column("name_en"), sa.column("name_local"),
                      sa.column("search_text"))
    for row in conn.execute(sa.select(cities.c.id, cities.c.name_en, cities.c.name_local)).all():
        conn.execute(
            cities.update().where(cities.c.id == row.id)
            .values(search_text=search_key(row.name_en, row.name_local)[:420])
        )


def downgrade():
    with op.batch_alter_table("cities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_cities_coordinates_paired"), type_="check")
        batch_op.drop_constraint(op.f("ck_cities_longitude_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_cities_latitude_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_cities_population_range"), type_="check")
        batch_op.create_check_constraint("population_positive", "population IS NULL OR population >= 0")
        batch_op.drop_index("ix_cities_search_text")
        batch_op.drop_index("ix_cities_name_en_id")
        batch_op.drop_constraint(batch_op.f("fk_cities_merged_into_id_cities"), type_="foreignkey")
        for name in ("merged_into_id", "search_text", "logo_sha256", "languages", *reversed(CITY_TEXT_COLUMNS),
                     "longitude", "latitude"):
            batch_op.drop_column(name)

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("uq_contacts_primary_city", sqlite_where=sa.text("is_primary"),
                            postgresql_where=sa.text("is_primary"))
        batch_op.drop_index("ix_contacts_city_position")
    op.drop_table("contacts")
