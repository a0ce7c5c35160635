"""vocab: a warning on a video when its model cannot draw (all of) the prompt

Revision ID: 0011_vocab
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_vocab"
down_revision = "0001_core"
branch_labels = ("vocab",)
depends_on = None


def upgrade() -> None:
    op.add_column("videos", sa.Column("warning", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("videos", "warning")
