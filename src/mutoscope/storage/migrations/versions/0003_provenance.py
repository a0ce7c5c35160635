"""provenance: watermark payloads

Revision ID: 0003_provenance
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_provenance"
down_revision = "0001_core"
branch_labels = ("provenance",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provenance_watermarks",
        sa.Column("payload", sa.String(16), primary_key=True),
        sa.Column("video_id", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_provenance_watermarks_video_id", "provenance_watermarks", ["video_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_provenance_watermarks_video_id", table_name="provenance_watermarks")
    op.drop_table("provenance_watermarks")
