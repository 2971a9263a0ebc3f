"""The first schema: saves and their hash-chained records.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saves",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("chain", sa.String(300), nullable=False),
        sa.Column("business_date", sa.String(10), nullable=True),
        sa.Column("saved_at", sa.String(40), nullable=False),
        sa.Column("n_records", sa.Integer, nullable=False),
        sa.Column("first_sequence", sa.Integer, nullable=False),
    )
    op.create_index("saves_kind_date", "saves", ["kind", "business_date"])
    op.create_table(
        "records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("save_id", sa.Integer, sa.ForeignKey("saves.id"), nullable=False),
        sa.Column("chain", sa.String(300), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("chain", "sequence", name="records_chain_sequence"),
    )
    op.create_index("records_save", "records", ["save_id"])


def downgrade() -> None:
    op.drop_table("records")
    op.drop_table("saves")
