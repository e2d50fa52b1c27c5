"""search across videos: indexes in the keyset order (video_id, start_ms, id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("timeline_ranges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_timeline_kind_name_video",
            ["kind", "name", "video_id", "start_ms", "id", "max_confidence", "end_ms"],
            unique=False,
        )
        batch_op.create_index(
            "ix_timeline_kind_video",
            ["kind", "video_id", "start_ms", "id", "max_confidence", "end_ms"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("timeline_ranges", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_kind_video")
        batch_op.drop_index("ix_timeline_kind_name_video")
