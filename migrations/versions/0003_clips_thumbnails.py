"""clips: S3 copy, planning options (minimum length, opening credits); thumbnails

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thumbs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_thumbs_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thumbs")),
        sa.UniqueConstraint("video_id", "kind", "seq", name="uq_thumbs_item"),
    )
    with op.batch_alter_table("thumbs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thumbs_video_id"), ["video_id"], unique=False)

    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("s3_uri", sa.Text(), nullable=True))

    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clip_min_length_ms", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "clip_keep_opening_credits",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("clip_keep_opening_credits")
        batch_op.drop_column("clip_min_length_ms")

    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("s3_uri")

    with op.batch_alter_table("thumbs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thumbs_video_id"))

    op.drop_table("thumbs")
