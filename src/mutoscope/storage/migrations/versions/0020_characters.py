"""characters: consented likenesses (cameos), who may use them, and the videos that do

Revision ID: 0020_characters
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_characters"
down_revision = "0001_core"
branch_labels = ("characters",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "characters",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "owner_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("look", sa.JSON, nullable=False),
        sa.Column("frame_count", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("revoked_at", sa.Integer),
        sa.Column("deleted_at", sa.Integer),
    )
    op.create_index("ix_characters_owner_id", "characters", ["owner_id", "id"])
    op.create_table(
        "character_access",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "character_id",
            sa.String(64),
            sa.ForeignKey("characters.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("decided_at", sa.Integer),
        sa.UniqueConstraint("character_id", "user_id"),
    )
    op.create_index("ix_character_access_user", "character_access", ["user_id"])
    op.create_table(
        "video_characters",
        sa.Column(
            "video_id",
            sa.String(64),
            sa.ForeignKey("videos.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "character_id",
            sa.String(64),
            sa.ForeignKey("characters.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("character_owner_id", sa.String(64), nullable=False),
        sa.Column("mention", sa.String(120), nullable=False),
        sa.Column("removed_at", sa.Integer),
    )
    op.create_index("ix_video_characters_owner", "video_characters", ["character_owner_id"])
    op.create_index("ix_video_characters_character", "video_characters", ["character_id"])


def downgrade() -> None:
    op.drop_table("video_characters")
    op.drop_table("character_access")
    op.drop_table("characters")
