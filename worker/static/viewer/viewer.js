// The viewer page: the player, shot thumbnails, and the lanes of the video's timeline
// (GET /videos/{id}/timeline, vidx.timeline/1). Clicking a range or a thumbnail seeks.
import { el, formatMs, getJSON, parseFps, showMessage } from "/static/viewer/common.js";
import { buildLanes } from "/static/viewer/lanes.js";
import { Timeline } from "/static/viewer/timeline.js";

const $ = (id) => document.getElementById(id);
const video = $("video");
const state = { doc: null, timeline: null, fps: null, hours: false, shots: [], usable: true };

function videoId() {
  const match = location.pathname.match(/^\/videos\/([^/]+)\/view\/?$/);
  return match ? decodeURIComponent(match[1]) : null;
}

function fmt(ms) {
  return formatMs(ms, state.hours);
}

/** Move the page's time: the player when it can play, the playhead in any case. */
function seek(ms) {
  // before the metadata arrives this sets where playback will start (HTML's default position)
  if (state.usable) video.currentTime = ms / 1000;
  showTime(ms, false);
}

function showTime(ms, follow) {
  $("clock-time").textContent = fmt(ms);
  $("clock-frame").textContent = state.fps ? `frame ${Math.floor((ms / 1000) * state.fps + 1e-6)}` : "";
  state.timeline.setTime(ms, follow);
  const shot = currentShot(ms);
  state.timeline.mark("shots", shot ? state.shots.indexOf(shot) : null, "current");
  for (const thumb of $("strip").querySelectorAll(".thumb.current")) thumb.classList.remove("current");
  const thumb = shot ? $("strip").querySelector(`.thumb[data-index="${shot.index}"]`) : null;
  if (thumb) {
    thumb.classList.add("current");
    // keep the current shot's picture in view without moving the page
    const box = $("strip");
    const left = thumb.offsetLeft - box.offsetLeft;
    if (left < box.scrollLeft || left + thumb.offsetWidth > box.scrollLeft + box.clientWidth) {
      box.scrollLeft = left - box.clientWidth / 2 + thumb.offsetWidth / 2;
    }
  }
}

