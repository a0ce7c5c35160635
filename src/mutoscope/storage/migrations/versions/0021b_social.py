"""social, feeds: count a video's published remixes from an index alone

Revision ID: 0021b_social
Revises: 0021_social
"""

from alembic import op

revision = "0021b_social"
down_revision = "0021_social"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_videos_remixed_published", "videos", ["remixed_from_video_id", "published_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_videos_remixed_published", "videos")
