"""social: profiles (@handle, bio, avatar), follows, comments, notifications; feed indexes

Revision ID: 0021_social
Revises: 0004_studio

Drafts need no column: a video without ``published_at`` is a draft (private to its owner).
The display name lives in ``users.display_name`` (0001_core).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_social"
down_revision = "0004_studio"
branch_labels = ("social",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "social_profiles",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("handle", sa.String(40), nullable=False),
        sa.Column("handle_key", sa.String(40), nullable=False, unique=True),
        sa.Column("bio", sa.Text, nullable=False, server_default=""),
        sa.Column("avatar", sa.LargeBinary),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "social_follows",
        sa.Column("follower_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("followee_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_social_follows_followee_id", "social_follows", ["followee_id"])
    op.create_table(
        "social_comments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_social_comments_video_id", "social_comments", ["video_id", "id"])
    op.create_table(
        "social_notifications",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE")),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("read_at", sa.Integer),
    )
    op.create_index("ix_social_notifications_user_id", "social_notifications", ["user_id", "id"])
    op.create_index(
        "ix_social_notifications_unread", "social_notifications", ["user_id", "read_at"]
    )
    # Feeds: the For You and Following queries walk published videos by time, per owner, and
    # count likes as of a moment (a covering index).
    op.create_index("ix_videos_owner_published", "videos", ["owner_id", "published_at"])
    op.create_index("ix_studio_likes_video_created", "studio_likes", ["video_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_studio_likes_video_created", "studio_likes")
    op.drop_index("ix_videos_owner_published", "videos")
    op.drop_table("social_notifications")
    op.drop_table("social_comments")
    op.drop_table("social_follows")
    op.drop_table("social_profiles")
