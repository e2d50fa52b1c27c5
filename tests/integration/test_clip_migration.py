"""Migration 0007 on clips made before it (SQLite and PostgreSQL): the mode they record
was the one asked for, they are H.264 (copy: the source's codec), their videos keep
asking for H.264; and back down again."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from worker.db import alembic_config, create_db_engine, upgrade

pytestmark = pytest.mark.integration

NOW = "2026-12-01 00:00:00+00:00"


def _video(conn: Any, video_id: str, codec: str) -> None:
    conn.execute(
        text(
            "INSERT INTO videos (id, source, filename, duration_ms, fps_num, fps_den, cfr,"
            " frame_count, width, height, rotation, video_codec, start_pts_ms,"
            " requested_features, requested_clips, clip_mode, extra, created_at, updated_at)"
            " VALUES (:id, 'x', 'x.mp4', 1000, 25, 1, true, 25, 64, 36, 0, :codec, 0,"
            " '[]', '[\"shots\"]', 'smart', '{}', :now, :now)"
        ),
        {"id": video_id, "codec": codec, "now": NOW},
    )


def _clip(conn: Any, video_id: str, seq: int, mode: str) -> None:
    conn.execute(
        text(
            "INSERT INTO clips (video_id, kind, seq, mode, start_ms, end_ms, duration_ms,"
            " path, size_bytes, created_at)"
            " VALUES (:v, 'shot', :seq, :mode, 0, 1000, 1000, :path, 1, :now)"
        ),
        {"v": video_id, "seq": seq, "mode": mode, "path": f"/c/{video_id}-{mode}", "now": NOW},
    )


def _clips(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT * FROM clips ORDER BY video_id, seq, mode")).mappings()
        return [
            tuple(r.get(k) for k in ("video_id", "seq", "mode", "requested_mode", "codec", "note"))
            for r in found
        ]


def test_upgrade_and_downgrade_keep_earlier_clips(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine, "0006")
    with engine.begin() as conn:
        _video(conn, "h", "h264")
        _video(conn, "w", "vp9")
        _clip(conn, "h", 0, "smart")
        _clip(conn, "h", 0, "accurate")
        _clip(conn, "w", 0, "copy")
        _clip(conn, "w", 1, "accurate")
    upgrade(engine, "0007")
    assert _clips(engine) == [
        ("h", 0, "accurate", "accurate", "h264", None),
        ("h", 0, "smart", "smart", "h264", None),
        ("w", 0, "copy", "copy", "vp9", None),
        ("w", 1, "accurate", "accurate", "h264", None),
    ]
    with engine.begin() as conn:
        assert set(conn.scalars(text("SELECT clip_codec FROM videos"))) == {"h264"}
        # what 0007 allows: a smart request that fell back, ProRes clips
        conn.execute(text("UPDATE clips SET mode = 'accurate', note = 'n' WHERE mode = 'smart'"))
        conn.execute(
            text(
                "INSERT INTO clips (video_id, kind, seq, mode, requested_mode, codec, start_ms,"
                " end_ms, duration_ms, path, size_bytes, created_at) VALUES ('h', 'shot', 0,"
                " 'accurate', 'smart', 'prores', 0, 1000, 1000, '/c/p.mov', 1, :now)"
            ),
            {"now": NOW},
        )

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with engine.connect() as conn:
        got = conn.execute(text("SELECT video_id, seq, mode FROM clips ORDER BY 1, 2, 3"))
        assert [tuple(r) for r in got] == [
            ("h", 0, "accurate"),
            ("h", 0, "smart"),  # recorded as asked again
            ("w", 0, "copy"),
            ("w", 1, "accurate"),
        ]
    engine.dispose()
