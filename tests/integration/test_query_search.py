"""Search across videos on SQLite and PostgreSQL: keyset pages, cursors, moderation per video;
the schema the migrations make is the models' (indexes included); the benchmark's catalogue."""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from benchmarks.query_data import Plan, label_names
from benchmarks.query_load import copy_without_indexes, fill
from models import AnalysisJob, Base, TimelineRange, Video
from models.detection import in_models
from tests.conftest import fresh_pg_schema
from tests.e2e_support import clean_env, one_error_line, vidx
from worker.context import AppContext
from worker.db import Database, create_db_engine
from worker.errors import NotFoundError
from worker.query import (
    InvalidCursorError,
    InvalidQueryError,
    QueryFilter,
    QueryRow,
    moderation_by_video,
    run_query,
    search,
)
from worker.search import query_statement, text_lexemes, text_words

pytestmark = pytest.mark.integration

VIDEOS = [f"{c}{i:031x}" for c, i in (("3", 7), ("a", 1), ("c", 99))]  # 32 chars, sorted
LABELS = ["Person", "Dog", "Car"]


@dataclass(frozen=True)
class Stored:
    id: int
    row: QueryRow


def _seed(ctx: AppContext, seed: int = 3) -> list[Stored]:
    """Three videos: shots, labels (many sharing a start time), moderation in two of them."""
    rng = random.Random(seed)
    stored: list[TimelineRange] = []
    with ctx.db.session() as s:
        for n, vid in enumerate(VIDEOS):
            s.add(Video(id=vid, source=f"/v/{n}.mp4", filename=f"{n}.mp4", duration_ms=60_000,
                        fps_num=25, fps_den=1, frame_count=1500, width=64, height=64))  # fmt: skip
            s.flush()
            job = AnalysisJob(video_id=vid, feature="labels", params_hash="0", engine="local",
                              client_token=f"t{n}")  # fmt: skip
            s.add(job)
            s.flush()
            rows = [("shot", "Shot", None, k * 10_000, (k + 1) * 10_000, 99.0) for k in range(6)]
            for _ in range(14):  # start times on a coarse grid: ties the id must break
                start = rng.choice([0, 1000, 5000, 20_000, 40_000])
                conf = rng.choice([55.0, 80.0, 90.0, 99.5])
                rows.append(("label", rng.choice(LABELS), None, start, start + 3000, conf))
            if n != 1:
                for k in range(3 + n):
                    rows.append(
                        ("moderation", "Violence", None, k * 7000, k * 7000 + 500, 60.0 + 10 * k)
                    )
                rows.append(("moderation", "Weapons", "Violence", 30_000, 31_000, 95.0))
            rng.shuffle(rows)  # ids in no particular time order
            for seq, (kind, name, parent, start, end, conf) in enumerate(rows):
                r = TimelineRange(video_id=vid, job_id=job.id, kind=kind, name=name, parent=parent,
                                  seq=seq, start_ms=start, end_ms=end, max_confidence=conf,
                                  detections=1, data={})  # fmt: skip
                s.add(r)
                stored.append(r)
        s.flush()
        out = [Stored(r.id, _as_row(r)) for r in stored]
    return sorted(out, key=lambda st: (st.row.video_id, st.row.start_ms, st.id))


def _as_row(r: TimelineRange) -> QueryRow:
    return QueryRow(r.video_id, r.kind, r.name, r.parent, r.start_ms, r.end_ms,
                    r.max_confidence, r.detections)  # fmt: skip


def _expected(stored: list[Stored], f: QueryFilter) -> list[QueryRow]:
    def keep(r: QueryRow) -> bool:
        return (
            (f.video_id is None or r.video_id == f.video_id)
            and (f.kind is None or r.kind == f.kind)
            and (f.name is None or r.name == f.name)
            and (f.min_confidence is None or (r.confidence or 0) >= f.min_confidence)
            and (f.from_ms is None or r.end_ms > f.from_ms)
            and (f.to_ms is None or r.start_ms < f.to_ms)
        )

    return [st.row for st in stored if keep(st.row)]


def _all_pages(ctx: AppContext, f: QueryFilter) -> Iterator[list[QueryRow]]:
    with ctx.db.session() as s:
        cursor: str | None = None
        while True:
            page = search(s, replace(f, after=cursor))
            assert len(page.items) <= f.limit
            yield page.items
            if page.next_cursor is None:
                return
            assert len(page.items) == f.limit  # only a full page can have a next one
            cursor = page.next_cursor
            assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)  # URL-safe as it is


