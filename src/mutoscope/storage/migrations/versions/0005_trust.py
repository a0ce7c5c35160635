"""trust: organisations, members, proposals, entity ownership by id, audit MAC, rate limits

Revision ID: 0005_trust
Revises: 0002_rights
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_trust"
down_revision = "0002_rights"
branch_labels = ("trust",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claim", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.Integer),
    )
    op.create_index("ix_organizations_status", "organizations", ["status"])
    op.create_table(
        "organization_members",
        sa.Column(
            "org_id",
            sa.String(64),
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id", sa.String(64), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_index("ix_organization_members_user_id", "organization_members", ["user_id"])
    op.create_table(
        "rights_proposals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("entity_id", sa.String(120), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("proposed_by", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.Integer),
    )
    op.create_index("ix_rights_proposals_entity_id", "rights_proposals", ["entity_id"])
    op.create_index("ix_rights_proposals_proposed_by", "rights_proposals", ["proposed_by"])
    op.create_index("ix_rights_proposals_status", "rights_proposals", ["status"])
    op.create_table(
        "trust_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_rate_limits_expires_at", "rate_limits", ["expires_at"])
    with op.batch_alter_table("rights_entities") as batch:
        batch.add_column(sa.Column("org_id", sa.String(64)))
        batch.add_column(sa.Column("subject_user_id", sa.String(64)))
        batch.create_index("ix_rights_entities_org_id", ["org_id"])
        batch.create_index("ix_rights_entities_subject_user_id", ["subject_user_id"])
    with op.batch_alter_table("rights_audit") as batch:
        batch.add_column(sa.Column("mac", sa.String(64)))
    # Keyless loopback mode used to run as an admin "local" user; it is a creator now.
    op.execute(
        sa.text("UPDATE users SET is_admin = :no WHERE name = 'local' AND password_hash IS NULL")
        .bindparams(no=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("rights_audit") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("rights_entities") as batch:
        batch.drop_index("ix_rights_entities_subject_user_id")
        batch.drop_index("ix_rights_entities_org_id")
        batch.drop_column("subject_user_id")
        batch.drop_column("org_id")
    op.drop_table("rate_limits")
    op.drop_table("trust_state")
    op.drop_table("rights_proposals")
    op.drop_table("organization_members")
    op.drop_table("organizations")
