"""Text results stored and searched, on SQLite and PostgreSQL: two GetTextDetection pages
imported, their LINE runs as the timeline's text, and `kind=text` search by words (any case,
all of them, operators taken literally) through the query, the CLI's filter and the API;
deleting the video leaves the text indexes consistent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tests.conftest import context_on
from tests.text_support import frame_items, text_page
from worker.api import create_app
from worker.context import AppContext
from worker.deletion import delete_video
from worker.engines.port import Feature
from worker.pipeline.importer import import_pages
from worker.query import InvalidQueryError, QueryFilter, query_statement, run_query, timeline
from worker.search import search, statement_for, text_lexemes

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]

# a sign seen for 1.5 s, lost for 3 s, seen again; a caption at 6 s; page 2 holds 8-9 s
PAGE_1 = [
    *frame_items(0, ["NO PARKING", "Mon-Fri 8am"]),
    *frame_items(500, ["NO PARKING"]),
    *frame_items(1000, ["NO PARKING"]),
    *frame_items(4500, ["NO PARKING"]),
    *frame_items(6000, ['Say "hello" OR NEAR*']),
]
PAGE_2 = [*frame_items(8000, ["Parking lot"]), *frame_items(9000, ["Parking lot"])]


@dataclass
class Stored:
    ctx: AppContext
    video_id: str
    client: TestClient


def _write(tmp: Path, name: str, page: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(json.dumps(page))
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_ok: bool
) -> Iterator[Stored]:
    tmp = tmp_path_factory.mktemp("text")
    with ExitStack() as stack:
        ctx = stack.enter_context(context_on(request.param, tmp, pg_ok, "textsearch"))
        pages = [
            _write(tmp, "p1.json", text_page(PAGE_1, next_token="t2")),
            _write(tmp, "p2.json", text_page(PAGE_2)),
        ]
        video_id = import_pages(ctx, Feature.TEXT, pages).video_id
        client = stack.enter_context(TestClient(create_app(ctx)))
        yield Stored(ctx, video_id, client)


def _names(stored: Stored, words: str) -> list[tuple[str, int, int]]:
    with stored.ctx.db.session() as s:
        rows = run_query(s, QueryFilter(video_id=stored.video_id, kind="text", name=words))
    return [(r.name, r.start_ms, r.end_ms) for r in rows]


def test_lines_become_ranges_and_words_stay_detections(stored: Stored) -> None:
    with stored.ctx.db.session() as s:
        tl = timeline(s, stored.video_id)
        kinds = dict(
            s.execute(
                text(
                    "SELECT data, COUNT(*) FROM (SELECT CASE WHEN parent IS NULL THEN 'LINE'"
                    " ELSE 'WORD' END AS data FROM detections WHERE video_id = :v"
                    " AND kind = 'text') AS t GROUP BY data"
                ),
                {"v": stored.video_id},
            ).all()
        )
    assert kinds == {"LINE": 8, "WORD": 18}
    assert tl.features["text"].model_version == "3.0"
    got = [(t.name, t.start_ms, t.end_ms, t.detections, t.type) for t in tl.text]
    frame = 40  # 25 fps: a single detection lasts one frame
    assert sorted(got, key=lambda g: (g[1], g[0])) == [
        ("Mon-Fri 8am", 0, frame, 1, "LINE"),
        ("NO PARKING", 0, 1000 + frame, 3, "LINE"),
        ("NO PARKING", 4500, 4500 + frame, 1, "LINE"),  # 3.5 s apart: a second range
        ('Say "hello" OR NEAR*', 6000, 6000 + frame, 1, "LINE"),
        ("Parking lot", 8000, 9000 + frame, 2, "LINE"),
    ]
    assert all(t.max_confidence == 97.5 for t in tl.text)


def test_words_match_in_any_case_and_all_must_be_there(stored: Stored) -> None:
    assert [n for n, *_ in _names(stored, "parking")] == [
        "NO PARKING",
        "NO PARKING",
        "Parking lot",
    ]
    assert [n for n, *_ in _names(stored, "PARKING lot")] == ["Parking lot"]
    assert _names(stored, "no parking") == [("NO PARKING", 0, 1040), ("NO PARKING", 4500, 4540)]
    assert _names(stored, "parking meter") == []
    assert _names(stored, "park") == []  # words, not parts of words
    assert [n for n, *_ in _names(stored, "  mon-fri! ")] == ["Mon-Fri 8am"]


def test_search_operators_are_taken_as_words(stored: Stored) -> None:
    assert [n for n, *_ in _names(stored, '"hello" OR near*')] == ['Say "hello" OR NEAR*']
    assert _names(stored, "hello AND goodbye") == []
    with pytest.raises(InvalidQueryError, match="no word"):
        _names(stored, '" * -')


def test_text_kind_only_searches_text(stored: Stored) -> None:
    with stored.ctx.db.session() as s:
        exact = run_query(s, QueryFilter(video_id=stored.video_id, name="NO PARKING"))
        other = run_query(s, QueryFilter(video_id=stored.video_id, kind="label", name="parking"))
    assert [r.kind for r in exact] == ["text", "text"]  # no kind: the exact name, any kind
    assert other == []


def test_the_api_searches_text_with_q(stored: Stored) -> None:
    res = stored.client.get("/detections", params={"q": "Parking Lot"})
    assert res.status_code == 200, res.text
    assert [(r["kind"], r["name"]) for r in res.json()["items"]] == [("text", "Parking lot")]
    same = stored.client.get("/detections", params={"kind": "text", "name": "parking lot"})
    assert same.json()["items"] == res.json()["items"]
    clash = stored.client.get("/detections", params={"q": "parking", "kind": "label"})
    assert clash.status_code == 422 and "q='parking'" in clash.json()["detail"]
    empty = stored.client.get("/detections", params={"q": "?!"})
    assert empty.status_code == 422 and "no word" in empty.json()["detail"]
    doc = stored.client.get(f"/videos/{stored.video_id}/timeline").json()
    assert [t["name"] for t in doc["text"]][:1] and doc["text"][0]["type"] == "LINE"


def test_postgresql_search_is_the_text_index_expression(stored: Stored) -> None:
    # the plan on a few rows says little (benchmarks/query.py shows it on 10 million): the
    # query must repeat the index's expression and predicate for the planner to use it
    with stored.ctx.db.session() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's index (SQLite's FTS5 table is checked by the others)")
        indexdef = s.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_timeline_text_words'"
                " AND schemaname = current_schema()"  # benchmarks/query.py --keep has its own
            )
        ).scalar_one()
    assert "USING gin (to_tsvector('simple'::regconfig, (name)::text))" in indexdef
    assert "WHERE ((kind)::text = 'text'::text)" in indexdef
    sql = str(
        query_statement(QueryFilter(kind="text", name="parking"), "postgresql").compile(
            dialect=postgresql.dialect()
        )
    )
    assert "to_tsvector('simple', timeline_ranges.name) @@ plainto_tsquery('simple'," in sql
    assert "timeline_ranges.kind = %(kind_1)s" in sql


def test_delete_takes_the_text_out_of_the_index(
    tmp_path: Path, stored: Stored, pg_ok: bool
) -> None:
    # a second video with the same text, deleted: the first one's text is still found,
    # and SQLite's FTS5 index still agrees with its table
    page = _write(tmp_path, "again.json", text_page(PAGE_2))
    other = import_pages(stored.ctx, Feature.TEXT, [page]).video_id
    with stored.ctx.db.session() as s:
        both = run_query(s, QueryFilter(kind="text", name="lot"))
    assert {r.video_id for r in both} == {stored.video_id, other}
    delete_video(stored.ctx, other)
    with stored.ctx.db.session() as s:
        left = run_query(s, QueryFilter(kind="text", name="lot"))
        if s.get_bind().dialect.name == "sqlite":
            s.execute(text("INSERT INTO timeline_text(timeline_text) VALUES ('integrity-check')"))
            indexed = s.execute(text("SELECT COUNT(*) FROM timeline_text")).scalar_one()
            rows = s.execute(
                text("SELECT COUNT(*) FROM timeline_ranges WHERE kind = 'text'")
            ).scalar_one()
            assert indexed == rows
    assert {r.video_id for r in left} == {stored.video_id}


def test_postgresql_words_table_follows_the_ranges(stored: Stored) -> None:
    # migration 0009: one row per (word, text range) in page order, kept by triggers; search
    # walks it for a word, and for words that share few lines it keeps the GIN form
    engine = stored.ctx.db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("timeline_text_words is PostgreSQL's (SQLite searches its FTS5 table)")
    postings = (
        "SELECT w.word, w.start_ms, t.name FROM timeline_text_words w"
        " JOIN timeline_ranges t ON t.id = w.range_id AND t.video_id = w.video_id"
        " AND t.start_ms = w.start_ms WHERE w.video_id = :v ORDER BY 1, 2, 3"
    )
    with engine.connect() as conn, conn.begin() as trans:
        words = conn.execute(text(postings), {"v": stored.video_id}).all()
        assert [w for w in words if w[2] == "Parking lot"] == [
            ("lot", 8000, "Parking lot"),
            ("parking", 8000, "Parking lot"),
        ]
        assert {w for w, _, _ in words} == {
            "no", "parking", "mon-fri", "mon", "fri", "8am", "say", "hello", "or", "near",
            "lot"}  # fmt: skip
        conn.execute(
            text(
                "UPDATE timeline_ranges SET name = 'Car park', start_ms = start_ms + 1"
                " WHERE video_id = :v AND name = 'Parking lot'"
            ),
            {"v": stored.video_id},
        )
        moved = conn.execute(text(postings), {"v": stored.video_id}).all()
        assert [w for w in moved if w[2] == "Car park"] == [
            ("car", 8001, "Car park"), ("park", 8001, "Car park")]  # fmt: skip
        assert "lot" not in {w for w, _, _ in moved}
        session = Session(bind=conn)
        one, again = statement_for(session, QueryFilter(kind="text", name="PARK"))
        assert "timeline_text_words" in str(one.compile(dialect=postgresql.dialect()))
        found = session.execute(one).all()
        assert [(r.name, r.start_ms) for r in found] == [("Car park", 8001)] and again is None
        # several words: the rarest word's rows walked (at most WALK_ROWS: these are fewer,
        # so no second statement), the others looked up by key; the same rows as the GIN form
        both = QueryFilter(kind="text", name="car park")
        walk, again = statement_for(session, both)
        assert again is None and text_lexemes(session, "car park") == [("car", 1), ("park", 1)]
        assert "timeline_text_words" in str(walk) and "LIMIT" in str(walk).split("JOIN LATERAL")[0]
        gin = query_statement(both, "postgresql")
        assert "timeline_text_words" not in str(gin)
        for stmt in (walk, gin):
            assert [r.name for r in session.execute(stmt)] == ["Car park"]
        page = search(session, QueryFilter(kind="text", name="car park"))
        assert [r.name for r in page.items] == ["Car park"]
        conn.execute(
            text("DELETE FROM timeline_ranges WHERE video_id = :v"), {"v": stored.video_id}
        )
        assert conn.execute(text(postings), {"v": stored.video_id}).all() == []
        trans.rollback()


def test_sqlite_walk_and_lookup_read_the_same_rows(stored: Stored) -> None:
    # SQLite: across videos, words in 2,000 lines or more walk the text rows in page order
    # (statement_for decides by a capped count); both forms must read the same rows
    with stored.ctx.db.session() as s:
        if s.get_bind().dialect.name != "sqlite":
            pytest.skip("the walk over FTS5 matches is SQLite's")
        for words in ("parking", "NO parking", "lot", "hello near", "absent"):
            f = QueryFilter(kind="text", name=words, limit=2)
            walked, looked_up = (
                [tuple(r) for r in s.execute(query_statement(f, "sqlite", walk=walk))]
                for walk in (True, False)
            )
            assert walked == looked_up and "id + " in str(query_statement(f, "sqlite", walk=True))
        assert [len(x) for x in (walked, looked_up)] == [0, 0]
        rows = [tuple(r) for r in s.execute(query_statement(replace(f, name="parking"), "sqlite"))]
    assert [r[2] for r in rows] == ["NO PARKING", "NO PARKING", "Parking lot"]
