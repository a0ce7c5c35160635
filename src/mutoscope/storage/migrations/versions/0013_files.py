"""files: uploads through /v1/files (the OpenAI Files API), owned per user

Revision ID: 0013_files
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_files"
down_revision = "0001_core"
branch_labels = ("files",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_files_owner_id", "files", ["owner_id", "id"])


def downgrade() -> None:
    op.drop_table("files")