function currentShot(ms) {
  // shots are in time order: binary search for the last one starting at or before ms
  let lo = 0;
  let hi = state.shots.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (state.shots[mid].start_ms <= ms) {
      found = state.shots[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found && ms < found.end_ms ? found : null;
}

function describe(item) {
  const box = $("selected");
  box.replaceChildren(
    el("h3", {}, item.title),
    el("p", { class: "mono" }, `${fmt(item.start)} – ${fmt(item.end)}`, el("span", { class: "dim" }, `  (${fmt(item.end - item.start)})`)),
    ...item.facts.map(([k, v]) => el("p", {}, el("span", { class: "dim" }, `${k} `), v)),
  );
}

function pick(item) {
  describe(item);
  seek(item.start);
}

function facts(doc) {
  const v = doc.video;
  const rows = [
    ["duration", v.duration_ms == null ? "unknown" : fmt(v.duration_ms)],
    ["frames", v.frame_count == null ? "unknown" : `${v.frame_count} at ${v.fps ?? "?"} fps`],
    ["size", v.width && v.height ? `${v.width} × ${v.height}` : "unknown"],
    ["content", doc.content_range_ms ? `${fmt(doc.content_range_ms[0])} – ${fmt(doc.content_range_ms[1])}` : "not found"],
  ];
  for (const [feature, info] of Object.entries(doc.features || {})) {
    rows.push([feature, `${info.status}${info.engine ? ` · ${info.engine}` : ""}`]);
  }
  $("facts").replaceChildren(...rows.flatMap(([k, value]) => [el("dt", {}, k), el("dd", {}, value)]));
  const base = `/videos/${encodeURIComponent(v.id)}/timeline`;
  $("exports").replaceChildren(
    el("span", { class: "dim" }, "timeline as "),
    ...["json", "csv", "vtt", "edl", "otio"].map((f) =>
      el("a", { href: f === "json" ? base : `${base}?format=${f}`, download: "" }, f),
    ),
  );
}

function strip(thumbs) {
  const box = $("strip");
  const shots = thumbs?.shots || [];
  if (!shots.length) {
    box.append(el("p", { class: "dim strip-empty" }, thumbs?.error
      ? `No thumbnails: ${thumbs.error}`
      : "No shot thumbnails for this video (vidx clips ID --thumbnails makes them)."));
    return;
  }
  const byIndex = new Map(state.shots.map((s) => [s.index, s]));
  for (const t of shots) {
    const shot = byIndex.get(t.index);
    const start = shot ? shot.start_ms : t.at_ms;
    const figure = el(
      "button",
      { class: "thumb", type: "button", title: `shot ${t.index} at ${fmt(start)}`, dataset: { index: String(t.index), start: String(start) } },
      el("img", { src: t.url, alt: `shot ${t.index}`, loading: "lazy", width: t.width, height: t.height }),
      el("span", { class: "thumb-caption" }, el("b", {}, `#${t.index}`), ` ${fmt(start)}`),
    );
    figure.addEventListener("click", () => {
      const i = state.shots.indexOf(shot);
      if (i >= 0) {
        const item = state.timeline.items.get("shots")[i];
        state.timeline.select(item);
        describe(item);
      }
      seek(start);
    });
    box.append(figure);
  }
}

function playerMessage(text, kind) {
  const message = $("player-message");
  message.textContent = text;
  message.hidden = false;
  document.body.dataset.player = kind;
}

async function explainPlayerError(id) {
  // a <video> error says little: ask the media URL itself whether it is there at all
  let text = "This browser cannot play the source video (its codec or container). The timeline below still works.";
  try {
    const r = await fetch(`/videos/${encodeURIComponent(id)}/media`, { headers: { Range: "bytes=0-0" } });
    if (!r.ok) {
      const problem = await r.json().catch(() => null);
      text = `The source video is not available here: ${problem?.detail || `HTTP ${r.status}`}. The timeline below still works.`;
    }
  } catch {
    text = "The source video could not be loaded. The timeline below still works.";
  }
  state.usable = false;
  video.hidden = true;
  playerMessage(text, "unplayable");
}

function wirePlayer(id) {
  video.addEventListener("error", () => explainPlayerError(id));
  video.addEventListener("loadedmetadata", () => {
    if (video.videoWidth === 0) {
      // the container opened but no video track decodes (e.g. ProRes): sound and seeking may work
      playerMessage("This browser cannot decode the video track of this source (e.g. ProRes); only its sound can play. The timeline below still works.", "no-picture");
    } else {
      document.body.dataset.player = "ready";
    }
  });
  const tick = () => {
    showTime(video.currentTime * 1000, true);
    if (!video.paused) requestAnimationFrame(tick);
  };
  video.addEventListener("play", () => requestAnimationFrame(tick));
  video.addEventListener("seeked", () => showTime(video.currentTime * 1000, false));
  video.addEventListener("timeupdate", () => video.paused && showTime(video.currentTime * 1000, false));
  video.src = `/videos/${encodeURIComponent(id)}/media`;
}

function wireControls() {
  const tl = state.timeline;
  $("zoom-in").addEventListener("click", () => tl.zoomTo(tl.zoom * 2));
  $("zoom-out").addEventListener("click", () => tl.zoomTo(tl.zoom / 2));
  $("zoom-fit").addEventListener("click", () => tl.zoomTo(1));
  $("timeline").addEventListener("zoom", (e) => {
    $("zoom-level").textContent = `${e.detail < 10 ? e.detail.toFixed(1) : Math.round(e.detail)}×`;
  });
  $("search").addEventListener("input", (e) => tl.filter(e.target.value));
}

async function main() {
  const id = videoId();
  if (!id) {
    showMessage($("message"), "No video id in this address.");
    document.body.dataset.state = "error";
    return;
  }
  const enc = encodeURIComponent(id);
  let doc;
  try {
    doc = await getJSON(`/videos/${enc}/timeline`);
  } catch (err) {
    $("title").textContent = id;
    showMessage($("message"), `Cannot show video ${id}: ${err.message}`);
    document.body.dataset.state = "error";
    return;
  }
  // thumbnails are a nicety: a failure there still shows the timeline
  const thumbs = await getJSON(`/videos/${enc}/thumbnails`).catch((err) => ({ shots: [], error: err.message }));
  state.doc = doc;
  state.shots = doc.shots || [];
  state.fps = parseFps(doc.video.fps);
  const ends = Object.values(doc).filter(Array.isArray).flat().map((r) => r.end_ms || 0);
  const duration = doc.video.duration_ms || Math.max(1, ...ends);
  state.hours = duration >= 3600000;
  const name = String(doc.video.source || id).split(/[\\/]/).pop();
  $("title").textContent = name;
  $("title").title = String(doc.video.source || "");
  document.title = `vidx — ${name}`;
  $("meta").textContent = id;
  $("viewer").hidden = false;
  state.timeline = new Timeline($("timeline"), {
    durationMs: duration,
    contentRange: doc.content_range_ms,
    onSeek: seek,
    onPick: pick,
  });
  state.timeline.setLanes(buildLanes(doc, fmt));
  facts(doc);
  strip(thumbs);
  wireControls();
  wirePlayer(id);
  showTime(0, false);
  document.body.dataset.state = "ready";
}

main().catch((err) => {
  // a bug must not leave a silent blank page
  showMessage($("message"), `The viewer failed: ${err.message}`);
  document.body.dataset.state = "error";
});
