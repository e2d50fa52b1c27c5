"""Search across videos: timeline ranges by video, kind, name, confidence and time window,
a page at a time with keyset cursors (re-exported by worker.query for the CLI and the API).

Every query shape is ordered by (video_id, start_ms, id) and the next page starts strictly
after the last row's key, so a page costs the same at any depth and rows written meanwhile
never shift or repeat rows. The indexes in models/detection.py let PostgreSQL walk that order
and stop after `limit` rows: (kind, name, video_id, start_ms, id, max_confidence) for a label
over a threshold across videos, (kind, video_id, ...) for one kind across videos; and
(kind, name, max_confidence) lets the planner take the few rows over a rare threshold and sort
them instead (benchmarks/query.py measures both). Text by words: on PostgreSQL the page walks
the rarest word's rows of timeline_text_words (migration 0009) in page order, the GIN index
reading the lines when several words share few; on SQLite the FTS5 table gives the matching
ids, looked up in a walk of the text rows when the words are common or the search is in one
video.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FromClause
from sqlalchemy.types import ARRAY, Text

from models import TimelineRange, Video
from models.detection import TEXT_SEARCH_TABLE, TEXT_WORDS_TABLE
from worker.errors import VideoNotFoundError, VidxError
from worker.read_model import Page

QUERY_KINDS = ("label", "moderation", "face", "text", "shot", "cue")
_WORD = re.compile(r"\w+")  # a word as both text indexes split them (letters, digits, _)
_T = TimelineRange


class InvalidQueryError(VidxError):
    """A search whose filter cannot be run (unknown kind, bad limit or window)."""


class InvalidCursorError(InvalidQueryError):
    """A cursor that is not one this query returned (malformed, or from other filters)."""


@dataclass(frozen=True)
class QueryFilter:
    video_id: str | None = None
    kind: str | None = None
    name: str | None = None
    min_confidence: float | None = None
    from_ms: int | None = None
    to_ms: int | None = None
    limit: int = 1000
    after: str | None = None  # next_cursor of the previous page


@dataclass(frozen=True)
class QueryRow:
    video_id: str
    kind: str
    name: str
    parent: str | None
    start_ms: int
    end_ms: int
    confidence: float | None
    detections: int


# a QueryRow's fields, in its order (the page's SELECT adds the id, for the cursor)
_ROW_COLUMNS = (
    _T.video_id,
    _T.kind,
    _T.name,
    _T.parent,
    _T.start_ms,
    _T.end_ms,
    _T.max_confidence,
    _T.detections,
)


@dataclass(frozen=True)
class VideoHits:
    """One video's moderation ranges (that pass the filter)."""

    video_id: str
    hits: int
    max_confidence: float | None
    first_ms: int


QueryPage = Page[QueryRow]
VideoHitsPage = Page[VideoHits]


def _fingerprint(*parts: object) -> str:
    # ties a cursor to its filters: a cursor pasted into another query is refused, not misread
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


def encode_cursor(fingerprint: str, key: Sequence[str | int]) -> str:
    raw = json.dumps([fingerprint, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str, types: Sequence[type]) -> list[Any]:
    shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError):
        parts = None
    if (
        not isinstance(parts, list)
        or len(parts) != len(types) + 1
        or not all(type(v) is t for v, t in zip(parts[1:], types, strict=True))
    ):
        raise InvalidCursorError(f"invalid cursor {shown!r}: not a cursor vidx returned")
    if parts[0] != fingerprint:
        raise InvalidCursorError(
            f"cursor {shown!r} belongs to a query with other filters: "
            "repeat the filters of the page it came from, or start without a cursor"
        )
    return parts[1:]


def _filter_fingerprint(f: QueryFilter) -> str:
    return _fingerprint("ranges", f.video_id, f.kind, f.name, f.min_confidence, f.from_ms, f.to_ms)


