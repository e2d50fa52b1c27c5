"""Search on a big catalogue: latency of the common queries with and without the project's indexes.

Fills a dedicated PostgreSQL schema with a synthetic catalogue (benchmarks/query_data.py:
10,000,000 timeline ranges over 5,000 videos by default, Zipf-distributed real Rekognition
label names, rare clustered moderation hits, shots and cues, text lines; COPY, then the
project's indexes built), copies the same rows into a second schema whose tables have only their
primary keys (timeline_text_words, migration 0009's table of words, keeps its: text searches
read it by key), VACUUM ANALYZEs both, then times the project's own query functions
(worker.query) on each, the same calls in the same run:

  label >= conf, first page   search(kind=label, name, min_confidence), page of 100; the label
                              drawn uniformly from all names (rare and common), the threshold
                              from 50-99.99
  label >= conf, deep page    the same, the page after a real cursor 5,000-20,000 rows in
                              (pages 51-201), among the filters that match that many
  one video's window          search(video_id, from, to) over 5 minutes, any kind / labels /
                              shots, page of 100
  moderation hits per video   moderation_by_video(name?, min_confidence?), first 100 videos
  text word across videos     search(kind=text, name=WORD), page of 100; the word drawn from
                              the words of the loaded lines (ts_stat) with weight 1/rank of
                              how many lines hold it: each decade of ranks about as often, so
                              the commonest words ("the", in ~11 % of lines) and words in a
                              handful of lines are both asked
  text two words              search(kind=text, name="W1 W2"), two words of one sampled line
                              (the first drawn as above)
  text word in one video      search(video_id, kind=text, name=WORD), half a word of one of
                              that video's lines, half a word drawn as above
  text word, deep page        the page after a real cursor 5,000-20,000 rows in, among the
                              words that have that many

Prints p50/p95 (ms) of each and the ratio of the p95s. Times are of the function call (its
SQL and row building), in a warm cache; the baseline runs fewer repetitions (each is a scan
of the whole table). Both schemas are dropped at the end unless --keep (--reuse then skips
the load next time).

    .venv/bin/python benchmarks/query.py [--rows 10000000] [--videos 5000] [--reps 300]
        [--baseline-reps 15] [--keep] [--reuse] [--explain] [--schema NAME] [--pg URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `benchmarks.` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from benchmarks.query_data import Plan, label_names, moderation_names, video_id
from benchmarks.query_load import (
    admin_engine,
    copy_without_indexes,
    drop_schema,
    fill,
    recreate_schema,
    schema_url,
    sizes,
)
from benchmarks.query_text import vocabulary
from models.detection import TEXT_SEARCH_INDEX, TEXT_WORDS_TABLE
from worker.db import Database, create_db_engine
from worker.query import QueryFilter, moderation_by_video, search
from worker.search import statement_for, text_words

SCHEMA = "vidx_bench_query"  # and vidx_bench_query_noidx; dropped and made anew unless --reuse
PAGE = 100
WORDS_KEY = "pk_timeline_text_words"  # migration 0009's primary key of the words
THRESHOLDS = (50, 70, 80, 90, 95, 99, 99.5, 99.9, 99.99)  # the last few: rare matches
Call = Callable[[Session], object]


def label_calls(rng: random.Random, n: int) -> list[QueryFilter]:
    names = [name for name, _ in label_names()]
    return [
        QueryFilter(kind="label", name=rng.choice(names), min_confidence=rng.choice(THRESHOLDS),
                    limit=PAGE)
        for _ in range(n)
    ]  # fmt: skip


def deep_filters(
    db: Database, rng: random.Random, n: int, rows: int, draw: Callable[[], QueryFilter]
) -> list[QueryFilter]:
    """Filters from `draw` with a real cursor 5,000-20,000 rows in (fewer on a smaller --rows);
    filters matching fewer rows are drawn again: rare labels or words have no deep pages."""
    lo = max(2 * PAGE, 5_000 * rows // 10_000_000)
    out = []
    with db.session() as s:
        while len(out) < n:
            f = draw()
            depth, cursor, seen = rng.randint(lo, 4 * lo), None, 0
            while seen < depth:
                # a cursor does not depend on the page size: walk there in big pages
                page = search(s, replace(f, limit=min(5_000, depth - seen), after=cursor))
                cursor, seen = page.next_cursor, seen + len(page.items)
                if cursor is None:
                    break
            if cursor is not None:
                out.append(replace(f, after=cursor))
    return out


def window_calls(plan: Plan, rng: random.Random, n: int) -> list[QueryFilter]:
    durations = plan.durations_ms().tolist()
    out = []
    for _ in range(n):
        i = rng.randrange(plan.videos)
        start = rng.randrange(max(1, durations[i] - 300_000))
        kind = rng.choice([None, "label", "shot"])
        out.append(QueryFilter(video_id=video_id(i), kind=kind, from_ms=start,
                               to_ms=start + 300_000, limit=PAGE))  # fmt: skip
    return out


def moderation_calls(rng: random.Random, n: int) -> list[Call]:
    names: list[str | None] = [None, *(name for name, _, _ in moderation_names())]
    calls: list[Call] = []
    for _ in range(n):
        name, conf = rng.choice(names), rng.choice([None, 50, 80, 90])
        calls.append(lambda s, name=name, conf=conf: moderation_by_video(s, name, conf, PAGE))
    return calls


class TextWords:
    """The words of the loaded text lines, commonest first, and a sample of the lines."""

    def __init__(self, db: Database, rng: random.Random, sample: int = 50_000) -> None:
        with db.session() as s:
            # ndoc: how many lines hold the word (the index's own split of the lines)
            self.ranked = [
                (str(w), int(n))
                for w, n in s.execute(
                    text(
                        "SELECT word, ndoc FROM ts_stat($$SELECT to_tsvector('simple', name)"
                        " FROM timeline_ranges WHERE kind = 'text'$$) ORDER BY ndoc DESC, word"
                    )
                )
            ]
            lines = s.execute(
                text("SELECT count(*) FROM timeline_ranges WHERE kind = 'text'")
            ).scalar_one()
            pct = min(100.0, 100.0 * sample / max(lines, 1))
            sampled = s.execute(
                text(
                    f"SELECT video_id, name FROM timeline_ranges TABLESAMPLE BERNOULLI ({pct})"
                    " REPEATABLE (11) WHERE kind = 'text' ORDER BY id"
                )
            ).all()
        self.lines = int(lines)
        self.rng = rng
        self.weights = [1 / r for r in range(1, len(self.ranked) + 1)]
        self.sample = [(str(v), _words(str(name))) for v, name in sampled]
        self.pairs: dict[str, list[list[str]]] = {}  # word -> sampled lines of 2+ words with it
        for _, words in self.sample:
            if len(words) > 1:
                for w in words:
                    self.pairs.setdefault(w, []).append(words)

    def word(self) -> str:
        return self.rng.choices(self.ranked, self.weights)[0][0]

    def two(self) -> str:
        first = self.word()
        while first not in self.pairs:  # words seen in no sampled line of two words
            first = self.word()
        line = self.rng.choice(self.pairs[first])
        second = self.rng.choice([w for w in line if w != first])
        return " ".join(self.rng.sample([first, second], 2))

    def in_video(self) -> tuple[str, str]:
        vid, words = self.rng.choice(self.sample)
        return vid, self.rng.choice(words) if self.rng.random() < 0.5 else self.word()


def _words(name: str) -> list[str]:
    return list(dict.fromkeys(text_words(name.lower())))


def text_calls(words: TextWords, n: int) -> dict[str, list[QueryFilter]]:
    in_video = [words.in_video() for _ in range(n)]
    return {
        "word": [QueryFilter(kind="text", name=words.word(), limit=PAGE) for _ in range(n)],
        "two": [QueryFilter(kind="text", name=words.two(), limit=PAGE) for _ in range(n)],
        "video": [QueryFilter(video_id=v, kind="text", name=w, limit=PAGE) for v, w in in_video],
    }


def as_calls(filters: list[QueryFilter]) -> list[Call]:
    return [lambda s, f=f: search(s, f) for f in filters]


def timed(db: Database, calls: list[Call]) -> list[float]:
    out = []
    with db.session() as s:
        for call in calls[:3]:  # warm-up, not counted
            call(s)
        for call in calls:
            start = time.perf_counter()
            call(s)
            out.append((time.perf_counter() - start) * 1000)
    return out


def p50_p95_max(ms: list[float]) -> tuple[float, float, float]:
    if len(ms) < 2:
        return ms[0], ms[0], ms[0]
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return statistics.median(ms), q[94], max(ms)


def explain(db: Database, filters: list[QueryFilter]) -> None:
    with db.session() as s:
        for f in filters:
            # the statements search runs (a text search on PostgreSQL picks its form first;
            # the second runs when the first finds no full page)
            first, short_page = statement_for(s, f)
            for n, stmt in enumerate((first, short_page)):
                if stmt is None:
                    continue
                sql = stmt.compile(
                    dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                )
                print(f"\nEXPLAIN ANALYZE{' (short page: again by GIN)' if n else ''}: {f}")
                for (line,) in s.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")):
                    print("   ", line)
                found = s.execute(text(f"SELECT count(*) FROM ({sql}) AS page")).scalar_one()
                if found > f.limit:
                    break


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--videos", type=int, default=5_000)
    parser.add_argument("--reps", type=int, default=300, help="calls per query, indexed")
    parser.add_argument("--baseline-reps", type=int, default=15, help="calls per query, PK only")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--schema", default=SCHEMA, help="its copy without indexes: NAME_noidx")
    parser.add_argument("--keep", action="store_true", help="keep both schemas afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the schemas --keep left")
    parser.add_argument("--explain", action="store_true", help="print a few query plans")
    args = parser.parse_args()
    plan = Plan(args.rows, args.videos)
    admin = admin_engine(args.pg)
    schema, plain_schema = args.schema, f"{args.schema}_noidx"
    indexed_url, plain_url = schema_url(args.pg, schema), schema_url(args.pg, plain_schema)
    try:
        if not args.reuse:
            recreate_schema(admin, schema)
            recreate_schema(admin, plain_schema)
            t = fill(indexed_url, plan)
            copy_s = copy_without_indexes(schema, plain_url)
            gin_s, words_s = t.each_index_s[TEXT_SEARCH_INDEX], t.each_index_s[WORDS_KEY]
            print(f"{t.rows:,} timeline ranges over {plan.videos:,} videos: generated + COPY "
                  f"{t.copy_s:.1f} s ({t.rows / t.copy_s:,.0f} rows/s), the project's indexes "
                  f"{t.index_s:.1f} s (text: GIN {gin_s:.1f} s, words' key {words_s:.1f} s), "
                  f"foreign keys {t.keys_s:.1f} s; copy without indexes {copy_s:.1f} s"
                  )  # fmt: skip
        run(
            args,
            plan,
            Database(create_db_engine(indexed_url)),
            Database(create_db_engine(plain_url)),
        )
    finally:
        if not args.keep:
            drop_schema(admin, schema)
            drop_schema(admin, plain_schema)
        admin.dispose()


def run(args: argparse.Namespace, plan: Plan, indexed: Database, plain: Database) -> None:
    table, index = sizes(indexed.engine)
    with indexed.engine.connect() as conn:
        gin, words, key = conn.execute(
            text(f"SELECT pg_relation_size('{TEXT_SEARCH_INDEX}'), pg_table_size("
                 f"'{TEXT_WORDS_TABLE}'), pg_relation_size('{WORDS_KEY}')")
        ).one()  # fmt: skip
    print(f"timeline_ranges {table / 2**30:.2f} GiB, the project's indexes on it "
          f"{index / 2**30:.2f} GiB (the text GIN index {gin / 2**20:.0f} MiB); "
          f"{TEXT_WORDS_TABLE} {words / 2**20:.0f} MiB + its key {key / 2**20:.0f} MiB; "
          "PostgreSQL settings as installed")  # fmt: skip
    rng = random.Random(11)
    n = max(args.reps, args.baseline_reps)
    labels = label_calls(rng, n)
    deep_labels = deep_filters(indexed, rng, n, plan.rows, lambda: label_calls(rng, 1)[0])
    started = time.perf_counter()
    words = TextWords(indexed, random.Random(13))
    texts = text_calls(words, n)
    deep_texts = deep_filters(
        indexed, rng, n, plan.rows, lambda: QueryFilter(kind="text", name=words.word(), limit=PAGE)
    )
    print(text_summary(words, time.perf_counter() - started))
    cases = {
        f"label >= conf, first page ({PAGE})": as_calls(labels),
        f"label >= conf, deep page ({PAGE})": as_calls(deep_labels),
        f"one video's 5-min window ({PAGE})": as_calls(window_calls(plan, rng, n)),
        "moderation hits per video (100)": moderation_calls(rng, n),
        f"text word across videos ({PAGE})": as_calls(texts["word"]),
        f"text two words across videos ({PAGE})": as_calls(texts["two"]),
        f"text word in one video ({PAGE})": as_calls(texts["video"]),
        f"text word, deep page ({PAGE})": as_calls(deep_texts),
    }
    if args.explain:
        common, rare = label_names()[0][0], label_names()[-1][0]
        ranked = [w for w, _ in words.ranked]
        explain(indexed, [QueryFilter(kind="label", name=common, min_confidence=99.5, limit=PAGE),
                          QueryFilter(kind="label", name=rare, min_confidence=90, limit=PAGE),
                          window_calls(plan, rng, 1)[0],
                          *(QueryFilter(kind="text", name=ranked[k], limit=PAGE)
                            for k in (0, 10, 100, 1000) if k < len(ranked)),
                          QueryFilter(kind="text", name=texts["two"][0].name, limit=PAGE),
                          texts["video"][0], deep_texts[0]])  # fmt: skip
    print(f"\n{'query':<38}| {'indexed p50 / p95 / max ms':>27} {'n':>4} | "
          f"{'PK only p50 / p95 ms':>20} {'n':>3} | {'p95 ratio':>9}")  # fmt: skip
    print("-" * 115)
    for name, calls in cases.items():
        ours = p50_p95_max(timed(indexed, calls[: args.reps]))
        base = p50_p95_max(timed(plain, calls[: args.baseline_reps]))
        print(f"{name:<38}| {ours[0]:>7.2f} / {ours[1]:>7.2f} / {ours[2]:>7.2f} {args.reps:>4} | "
              f"{base[0]:>8.1f} / {base[1]:>7.1f} {args.baseline_reps:>3} | "
              f"{base[1] / ours[1]:>8.0f}x", flush=True)  # fmt: skip


def text_summary(words: TextWords, took_s: float) -> str:
    ranked = words.ranked
    head = ", ".join(f"{w} {n / words.lines:.1%}" for w, n in ranked[:5])
    few = sum(1 for _, n in ranked if n < 10)
    unseen = len(vocabulary() - {w for w, _ in ranked})
    return (
        f"text: {words.lines:,} lines, {len(ranked):,} distinct words ({unseen} of the "
        f"generator's {len(vocabulary()):,} never drawn); commonest: {head}; {few} words in "
        f"fewer than 10 lines; words ranked and {len(words.sample):,} lines sampled, pairs "
        f"and deep cursors found in {took_s:.1f} s"
    )


if __name__ == "__main__":
    main()
