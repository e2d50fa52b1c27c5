"""clip outcome: the mode that made a clip (a smart cut that fell back is accurate) apart
from the mode asked for, its codec and a note; the codec a video's clips are asked in

The unique key moves from (video, kind, seq, mode) to (video, kind, seq, requested_mode,
codec): a request reuses the clips made for the same request, whatever mode made them,
and a clip in one codec never answers a request for another.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_mode", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("codec", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    # clips made before: the mode recorded was the one asked for; accurate and smart
    # wrote H.264, copy kept the source's codec
    op.execute("UPDATE clips SET requested_mode = mode")
    op.execute(
        "UPDATE clips SET codec = (SELECT videos.video_codec FROM videos"
        " WHERE videos.id = clips.video_id) WHERE mode = 'copy'"
    )
    op.execute("UPDATE clips SET codec = 'h264' WHERE codec IS NULL")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.alter_column("requested_mode", existing_type=sa.String(16), nullable=False)
        batch_op.alter_column("codec", existing_type=sa.String(16), nullable=False)
        batch_op.drop_constraint("uq_clips_item", type_="unique")
        batch_op.create_unique_constraint(
            "uq_clips_item", ["video_id", "kind", "seq", "requested_mode", "codec"]
        )
    with op.batch_alter_table("videos", schema=None) as batch_op:
        # videos registered before asked for H.264 clips (all there was); new ones: auto
        batch_op.add_column(
            sa.Column("clip_codec", sa.String(length=16), nullable=False, server_default="h264")
        )


def downgrade() -> None:
    # not a batch (a table copy on SQLite): dropping and re-creating `videos` there would
    # cascade to every row that refers to it; SQLite >= 3.35 drops a column in place
    op.drop_column("videos", "clip_codec")
    # before, a clip's mode was the one asked for, and there were no ProRes clips
    op.execute("DELETE FROM clips WHERE codec = 'prores'")
    op.execute("UPDATE clips SET mode = requested_mode")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_constraint("uq_clips_item", type_="unique")
        batch_op.create_unique_constraint("uq_clips_item", ["video_id", "kind", "seq", "mode"])
        batch_op.drop_column("note")
        batch_op.drop_column("codec")
        batch_op.drop_column("requested_mode")