def _check(f: QueryFilter) -> None:
    if f.kind is not None and f.kind not in QUERY_KINDS:
        raise InvalidQueryError(f"unknown kind {f.kind!r} (choose from: {', '.join(QUERY_KINDS)})")
    if f.kind == "text" and f.name:
        text_words(f.name)
    if f.limit < 1:
        raise InvalidQueryError(f"limit must be at least 1, not {f.limit}")
    if f.min_confidence is not None and not 0 <= f.min_confidence <= 100:
        raise InvalidQueryError(f"min confidence must be within 0-100, not {f.min_confidence}")
    if f.from_ms is not None and f.to_ms is not None and f.to_ms <= f.from_ms:
        raise InvalidQueryError(f"window end {f.to_ms} ms must be after its start {f.from_ms} ms")


def text_words(name: str) -> list[str]:
    """The words a text search looks for (any case); InvalidQueryError when there are none."""
    words = _WORD.findall(name)
    if not words:
        raise InvalidQueryError(f"text search {name!r} has no word to look for")
    return words


def _fts_matches(words: Sequence[str]) -> Select[tuple[Any]]:
    """SQLite: the rowids of the FTS5 table's lines holding every word; each word quoted, so
    none is read as an operator (AND, OR, NEAR, *)."""
    match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    return (
        select(literal_column("rowid"))
        .select_from(table(TEXT_SEARCH_TABLE))
        .where(literal_column(TEXT_SEARCH_TABLE).op("MATCH")(match))
    )


def _has_words(words: Sequence[str], dialect: str, walk: bool) -> ColumnElement[bool]:
    """Text ranges whose line holds every word (migration 0008 made the indexes)."""
    if dialect == "postgresql":
        # the same expression as the index, so the planner uses it
        simple: ColumnElement[str] = literal_column("'simple'")
        return func.to_tsvector(simple, _T.name).bool_op("@@")(
            func.plainto_tsquery(simple, " ".join(words))
        )
    # `walk`: `id + 0` (not a column: no lookup by id) makes SQLite walk the text rows in page
    # order and look each up in the matches, and stop after the page; otherwise it reads every
    # match by id and sorts them (fast for words in few lines, slow for common ones)
    ids = _T.id + 0 if walk else _T.id
    return ids.in_(_fts_matches(words))


def text_lexemes(session: Session, name: str) -> list[tuple[str, int]]:
    """PostgreSQL: the words of a text search as its text index keeps them (the lexemes of
    to_tsvector('simple', ...): lower case, split as the index splits lines), rarest first,
    each with its rows in timeline_text_words counted up to RANK_ROWS (its key only)."""
    found = session.execute(
        text(
            "SELECT l.word, (SELECT count(*) FROM (SELECT 1 FROM timeline_text_words w"
            " WHERE w.word = l.word LIMIT :cap) AS c) AS n FROM unnest(tsvector_to_array("
            "to_tsvector('simple', :words))) AS l(word) ORDER BY n, l.word"
        ),
        {"words": " ".join(text_words(name)), "cap": RANK_ROWS},
    )
    return [(str(w), int(n)) for w, n in found]


FEW_LINES = 2000  # SQLite: words in this many lines or more walk the text rows
_WORDS_TABLE = table(
    TEXT_WORDS_TABLE, column("word"), column("video_id"), column("start_ms"), column("range_id")
)
WALK_ROWS = 2000  # several words: rows of the rarest word read before the GIN form takes over
RANK_ROWS = 200  # several words: rows counted to find the rarest


def _by_postings(
    f: QueryFilter, lexemes: Sequence[str | ColumnElement[str]]
) -> Select[*tuple[Any, ...]]:
    """A text page walking the first (rarest) word's rows of timeline_text_words in page
    order (its primary key); the other words are looked up by the same key, and each line
    holding them all is read by its id and checked against the whole filter (every word, as
    the GIN form does), so a page stops after `limit` rows however common the word is. With
    several words the walk reads at most WALK_ROWS rows: words that share few lines would
    make it read all of them (search then takes the GIN form). OFFSET 0 keeps the checks
    per-row lookups, not joins the planner could turn into reading every match."""
    w = _WORDS_TABLE.alias("w")
    where = [w.c.word == lexemes[0]]
    if f.video_id:
        where.append(w.c.video_id == f.video_id)
    if f.after is not None:
        after = decode_cursor(f.after, _filter_fingerprint(f), (str, int, int))
        where.append(tuple_(w.c.video_id, w.c.start_ms, w.c.range_id) > tuple_(*after))
    walked: FromClause = w
    if len(lexemes) > 1:
        order = (w.c.video_id, w.c.start_ms, w.c.range_id)
        walked = select(w).where(*where).order_by(*order).limit(WALK_ROWS).subquery("walked")
        where = []
    key = (walked.c.video_id, walked.c.start_ms, walked.c.range_id)
    others = []
    for k, lexeme in enumerate(lexemes[1:]):
        o = _WORDS_TABLE.alias(f"o{k}")
        same = (o.c.video_id == key[0], o.c.start_ms == key[1], o.c.range_id == key[2])
        others.append(exists().where(o.c.word == lexeme, *same).correlate_except(o))
    line = (
        select(*_ROW_COLUMNS, _T.id)
        .where(*others, _T.id == walked.c.range_id, *_conditions(f, "postgresql"))
        .offset(0)
        .lateral("t")
    )
    return (
        select(*line.c)
        .select_from(walked.join(line, true()))
        .where(*where)
        .order_by(*key)
        .limit(f.limit + 1)
    )