FILTERS = [
    QueryFilter(),
    QueryFilter(kind="label", name="Person", min_confidence=80),
    QueryFilter(kind="label"),
    QueryFilter(kind="moderation", min_confidence=70),
    QueryFilter(video_id=VIDEOS[1], from_ms=4000, to_ms=21_000),
    QueryFilter(video_id=VIDEOS[2], kind="label", from_ms=1000),
    QueryFilter(kind="label", name="Dog", to_ms=5000),
]


def test_pages_hold_every_row_once_in_order(ctx: AppContext) -> None:
    stored = _seed(ctx)
    for f in FILTERS:
        expected = _expected(stored, f)
        assert expected, f  # every filter matches something
        for limit in (1, 3, len(expected), len(expected) + 1, 1000):
            pages = list(_all_pages(ctx, replace(f, limit=limit)))
            assert [r for p in pages for r in p] == expected, (f, limit)
            # no empty page after a full last one: the cursor is only given when rows follow
            assert len(pages) == max(1, -(-len(expected) // limit))
    with ctx.db.session() as s:  # run_query is the first page (the CLI's rows)
        f = QueryFilter(kind="label", limit=5)
        assert run_query(s, f) == _expected(stored, f)[:5]


def test_a_cursor_is_a_position_not_an_offset(ctx: AppContext) -> None:
    stored = _seed(ctx)
    f = QueryFilter(kind="label", name="Person", limit=4)
    with ctx.db.session() as s:
        first = search(s, f)
    # rows written meanwhile before the cursor's position (a video whose id sorts first)
    # neither shift nor repeat rows, as they would with an offset; a row after it shows up;
    # the page size may change between pages
    early_video = "0" * 32
    with ctx.db.session() as s:
        s.add(Video(id=early_video, source="/v/e.mp4", filename="e.mp4", duration_ms=60_000,
                    fps_num=25, fps_den=1, frame_count=1500, width=64, height=64))  # fmt: skip
        s.flush()
        for vid, start in ((early_video, 0), (early_video, 1), (VIDEOS[-1], 59_000)):
            job = AnalysisJob(video_id=vid, feature="labels", params_hash=str(start),
                              engine="local", client_token=f"late{start}")  # fmt: skip
            s.add(job)
            s.flush()
            s.add(TimelineRange(video_id=vid, job_id=job.id, kind="label", name="Person",
                                seq=99, start_ms=start, end_ms=start + 1, max_confidence=70.0,
                                detections=1, data={}))  # fmt: skip
    with ctx.db.session() as s:
        rest = search(s, replace(f, limit=1000, after=first.next_cursor)).items
    late = QueryRow(VIDEOS[-1], "label", "Person", None, 59_000, 59_001, 70.0, 1)
    assert first.items + rest == [*_expected(stored, f), late]  # the latest start of the last video


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_bad_cursors_and_filters_are_clear_errors(ctx: AppContext) -> None:
    _seed(ctx)
    f = QueryFilter(kind="label", limit=2)
    with ctx.db.session() as s:
        good = search(s, f).next_cursor
        assert good is not None
        bad = ["junk", "", "%%%", _b64(b"not json"), _b64(b'{"a": 1}'),
               _b64(json.dumps(["x", VIDEOS[0], True, 1]).encode()), good[:-3]]  # fmt: skip
        for cursor in bad:
            with pytest.raises(InvalidCursorError, match="invalid cursor"):
                search(s, replace(f, after=cursor))
        # a cursor of another query is refused, not silently applied to this one
        with pytest.raises(InvalidCursorError, match="other filters"):
            search(s, replace(f, name="Dog", after=good))
        for wrong, words in [
            (QueryFilter(kind="labels"), "unknown kind 'labels'"),
            (QueryFilter(limit=0), "limit must be at least 1"),
            (QueryFilter(min_confidence=101), "within 0-100"),
            (QueryFilter(from_ms=5000, to_ms=5000), "must be after"),
        ]:
            with pytest.raises(InvalidQueryError, match=words):
                search(s, wrong)
        with pytest.raises(NotFoundError, match="no video"):
            search(s, QueryFilter(video_id="f" * 32))
        with pytest.raises(InvalidCursorError, match="invalid cursor"):
            moderation_by_video(s, after="junk")


def test_moderation_hits_per_video(ctx: AppContext) -> None:
    stored = _seed(ctx)
    with ctx.db.session() as s:
        everything = moderation_by_video(s)
        violence = moderation_by_video(s, name="Violence", min_confidence=70)
        first = moderation_by_video(s, limit=1)
        second = moderation_by_video(s, limit=1, after=first.next_cursor)
        with pytest.raises(InvalidCursorError, match="other filters"):
            moderation_by_video(s, name="Weapons", after=first.next_cursor)
    mods = [st.row for st in stored if st.row.kind == "moderation"]
    assert [(v.video_id, v.hits) for v in everything.items] == [
        (VIDEOS[0], 4), (VIDEOS[2], 6)]  # fmt: skip
    assert everything.next_cursor is None
    assert [v.max_confidence for v in everything.items] == [
        max(r.confidence or 0 for r in mods if r.video_id == v) for v in (VIDEOS[0], VIDEOS[2])
    ]
    assert all(v.first_ms == 0 for v in everything.items)
    hits = {v: sum(1 for r in mods if r.video_id == v and r.name == "Violence"
                   and (r.confidence or 0) >= 70) for v in VIDEOS}  # fmt: skip
    assert [(v.video_id, v.hits) for v in violence.items] == [(v, n) for v, n in hits.items() if n]
    assert first.items + second.items == everything.items and second.next_cursor is None


def test_vidx_query_pages_with_cursor(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    # the command is thin over search (tested on both databases above): SQLite is enough here
    stored = _seed(sqlite_ctx)
    expected = _expected(stored, QueryFilter(kind="label", min_confidence=80))
    env = clean_env(database_url=sqlite_ctx.settings.database_url or "", data_dir=str(tmp_path))
    args = ["query", "--kind", "label", "--min-confidence", "80"]
    args += ["--limit", str(len(expected) // 2 + 1)]  # two pages
    rows, cursor = [], None
    for _ in range(3):
        res = vidx([*args, "--format", "json", *(["--cursor", cursor] if cursor else [])], env)
        assert res.returncode == 0, res.stderr
        rows += json.loads(res.stdout)
        found = re.search(r"^vidx: next page: --cursor (\S+)$", res.stderr, re.M)
        if found is None:
            break
        cursor = found[1]
    assert cursor is not None and [QueryRow(**r) for r in rows] == expected
    one_error_line(vidx([*args, "--cursor", "junk"], env), "invalid cursor 'junk'")
    one_error_line(vidx([*args[:3], "--cursor", cursor], env), "other filters")


def test_migrations_make_the_models_schema(ctx: AppContext) -> None:
    """Alembic is the only schema source: after upgrade nothing differs from the models."""
    with ctx.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": in_models})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    with ctx.db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = conn.scalars(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'timeline_ranges'")
            ).all()
        else:
            names = conn.scalars(
                text("SELECT name FROM pragma_index_list('timeline_ranges')")
            ).all()
    assert {"ix_timeline_kind_name_video", "ix_timeline_kind_video"} <= set(names)


def test_benchmark_catalogue_tiny(pg_ok: bool) -> None:
    """benchmarks/query.py's data at a tiny size: loads by COPY, has the promised shape, and
    search reads the same pages through the project's indexes as from the bare table."""
    plan = Plan(rows=6000, videos=30)
    with fresh_pg_schema(pg_ok, "qb") as url, fresh_pg_schema(pg_ok, "qp") as plain_url:
        times = fill(url, plan)
        copy_without_indexes(url.rsplit("%3D", 1)[1], plain_url)
        assert times.rows == 6000
        db, plain = Database(create_db_engine(url)), Database(create_db_engine(plain_url))
        try:
            with db.session() as s:
                kinds = dict(
                    s.execute(
                        select(TimelineRange.kind, func.count()).group_by(TimelineRange.kind)
                    ).all()
                )
                top = s.execute(
                    select(TimelineRange.name, func.count())
                    .where(TimelineRange.kind == "label")
                    .group_by(TimelineRange.name)
                    .order_by(func.count().desc())
                ).first()
                shots = s.execute(
                    select(TimelineRange.video_id, func.min(TimelineRange.start_ms),
                           func.max(TimelineRange.end_ms), func.sum(TimelineRange.end_ms
                           - TimelineRange.start_ms), Video.duration_ms)
                    .join(Video).where(TimelineRange.kind == "shot")
                    .group_by(TimelineRange.video_id, Video.duration_ms)
                ).all()  # fmt: skip
                mod_videos = len(moderation_by_video(s, limit=100).items)
            assert sum(kinds.values()) == 6000 and set(kinds) == {
                "shot", "cue", "label", "face", "moderation", "text"}  # fmt: skip
            assert kinds["label"] > kinds["shot"] > kinds["text"] > kinds["moderation"]
            assert 0.04 < kinds["text"] / 6000 < 0.12  # ~8 %
            assert top is not None and top[0] == label_names()[0][0]  # Zipf: rank 1 leads
            # shots partition each video: from 0 to its duration, no gap or overlap
            assert len(shots) == 30 and all(
                lo == 0 and hi == dur == total for _, lo, hi, total, dur in shots)  # fmt: skip
            assert 0 < mod_videos < 30  # moderation is clustered in some videos
            longest = max(shots, key=lambda v: v[4])[0]
            for f in [
                QueryFilter(kind="label", name="Person", min_confidence=90, limit=50),
                QueryFilter(kind="face", limit=200),
                QueryFilter(video_id=longest, from_ms=60_000, to_ms=360_000, limit=30),
            ]:
                assert _pages(db, f) == _pages(plain, f) and len(_pages(db, f)) > 1
            _check_text_catalogue(db, plain, url)
        finally:
            db.engine.dispose()
            plain.engine.dispose()


def _check_text_catalogue(db: Database, plain: Database, url: str) -> None:
    """The catalogue's text lines: realistic shape, the text indexes built by the load (the
    GIN index in the indexed schema only, timeline_text_words filled by the triggers), and
    text search reads the lines that hold every word, page after page, on both schemas."""
    with db.session() as s:
        lines = s.execute(
            select(TimelineRange.video_id, TimelineRange.start_ms, TimelineRange.id,
                   TimelineRange.name, TimelineRange.end_ms, TimelineRange.max_confidence,
                   Video.duration_ms)
            .join(Video).where(TimelineRange.kind == "text").order_by(TimelineRange.id)
        ).all()  # fmt: skip
        postings, lexemes = s.execute(
            text(
                "SELECT (SELECT count(*) FROM timeline_text_words), sum(cardinality("
                "tsvector_to_array(to_tsvector('simple', name)))) FROM timeline_ranges"
                " WHERE kind = 'text'"
            )
        ).one()
    words = {(v, st, i): {w.lower() for w in re.findall(r"\w+", n)} for v, st, i, n, *_ in lines}
    assert all(1 <= len(re.findall(r"\w+", n)) <= 8 and len(n) <= 256 for *_, n, _, _, _ in lines)
    assert all(0 <= st < e <= dur and 80 <= c <= 100 for _, st, _, _, e, c, dur in lines)
    assert sum(c >= 90 for *_, c, _ in lines) > 0.9 * len(lines)  # mostly 90-100
    assert len({n for *_, n, _, _, _ in lines}) < len(lines)  # signs and names come back
    assert postings == lexemes > len(lines)
    for schema_url, has_gin in ((url, True), (plain.engine.url.render_as_string(False), False)):
        schema = schema_url.rsplit("%3D", 1)[1]
        with db.engine.connect() as conn:
            gin = conn.execute(
                text("SELECT count(*) FROM pg_indexes WHERE schemaname = :s AND indexname = :i"),
                {"s": schema, "i": "ix_timeline_text_words"},
            ).scalar_one()
        assert gin == has_gin
    counts: dict[str, int] = {}
    for found in words.values():
        for w in found:
            counts[w] = counts.get(w, 0) + 1
    common = max(counts, key=lambda w: counts[w])

    def lines_with(ws: list[str], video: str | None = None) -> int:
        return sum(set(ws) <= found and video in (None, k[0]) for k, found in words.items())

    # two words of one line that 3 or more lines hold; a word of a video on 2 of its lines
    pairs = sorted(
        (k, a, b) for k, found in words.items() for a in found for b in found if a < b
    )  # fmt: skip
    line, first, second = next(p for p in pairs if lines_with([p[1], p[2]]) >= 3)
    two = f"{first} {second}"
    one = next(w for w in sorted(words[line]) if lines_with([w], line[0]) >= 2)
    for f in [
        QueryFilter(kind="text", name=common.upper(), limit=max(2, counts[common] // 3)),
        QueryFilter(kind="text", name=two, limit=2),
        QueryFilter(video_id=line[0], kind="text", name=one, limit=1),
    ]:
        want = text_words(f.name or "")
        expected = sorted(
            k for k, ws in words.items()
            if all(w.lower() in ws for w in want) and f.video_id in (None, k[0])
        )  # fmt: skip
        got = _pages(db, f)
        assert got == _pages(plain, f) and len(got) > 1
        assert [(r.video_id, r.start_ms) for page in got for r in page] == [
            (v, st) for v, st, _ in expected
        ]
        with db.session() as s:  # the walk of one word's rows, whatever search picked
            lexemes = [w for w, _ in text_lexemes(s, f.name or "")]
            walk = query_statement(replace(f, limit=50), "postgresql", lexemes)
            walked = [(r.video_id, r.start_ms, r.id) for r in s.execute(walk)]
        assert "timeline_text_words" in str(walk) and walked == expected[:51]


def _pages(db: Database, f: QueryFilter) -> list[list[QueryRow]]:
    out, cursor = [], None
    with db.session() as s:
        while True:
            page = search(s, replace(f, after=cursor))
            out.append(page.items)
            if (cursor := page.next_cursor) is None:
                return out
