"""comment groups: duplicate and campaign comments, with their fingerprints and LSH buckets

Revision ID: review0004
Revises: review_identity
"""
import sqlalchemy as sa
from alembic import op


revision = 'review0004'
down_revision = 'review_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comment_groups",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("consultation_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("curated", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_comment_groups_consultation_id", "comment_groups", ["consultation_id"])
    op.create_table(
        "group_fingerprints",
        sa.Column("comment_id", sa.String(36), primary_key=True),
        sa.Column("consultation_id", sa.String(36), nullable=False),
        sa.Column("exact_key", sa.String(32), nullable=False),
    )
    op.create_index("ix_group_fingerprints_exact", "group_fingerprints", ["consultation_id", "exact_key"])
    op.create_table(
        "group_buckets",
        sa.Column("consultation_id", sa.String(36), primary_key=True),
        sa.Column("bucket", sa.BigInteger(), primary_key=True),
        sa.Column("comment_id", sa.String(36), primary_key=True),
    )
    with op.batch_alter_table("comments") as batch:
        batch.add_column(sa.Column("group_id", sa.String(36), nullable=True))
        batch.create_index("ix_comments_group_id", ["group_id"])


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_group_id")
        batch.drop_column("group_id")
    op.drop_table("group_buckets")
    op.drop_index("ix_group_fingerprints_exact", table_name="group_fingerprints")
    op.drop_table("group_fingerprints")
    op.drop_index("ix_comment_groups_consultation_id", table_name="comment_groups")
    op.drop_table("comment_groups")
