"""rights: registry, consents, hash-chained audit log, frame-hash index

Revision ID: 0002_rights
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_rights"
down_revision = "0001_core"
branch_labels = ("rights",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rights_entities",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("owner_user_id", sa.String(64)),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("policy", sa.String(16), nullable=False),
        sa.Column("license", sa.JSON),
        sa.Column("references", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_rights_entities_owner", "rights_entities", ["owner"])
    op.create_index("ix_rights_entities_owner_user_id", "rights_entities", ["owner_user_id"])
    op.create_table(
        "rights_consents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "entity_id",
            sa.String(120),
            sa.ForeignKey("rights_entities.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("grantee_user_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.UniqueConstraint("entity_id", "grantee_user_id"),
    )
    op.create_index("ix_rights_consents_entity_id", "rights_consents", ["entity_id"])
    op.create_index("ix_rights_consents_grantee_user_id", "rights_consents", ["grantee_user_id"])
    op.create_table(
        "rights_audit",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("user_id", sa.String(64)),
        sa.Column("subject_id", sa.String(64)),
        sa.Column("check", sa.String(16), nullable=False),
        sa.Column("prompt_hash", sa.String(64)),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("entity_id", sa.String(120)),
        sa.Column("method", sa.String(32)),
        sa.Column("score", sa.Float),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_rights_audit_subject_id", "rights_audit", ["subject_id"])
    op.create_index("ix_rights_audit_entity_id", "rights_audit", ["entity_id"])
    op.create_table(
        "rights_frame_hashes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "entity_id",
            sa.String(120),
            sa.ForeignKey("rights_entities.id", ondelete="CASCADE"),
        ),
        sa.Column("video_id", sa.String(64)),
        sa.Column("path", sa.String(500)),
        sa.Column("frame_index", sa.Integer, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("quality", sa.Integer, nullable=False),
    )
    op.create_index("ix_rights_frame_hashes_entity_id", "rights_frame_hashes", ["entity_id"])
    op.create_index("ix_rights_frame_hashes_video_id", "rights_frame_hashes", ["video_id"])


def downgrade() -> None:
    op.drop_table("rights_frame_hashes")
    op.drop_table("rights_audit")
    op.drop_table("rights_consents")
    op.drop_table("rights_entities")