def _conditions(f: QueryFilter, dialect: str, walk: bool = False) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.video_id:
        where.append(_T.video_id == f.video_id)
    if f.kind:
        where.append(_T.kind == f.kind)
    if f.name and f.kind == "text":  # text: the line holds the words, any case
        where.append(_has_words(text_words(f.name), dialect, walk or bool(f.video_id)))
    elif f.name:
        where.append(_T.name == f.name)
    if f.min_confidence is not None:
        where.append(_T.max_confidence >= f.min_confidence)
    # ranges overlapping the half-open window [from, to)
    if f.from_ms is not None:
        where.append(_T.end_ms > f.from_ms)
    if f.to_ms is not None:
        where.append(_T.start_ms < f.to_ms)
    return where


def query_statement(
    f: QueryFilter,
    dialect: str = "postgresql",
    lexemes: Sequence[str] | None = None,
    walk: bool = False,
) -> Select[*tuple[Any, ...]]:
    """The page's SELECT: one row more than the limit, to know whether another page follows.
    `dialect` picks the text index (PostgreSQL's or SQLite's). On PostgreSQL a text search
    of one word, or given its `lexemes` (text_lexemes, rarest first), walks
    timeline_text_words; several words without them filter by the GIN index's expression
    (every match fetched and sorted: the cost grows with the matches, fine for words that
    share few lines). On SQLite `walk` (always in one video) walks the text rows in page
    order, looking each up in the FTS5 matches."""
    if dialect == "postgresql" and f.kind == "text" and f.name and lexemes:
        return _by_postings(f, lexemes)
    if dialect == "postgresql" and f.kind == "text" and f.name and len(text_words(f.name)) == 1:
        # one word (usually one lexeme): walk its first lexeme, which PostgreSQL computes
        # from the constant while planning (no round trip); the check reads any others
        simple: ColumnElement[str] = literal_column("'simple'")
        tsv = func.to_tsvector(simple, text_words(f.name)[0])
        return _by_postings(f, [func.tsvector_to_array(tsv, type_=ARRAY(Text))[1]])
    where = _conditions(f, dialect, walk)
    if f.after is not None:
        video_id, start_ms, range_id = decode_cursor(
            f.after, _filter_fingerprint(f), (str, int, int)
        )
        # a row-value comparison: PostgreSQL uses it as one index bound, not three filters
        where.append(tuple_(_T.video_id, _T.start_ms, _T.id) > tuple_(video_id, start_ms, range_id))
    return (
        select(*_ROW_COLUMNS, _T.id)
        .where(*where)
        .order_by(_T.video_id, _T.start_ms, _T.id)
        .limit(f.limit + 1)
    )


