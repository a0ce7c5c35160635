"""edits: edits and extensions of any video (an uploaded source, the extension's own length)

Revision ID: 0024_edits
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_edits"
down_revision = "0001_core"
branch_labels = ("edits",)
depends_on = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("source_video", sa.String(500), nullable=True))
    op.add_column("videos", sa.Column("segment_seconds", sa.String(8), nullable=True))
    op.add_column("videos", sa.Column("strength", sa.Float, nullable=True))


def downgrade() -> None:
    op.drop_column("videos", "strength")
    op.drop_column("videos", "segment_seconds")
    op.drop_column("videos", "source_video")
