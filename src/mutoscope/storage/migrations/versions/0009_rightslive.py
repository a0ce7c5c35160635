"""rightslive: registry sources (starter/operator), per-entry switch, registry version

Revision ID: 0009_rightslive
Revises: 0002_rights
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_rightslive"
down_revision = "0002_rights"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "rights_entities",
        sa.Column("source", sa.String(16), nullable=False, server_default="operator"),
    )
    op.add_column(
        "rights_entities",
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.create_index("ix_rights_entities_source", "rights_entities", ["source"])
    op.create_table(
        "rights_registry_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
    )
    op.execute("INSERT INTO rights_registry_version (id, version, changed_at) VALUES (1, 1, 0)")
    op.create_table(
        "rights_starter_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("loaded_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rights_starter_state")
    op.drop_table("rights_registry_version")
    op.drop_index("ix_rights_entities_source", "rights_entities")
    op.drop_column("rights_entities", "enabled")
    op.drop_column("rights_entities", "source")
