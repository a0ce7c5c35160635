"""options: per-request generation options on videos, and when retention expired a video

Revision ID: 0025_options
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_options"
down_revision = "0001_core"
branch_labels = ("options",)
depends_on = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("options", sa.JSON, nullable=True))
    op.add_column("videos", sa.Column("expired_at", sa.Integer, nullable=True))
    # The retention sweep looks for completed videos whose expires_at has passed.
    op.create_index("ix_videos_expires_at", "videos", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_videos_expires_at", "videos")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("expired_at")
        batch.drop_column("options")
