"""studio: browser sessions and likes

Revision ID: 0004_studio
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_studio"
down_revision = "0001_core"
branch_labels = ("studio",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studio_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_studio_sessions_user_id", "studio_sessions", ["user_id"])
    op.create_table(
        "studio_likes",
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_studio_likes_video_id", "studio_likes", ["video_id"])


def downgrade() -> None:
    op.drop_table("studio_likes")
    op.drop_table("studio_sessions")
