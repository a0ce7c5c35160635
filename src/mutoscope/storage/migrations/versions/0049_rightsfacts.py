"""rightsfacts: what each registered entity is known for (works, roles, places, marks)

Revision ID: 0049_rightsfacts
Revises: 0009_rightslive
"""

import sqlalchemy as sa
from alembic import op

revision = "0049_rightsfacts"
down_revision = "0009_rightslive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "rights_entities",
        sa.Column("facts", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("rights_entities") as batch:
        batch.drop_column("facts")
