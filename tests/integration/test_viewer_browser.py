"""The timeline viewer in a real browser: `vidx serve` as a process, Debian's chromium
driven by Playwright (no browser download), videos indexed by the real `vidx` commands.

The 720p programme is indexed with the local engine (shots, cues, content range), its shot
thumbnails made by `vidx clips --thumbnails`, and real recorded Rekognition label,
moderation and face results (of other videos) imported onto it, so every lane has real
data. The dev photos are indexed with all four local features, whose lanes are checked
too. The ProRes programme (indexed, no thumbnails, no labels) is the source a browser
cannot play. A screenshot is kept at test-artifacts/viewer.png.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import MEDIA, REPO
from tests.e2e_support import VIDX, clean_env, free_port, stop, vidx
from tests.import_support import whole
from tests.text_support import frame_items, text_page
from worker.context import AppContext
from worker.engines.local.segments import video_metadata
from worker.engines.port import Feature
from worker.media.probe import probe
from worker.pipeline.importer import import_pages

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "test-artifacts" / "viewer.png"
PROGRAMME = MEDIA / "synthetic" / "programme_720p25.mp4"
PRORES = MEDIA / "synthetic" / "programme_prores.mov"
DEV = MEDIA / "ml" / "objects_dev_720p25.mp4"
IMPORTS = [
    ("labels", "labelpy_kfir/GetLabelDetection.page1.json"),
    ("moderation", "netflix_93f8/GetContentModeration.page1.json"),
    ("faces", "hawkey999_face/GetFaceDetection.page1.json"),
]
# lane in the page -> list in the timeline document
LANES = {
    "shots": "shots",
    "cues": "technical_cues",
    "labels": "labels",
    "moderation": "moderation",
    "faces": "faces",
    "text": "text",
}
HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Boy & "friends"'


@dataclass
class Served:
    base: str
    video_id: str  # the programme, every lane filled
    doc: dict[str, Any]  # its timeline, as the API serves it
    thumbs: dict[str, Any]
    prores_id: str
    hostile_id: str  # imported labels only, a label name full of markup, no media
    local_id: str  # the dev photos, every feature of the local engine


def _ok(args: list[str], env: dict[str, str]) -> str:
    proc = vidx(args, env)
    assert proc.returncode == 0, f"vidx {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*VIDX, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"vidx serve exited {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            raise AssertionError(f"vidx serve not answering in 30 s:\n{log.read_text()}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("viewer")
    env = clean_env(data_dir=str(tmp / "data"), database_url=f"sqlite:///{tmp / 'vidx.db'}")
    run = json.loads(_ok(["run", str(PROGRAMME), "--clips", "none", "--json"], env))
    vid = run["video_id"]
    # copy mode: the content clip is quick to cut; the thumbnails are what the viewer needs
    _ok(["clips", vid, "--at", "content", "--mode", "copy", "--thumbnails", "--json"], env)
    meta = video_metadata(probe(PROGRAMME))  # import takes only results of the video's size
    for feature, rel in IMPORTS:
        _ok(["import", "--feature", feature, str(whole(rel, tmp, meta)), "--video", vid], env)
    # no recorded GetTextDetection exists: a page built to the API's shape (text_support)
    lines = [*frame_items(6000, ["A FILM BY", "JANE DOE"]), *frame_items(6500, ["A FILM BY"])]
    text_page_file = tmp / "text.json"
    text_page_file.write_text(json.dumps({**text_page(lines), "VideoMetadata": meta}))
    _ok(["import", "--feature", "text", str(text_page_file), "--video", vid], env)
    prores = json.loads(_ok(["run", str(PRORES), "--clips", "none", "--json"], env))
    every = "segments,labels,faces,moderation"
    local = json.loads(
        _ok(["run", str(DEV), "--features", every, "--clips", "none", "--json"], env)
    )
    page = json.loads(whole(IMPORTS[0][1], tmp).read_text())
    page["Labels"][0]["Label"]["Name"] = HOSTILE_NAME
    (tmp / "hostile.json").write_text(json.dumps(page))
    hostile = _ok(["import", "--feature", "labels", str(tmp / "hostile.json")], env).strip()
    proc, base = _serve(env, tmp / "serve.log")
    try:
        doc = httpx.get(f"{base}/videos/{vid}/timeline").json()
        thumbs = httpx.get(f"{base}/videos/{vid}/thumbnails").json()
        yield Served(base, vid, doc, thumbs, prores["video_id"], hostile, local["video_id"])
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


def open_viewer(page: Any, served: Served, video_id: str) -> None:
    page.goto(f"{served.base}/videos/{video_id}/view")
    page.wait_for_selector("body[data-state=ready]", state="attached", timeout=15000)


def frame_ms(doc: dict[str, Any]) -> float:
    return float(1000 / Fraction(doc["video"]["fps"]))


def wait_seeked(page: Any, start_ms: int, tolerance_ms: float) -> float:
    """Wait until the player has settled within tolerance of start_ms; its time in ms."""
    page.wait_for_function(
        "([ms, tol]) => { const v = document.getElementById('video');"
        " return !v.seeking && Math.abs(v.currentTime * 1000 - ms) <= tol; }",
        arg=[start_ms, tolerance_ms],
        timeout=10000,
    )
    return float(page.evaluate("document.getElementById('video').currentTime * 1000"))


def test_local_models_fill_their_lanes(page: Any, served: Served) -> None:
    doc = httpx.get(f"{served.base}/videos/{served.local_id}/timeline").json()
    open_viewer(page, served, served.local_id)
    for lane, key in LANES.items():
        expected = len(doc[key])
        assert expected > 0 or key in ("moderation", "text"), f"the local engine found no {key}"
        head = page.locator(f".tl-lane[data-lane={lane}] .tl-count")
        assert head.text_content() == str(expected), lane
        assert page.locator(f".tl-lane[data-lane={lane}] .tl-range").count() == expected, lane
    names = sorted({r["name"] for r in doc["labels"]})
    rows = page.locator(".tl-lane[data-lane=labels] .tl-sub")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.name)")) == names
    assert "Cat" in names


def test_every_lane_shows_the_timelines_count(page: Any, served: Served) -> None:
    open_viewer(page, served, served.video_id)
    assert page.locator("#title").text_content() == PROGRAMME.name
    for lane, key in LANES.items():
        expected = len(served.doc[key])
        assert expected > 0, f"test data has no {key}"
        head = page.locator(f".tl-lane[data-lane={lane}] .tl-count")
        assert head.text_content() == str(expected), lane
        assert page.locator(f".tl-lane[data-lane={lane}] .tl-range").count() == expected, lane
    # the recorded moderation results come from a longer video: those past this one's end
    # are counted but not drawn, and their rows say so
    end = served.doc["video"]["duration_ms"]
    beyond = [r for r in served.doc["moderation"] if r["start_ms"] >= end]
    assert beyond, "test data: moderation ranges past the end expected"
    assert page.locator(".tl-lane[data-lane=moderation] .tl-sub .tl-beyond").count() == len(beyond)
    notes = page.locator(".tl-lane[data-lane=moderation] .tl-sub .tl-after").all_text_contents()
    assert sum(int(n.split()[0]) for n in notes) == len(beyond)
    # one row per label / moderation name
    for lane in ("labels", "moderation"):
        names = sorted({r["name"] for r in served.doc[lane]})
        rows = page.locator(f".tl-lane[data-lane={lane}] .tl-sub")
        assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.name)")) == names
    # the content range is marked: shaded outside, a bar on the ruler
    assert page.locator(".tl-overlay .tl-outside").count() == 2
    a, b = served.doc["content_range_ms"]
    assert page.locator(".tl-ruler .tl-content-range").get_attribute("title") == (
        f"content 00:{a // 1000:02d}.{a % 1000:03d} \u2013 00:{b // 1000:02d}.{b % 1000:03d}"
    )
    # a thumbnail per shot, in order, and the first one is a real picture
    thumbs = page.locator("#strip .thumb")
    listed = [t["index"] for t in served.thumbs["shots"]]
    assert listed == [s["index"] for s in served.doc["shots"]]
    assert thumbs.evaluate_all("ts => ts.map(t => Number(t.dataset.index))") == listed
    first = thumbs.first.locator("img")
    first.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first.element_handle()
    )
    assert first.evaluate("img => img.naturalWidth") == served.thumbs["shots"][0]["width"]


def test_clicking_the_third_shot_seeks_the_player(page: Any, served: Served) -> None:
    open_viewer(page, served, served.video_id)
    page.wait_for_selector("body[data-player=ready]", state="attached", timeout=15000)
    third = served.doc["shots"][2]
    page.locator(".tl-lane[data-lane=shots] .tl-range").nth(2).click()
    frame = frame_ms(served.doc)
    at = wait_seeked(page, third["start_ms"], frame)
    assert abs(at - third["start_ms"]) <= frame
    assert page.locator("#selected h3").text_content() == f"Shot {third['index']}"
    assert (
        page.locator(".tl-lane[data-lane=shots] .tl-range.current").get_attribute("data-i") == "2"
    )
    # a thumbnail seeks to its shot's start too
    sixth = served.doc["shots"][5]
    page.locator(f"#strip .thumb[data-index='{sixth['index']}']").click()
    assert abs(wait_seeked(page, sixth["start_ms"], frame) - sixth["start_ms"]) <= frame
    # and a click on a range of another lane (a moderation row) seeks to that range
    mod = page.locator(".tl-lane[data-lane=moderation] .tl-sub .tl-range:not(.tl-beyond)").first
    start = int(mod.get_attribute("data-start"))
    mod.scroll_into_view_if_needed()
    mod.click()
    assert abs(wait_seeked(page, start, frame) - start) <= frame
    # the shot is left selected for the kept picture of the page
    page.locator(".tl-lane[data-lane=shots] .tl-range").nth(2).click()
    wait_seeked(page, third["start_ms"], frame)
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"viewer screenshot: {SCREENSHOT}")


def visible_rows(page: Any) -> dict[str, list[str]]:
    out = {}
    for lane in ("labels", "moderation"):
        rows = page.locator(f".tl-lane[data-lane={lane}] .tl-sub")
        out[lane] = rows.evaluate_all(
            "rs => rs.filter(r => r.offsetParent !== null).map(r => r.dataset.name)"
        )
    return out


def test_search_filters_label_rows_by_name(page: Any, served: Served) -> None:
    open_viewer(page, served, served.video_id)
    everything = visible_rows(page)
    search = page.locator("#search")
    for text in ("viol", "BOY", "zzz-nothing"):
        search.fill(text)
        for lane, names in visible_rows(page).items():
            hits = [r["name"] for r in served.doc[lane] if text.lower() in r["name"].lower()]
            expected = sorted(set(hits))
            assert names == expected, (text, lane)
            shown = len(hits)
            assert page.locator(f".tl-lane[data-lane={lane}] .tl-shown").text_content() == (
                f"{shown} shown"
            )
            nomatch = page.locator(f".tl-lane[data-lane={lane}] .tl-nomatch")
            assert nomatch.is_visible() == (not expected), (text, lane)
    assert visible_rows(page)["moderation"] == []
    search.fill("")
    assert visible_rows(page) == everything
    # the count in the lane head stays the timeline's
    assert page.locator(".tl-lane[data-lane=labels] .tl-count").text_content() == str(
        len(served.doc["labels"])
    )


def test_zoom_and_pan(page: Any, served: Served) -> None:
    open_viewer(page, served, served.video_id)
    scroller = page.locator(".tl-scroll")
    width = "s => s.scrollWidth"
    fit = scroller.evaluate(width)
    page.click("#zoom-in")
    page.click("#zoom-in")
    head = 210  # the head column does not zoom
    assert scroller.evaluate(width) - head == pytest.approx((fit - head) * 4, rel=0.01)
    assert page.locator("#zoom-level").text_content() == "4.0\u00d7"
    # the wheel on the ruler zooms in further, around the pointer
    box = scroller.bounding_box()
    ruler = page.locator(".tl-ruler").bounding_box()  # its x is scrolled off to the left
    page.mouse.move(box["x"] + head + 300, ruler["y"] + 10)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"document.querySelector('.tl-scroll').scrollWidth > {fit * 4}")
    # dragging a track pans the view and does not seek
    before = scroller.evaluate("s => s.scrollLeft")
    time_before = page.evaluate("document.getElementById('video').currentTime")
    lane = page.locator(".tl-lane[data-lane=cues] .tl-track").bounding_box()
    y = lane["y"] + lane["height"] / 2
    page.mouse.move(box["x"] + head + 600, y)
    page.mouse.down()
    page.mouse.move(box["x"] + head + 400, y, steps=5)
    page.mouse.up()
    assert scroller.evaluate("s => s.scrollLeft") == pytest.approx(before + 200, abs=2)
    assert page.evaluate("document.getElementById('video').currentTime") == time_before
    page.click("#zoom-fit")
    assert scroller.evaluate(width) == fit


def test_unplayable_source_keeps_the_lanes_working(page: Any, served: Served) -> None:
    """ProRes in MOV: chromium opens the file (its PCM sound) but decodes no picture."""
    open_viewer(page, served, served.prores_id)
    page.wait_for_selector(
        "body[data-player=no-picture], body[data-player=unplayable]", state="attached"
    )
    assert page.locator("#player-message").is_visible()
    assert "cannot" in page.locator("#player-message").text_content()
    assert "No shot thumbnails" in page.locator("#strip").text_content()
    labels = page.locator(".tl-lane[data-lane=labels]")
    assert labels.locator(".tl-count").text_content() == "0"
    assert "not analysed" in labels.locator(".tl-empty").text_content()
    shots = page.locator(".tl-lane[data-lane=shots] .tl-range")
    assert shots.count() == 4  # the file's truth: cuts at frames 60, 135, 185
    shots.nth(2).click()
    assert page.locator("#clock-time").text_content() == "00:05.400"  # frame 135 at 25 fps


def test_data_is_shown_as_text_never_as_markup(page: Any, served: Served) -> None:
    open_viewer(page, served, served.hostile_id)
    row = page.locator(".tl-lane[data-lane=labels] .tl-sub")
    assert row.get_attribute("data-name") == HOSTILE_NAME
    assert row.locator(".tl-name").text_content() == HOSTILE_NAME
    assert page.locator("#viewer img, #timeline img").count() == 0
    assert page.evaluate("window.__pwned") is None
    # an imported video has no playable media here: said so, lanes still shown
    page.wait_for_selector("body[data-player=unplayable]", state="attached")
    assert page.locator("#player-message").is_visible()


def test_list_page_links_to_each_viewer(page: Any, served: Served) -> None:
    page.goto(f"{served.base}/")
    page.wait_for_selector("body[data-state=ready]", state="attached")
    ids = page.locator("#videos tbody tr").evaluate_all("rs => rs.map(r => r.dataset.videoId)")
    assert sorted(ids) == sorted(
        [served.video_id, served.prores_id, served.hostile_id, served.local_id]
    )
    page.locator(f"#videos tr[data-video-id='{served.video_id}'] a").click()
    page.wait_for_url(f"{served.base}/videos/{served.video_id}/view")
    page.wait_for_selector("body[data-state=ready]", state="attached")


def test_unknown_video_and_assets(page: Any, served: Served) -> None:
    missing = page.goto(f"{served.base}/videos/0123456789abcdef/view")
    assert missing.status == 404  # and the page says why
    page.wait_for_selector("body[data-state=error]", state="attached")
    assert "0123456789abcdef" in page.locator("#message").text_content()
    bad = httpx.get(f"{served.base}/videos/not%20an%20id/view")
    assert bad.status_code == 404
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{served.base}/static/viewer/..%2Fviewer.py").status_code == 404
    assert httpx.get(f"{served.base}/static/viewer/nothing.js").status_code == 404
    js = httpx.get(f"{served.base}/static/viewer/viewer.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")


def test_view_route_answers_404_for_a_missing_video(ctx: AppContext, tmp_path: Path) -> None:
    """The page route on each database, through the app factory (no browser needed)."""
    from fastapi.testclient import TestClient

    from worker.api import create_app

    done = import_pages(ctx, Feature.LABELS, [whole(IMPORTS[0][1], tmp_path)])
    with TestClient(create_app(ctx)) as client:
        found = client.get(f"/videos/{done.video_id}/view")
        assert found.status_code == 200 and found.headers["content-type"].startswith("text/html")
        assert "/static/viewer/viewer.js" in found.text
        missing = client.get("/videos/0123456789abcdef/view")
        assert missing.status_code == 404 and "/static/viewer/viewer.js" in missing.text
        index = client.get("/")
        assert index.status_code == 200 and "/static/viewer/list.js" in index.text
        for name in ("viewer.css", "timeline.js", "lanes.js", "common.js", "list.js"):
            assert client.get(f"/static/viewer/{name}").status_code == 200, name
