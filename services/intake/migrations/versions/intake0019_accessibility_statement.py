"""accessibility_statement: the public site's accessibility statement (deklaracja dostępności), kept by an admin

Revision ID: intake0019
Revises: intake0018
"""
import sqlalchemy as sa
from alembic import op

revision = 'intake0019'
down_revision = 'intake0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accessibility_statement",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site_owner", sa.String(length=300), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("inaccessible", sa.Text(), nullable=False),
        sa.Column("exclusions", sa.Text(), nullable=False),
        sa.Column("prepared_on", sa.Date(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("assessment", sa.String(length=300), nullable=False),
        sa.Column("contact_person", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=50), nullable=False),
        sa.Column("buildings", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.String(length=254), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("accessibility_statement")
