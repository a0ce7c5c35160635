"""core: users, api keys, videos, jobs

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("last_used_at", sa.Integer),
        sa.Column("revoked_at", sa.Integer),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "videos",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("size", sa.String(16), nullable=False),
        sa.Column("seconds", sa.String(8), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("remixed_from_video_id", sa.String(64)),
        sa.Column("input_reference", sa.String(500)),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Integer),
        sa.Column("completed_at", sa.Integer),
        sa.Column("expires_at", sa.Integer),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
        sa.Column("published_at", sa.Integer),
        sa.Column("attributions", sa.JSON, nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.Column("duration", sa.Float),
        sa.Column("frame_count", sa.Integer),
    )
    op.create_index("ix_videos_owner_id", "videos", ["owner_id", "id"])
    op.create_index("ix_videos_status", "videos", ["status"])
    op.create_index("ix_videos_remixed_from_video_id", "videos", ["remixed_from_video_id"])
    op.create_index("ix_videos_published_at", "videos", ["published_at"])
    op.create_table(
        "jobs",
        sa.Column("video_id", sa.String(64), sa.ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_after", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_expires_at", sa.Float),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_jobs_claim", "jobs", ["state", "run_after"])


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("videos")
    op.drop_table("api_keys")
    op.drop_table("users")
