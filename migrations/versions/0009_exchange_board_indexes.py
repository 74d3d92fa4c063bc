"""exchange: indexes for the board (live posts by urgency; the live count), planner statistics

Found by bench/resources.py at 100,000 posts: page 1 sorted every live post (94 ms -> 0.1 ms) and
the count read the whole table (79 -> 14 ms). The extended statistics tell PostgreSQL that
category and unit go together, so it estimates the matching candidates right.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 09:32:41.913882

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resource_posts', schema=None) as batch_op:
        batch_op.create_index('ix_resource_posts_live_expires_on', ['expires_on'], unique=False, postgresql_include=['hidden_at', 'city_id', 'kind'], postgresql_where=sa.text("state IN ('open', 'partly_met')"), sqlite_where=sa.text("state IN ('open', 'partly_met')"))
        batch_op.create_index('ix_resource_posts_live_urgency', ['urgency', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text("state IN ('open', 'partly_met')"), sqlite_where=sa.text("state IN ('open', 'partly_met')"))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE STATISTICS IF NOT EXISTS st_resource_posts_category_unit (dependencies) '
                   'ON category_id, unit FROM resource_posts')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS st_resource_posts_category_unit')
    with op.batch_alter_table('resource_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_posts_live_urgency', postgresql_where=sa.text("state IN ('open', 'partly_met')"), sqlite_where=sa.text("state IN ('open', 'partly_met')"))
        batch_op.drop_index('ix_resource_posts_live_expires_on', postgresql_include=['hidden_at', 'city_id', 'kind'], postgresql_where=sa.text("state IN ('open', 'partly_met')"), sqlite_where=sa.text("state IN ('open', 'partly_met')"))