def statement_for(
    session: Session, f: QueryFilter
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]] | None]:
    """The SELECT search runs for `f` on this session's database, and the one it runs when
    the first finds fewer than `limit` + 1 rows (None: no second). A text search on
    PostgreSQL walks the rarest word's rows (query_statement with lexemes); with several
    words the walk stops after WALK_ROWS of them, and a short page is read again by the GIN
    form (the words share few lines, so it has few matches to sort). On SQLite, across
    videos, it walks the text rows when FEW_LINES lines or more hold the words (a capped
    count of the FTS5 matches), else reads the matches and sorts them."""
    dialect = session.get_bind().dialect.name
    if f.kind != "text" or not f.name:
        return query_statement(f, dialect), None
    if dialect != "postgresql":
        if f.video_id:  # one video's text rows: the walk is short whatever the words
            return query_statement(f, dialect, walk=True), None
        capped = _fts_matches(text_words(f.name)).limit(FEW_LINES).subquery()
        many = session.execute(select(func.count()).select_from(capped)).scalar_one()
        return query_statement(f, dialect, walk=many >= FEW_LINES), None
    if len(text_words(f.name)) == 1:  # one word: walked to the end of the page, no second
        return query_statement(f, dialect), None
    lexemes = text_lexemes(session, f.name)
    walk = query_statement(f, dialect, [w for w, _ in lexemes])
    # a walk may stop early (WALK_ROWS) when the rarest word has RANK_ROWS rows or more
    stopped = len(lexemes) > 1 and lexemes[0][1] >= RANK_ROWS
    return walk, query_statement(f, dialect) if stopped else None


def _plan_each_call(session: Session) -> None:
    # psycopg prepares a statement run 5 times on a connection, and PostgreSQL may then reuse
    # one generic plan whatever the parameters: for search, the index walk even for a threshold
    # that few rows pass (Person >= 100 took 80 ms instead of 0.7, benchmarks/query.py). The
    # right plan depends on the label and the threshold; planning each call costs ~0.1 ms.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def search(session: Session, f: QueryFilter) -> QueryPage:
    """One page of ranges matching `f`, and the cursor of the next page (None after the last)."""
    _check(f)
    if f.video_id and session.get(Video, f.video_id) is None:
        raise VideoNotFoundError(f.video_id)
    _plan_each_call(session)
    first, short_page = statement_for(session, f)
    found = session.execute(first).all()
    if len(found) <= f.limit and short_page is not None:
        found = session.execute(short_page).all()
    rows = [_row(r) for r in found[: f.limit]]
    next_cursor = None
    if len(found) > f.limit:
        last = found[f.limit - 1]
        next_cursor = encode_cursor(_filter_fingerprint(f), [last.video_id, last.start_ms, last.id])
    return QueryPage(rows, next_cursor)


def run_query(session: Session, f: QueryFilter) -> list[QueryRow]:
    """The rows of one page (the first, or the one after `f.after`)."""
    return search(session, f).items


def _row(r: Row[Any]) -> QueryRow:
    return QueryRow(*r[: len(_ROW_COLUMNS)])


def moderation_by_video(
    session: Session,
    name: str | None = None,
    min_confidence: float | None = None,
    limit: int = 100,
    after: str | None = None,
) -> VideoHitsPage:
    """Which videos have moderation hits, with counts, in video id order, a page at a time.

    `name` is a moderation label at either level ("Explicit Nudity" or "Graphic Male Nudity"):
    Rekognition reports the top-level category as a label of its own beside the second-level one.
    Grouped in index order (kind[, name], video_id, ...), so a page stops after `limit` videos.
    """
    if limit < 1:
        raise InvalidQueryError(f"limit must be at least 1, not {limit}")
    if min_confidence is not None and not 0 <= min_confidence <= 100:
        raise InvalidQueryError(f"min confidence must be within 0-100, not {min_confidence}")
    fingerprint = _fingerprint("moderation", name, min_confidence)
    where: list[ColumnElement[bool]] = [_T.kind == "moderation"]
    if name:
        where.append(_T.name == name)
    if min_confidence is not None:
        where.append(_T.max_confidence >= min_confidence)
    if after is not None:
        (last_video,) = decode_cursor(after, fingerprint, (str,))
        where.append(_T.video_id > last_video)
    stmt = (
        select(_T.video_id, func.count(), func.max(_T.max_confidence), func.min(_T.start_ms))
        .where(*where)
        .group_by(_T.video_id)
        .order_by(_T.video_id)
        .limit(limit + 1)
    )
    _plan_each_call(session)
    found = session.execute(stmt).all()
    rows = [VideoHits(v, n, conf, first) for v, n, conf, first in found[:limit]]
    more = len(found) > limit
    return VideoHitsPage(rows, encode_cursor(fingerprint, [rows[-1].video_id]) if more else None)
