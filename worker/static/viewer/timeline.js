// The lanes on a zoomable, pannable time axis. One scroller holds every row: a sticky
// head column on the left and the tracks, whose width is the zoom times the visible
// width. Ranges are placed in percent of the track, so zooming only changes one CSS
// variable; the ruler's ticks are drawn for the visible stretch only.
import { el, formatMs } from "/static/viewer/common.js";

const HEAD_W = 210; // px; the sticky head column
const MAX_PX_PER_MS = 0.5; // deepest zoom: 500 px per second (20 px per frame at 25 fps)
const MIN_TICK_PX = 90;
const STEPS_MS = [
  10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000,
  600000, 900000, 1800000, 3600000,
];

/** Greedy interval packing: each item gets the first level free at its start. */
function pack(items) {
  const ends = [];
  for (const item of items) {
    let level = ends.findIndex((end) => end <= item.start);
    if (level < 0) level = ends.push(0) - 1;
    ends[level] = Math.max(item.end, item.start + 1);
    item.level = level;
  }
  return Math.max(1, ends.length);
}

export class Timeline {
  /**
   * @param root element to fill
   * @param opts {durationMs, contentRange: [a, b] | null, onSeek(ms), onPick(item)}
   */
  constructor(root, opts) {
    this.root = root;
    this.duration = Math.max(1, opts.durationMs);
    this.onSeek = opts.onSeek;
    this.onPick = opts.onPick;
    this.zoom = 1;
    this.items = new Map(); // lane key -> its items, in the order of the data
    this.scroll = el("div", { class: "tl-scroll", tabindex: "0" });
    this.content = el("div", { class: "tl-content" });
    this.content.style.setProperty("--head-w", `${HEAD_W}px`);
    this.ruler = el("div", { class: "tl-track tl-ruler" });
    this.playhead = el("div", { class: "tl-playhead" });
    this.overlay = el("div", { class: "tl-overlay" }, this.playhead);
    this.content.append(
      el("div", { class: "tl-row tl-ruler-row" }, el("div", { class: "tl-head" }, "time"), this.ruler),
      this.overlay,
    );
    this._contentRange(opts.contentRange);
    this.scroll.append(this.content);
    root.append(this.scroll);
    this._wire();
  }

  pct(ms) {
    return `${(Math.min(Math.max(ms, 0), this.duration) / this.duration) * 100}%`;
  }

  get trackWidth() {
    return Math.max(100, (this.scroll.clientWidth - HEAD_W) * this.zoom);
  }

  get maxZoom() {
    const base = Math.max(100, this.scroll.clientWidth - HEAD_W);
    return Math.max(1, (MAX_PX_PER_MS * this.duration) / base);
  }

  /** Lanes: [{key, title, count, empty, grouped, filterable, rows: [{name, note, items}]}]. */
  setLanes(lanes) {
    for (const lane of lanes) this.content.insertBefore(this._lane(lane), this.overlay);
    this.layout();
  }

  _lane(lane) {
    const all = lane.rows.flatMap((row) => row.items);
    this.items.set(lane.key, all);
    all.forEach((item, i) => Object.assign(item, { lane: lane.key, i }));
    const count = el("span", { class: "tl-count", dataset: { count: String(lane.count) } }, lane.count);
    const shown = el("span", { class: "tl-shown" });
    const toggle = lane.grouped && all.length ? el("span", { class: "tl-toggle", "aria-hidden": "true" }) : null;
    const head = el(
      "div",
      { class: "tl-head tl-lane-title", title: lane.tip || null },
      toggle,
      el("span", { class: "tl-name" }, lane.title),
      count,
      shown,
    );
    const section = el("section", { class: `tl-lane lane-${lane.key}`, dataset: { lane: lane.key } });
    const headTrack = el("div", { class: "tl-track" });
    section.append(el("div", { class: "tl-row tl-lane-row" }, head, headTrack));
    if (!all.length) {
      headTrack.append(el("span", { class: "tl-empty" }, lane.empty || "none"));
      return section;
    }
    if (!lane.grouped) {
      this._fill(headTrack, lane.rows[0].items, "tl-range");
      this._beyond(headTrack, lane.rows[0].items);
      return section;
    }
    // a grouped lane: a summary of every range on the head row, then one row per name
    this._fill(headTrack, all, "tl-mark", true);
    for (const row of lane.rows) {
      const rowHead = el(
        "div",
        { class: "tl-head tl-sub-title", title: row.tip || row.name },
        el("span", { class: "tl-name" }, row.name),
        row.note ? el("span", { class: "tl-note" }, row.note) : null,
        el("span", { class: "tl-sub-count" }, row.items.length),
      );
      const track = el("div", { class: "tl-track" });
      this._fill(track, row.items, "tl-range");
      this._beyond(track, row.items);
      section.append(el("div", { class: "tl-row tl-sub", dataset: { name: row.name } }, rowHead, track));
    }
    section.append(el("div", { class: "tl-row tl-nomatch", hidden: true }, el("div", { class: "tl-head dim" }, "no name matches"), el("div", { class: "tl-track" })));
    head.addEventListener("click", () => section.classList.toggle("collapsed"));
    Object.assign(section, { _shown: shown, _all: all.length });
    return section;
  }

  _fill(track, items, cls, flat = false) {
    const levels = flat ? 1 : pack(items);
    track.style.setProperty("--levels", String(levels));
    for (const item of items) {
      const node = el(
        "div",
        {
          class: `${cls} ${item.cls || ""}`,
          title: item.tip,
          dataset: { lane: item.lane, i: String(item.i), start: String(item.start) },
        },
        item.text && cls === "tl-range" ? el("span", {}, item.text) : null,
      );
      node.style.left = this.pct(item.start);
      node.style.width = `calc(${this.pct(item.end)} - ${this.pct(item.start)})`;
      node.style.setProperty("--level", String(flat ? 0 : item.level));
      if (cls === "tl-range") item.node = node;
      // results that start after the video's end (e.g. imported from a longer cut) have
      // no place on this axis: kept in the DOM and the counts, not drawn
      if (item.start >= this.duration) node.classList.add("tl-beyond");
      track.append(node);
    }
  }

  /** A note at the track's end for ranges that start after the video's end. */
  _beyond(track, items) {
    const n = items.filter((item) => item.start >= this.duration).length;
    if (!n) return;
    const tip = `${n} range(s) start after the video's end (${formatMs(this.duration)})`;
    track.append(el("span", { class: "tl-after", title: tip }, `+${n} after end ›`));
  }

  _contentRange(range) {
    if (!range) return;
    const [a, b] = range;
    // shade what lies outside the programme; bracket it on the ruler
    this.overlay.append(
      el("div", { class: "tl-outside", style: { left: "0", width: this.pct(a) } }),
      el("div", { class: "tl-outside", style: { left: this.pct(b), right: "0" } }),
    );
    const tip = `content ${formatMs(a)} – ${formatMs(b)}`;
    this.ruler.append(
      el("div", { class: "tl-content-range", title: tip, style: { left: this.pct(a), width: `calc(${this.pct(b)} - ${this.pct(a)})` } }),
    );
  }

  /** Show only the rows of filterable lanes whose name contains the text (any case). */
  filter(text) {
    const q = text.trim().toLowerCase();
    for (const section of this.content.querySelectorAll(".tl-lane")) {
      const rows = section.querySelectorAll(".tl-sub");
      if (!rows.length) continue;
      let shownRanges = 0;
      let shownRows = 0;
      for (const row of rows) {
        const match = !q || row.dataset.name.toLowerCase().includes(q);
        row.hidden = !match;
        if (match) {
          shownRows += 1;
          shownRanges += row.querySelectorAll(".tl-range").length;
        }
      }
      const hiddenNames = new Set([...rows].filter((r) => r.hidden).map((r) => r.dataset.name));
      for (const mark of section.querySelectorAll(".tl-mark")) {
        const item = this.items.get(mark.dataset.lane)[Number(mark.dataset.i)];
        mark.hidden = hiddenNames.has(item.name);
      }
      section.querySelector(".tl-nomatch").hidden = shownRows > 0;
      section._shown.textContent = q ? `${shownRanges} shown` : "";
      if (q) section.classList.remove("collapsed");
    }
  }

  setTime(ms, follow = false) {
    this.playhead.style.left = this.pct(ms);
    if (!follow || this.zoom <= 1) return;
    const visible = this.scroll.clientWidth - HEAD_W;
    const x = (ms / this.duration) * this.trackWidth - this.scroll.scrollLeft;
    if (x < 0 || x > visible * 0.95) this.scroll.scrollLeft += x - visible * 0.1;
  }

  /** Mark one range of a lane (e.g. the shot under the playhead); null clears. */
  mark(laneKey, index, cls) {
    for (const node of this.content.querySelectorAll(`.tl-range.${cls}`)) {
      if (node.dataset.lane === laneKey) node.classList.remove(cls);
    }
    const item = index === null ? null : this.items.get(laneKey)?.[index];
    if (item?.node) item.node.classList.add(cls);
  }

  select(item) {
    for (const node of this.content.querySelectorAll(".tl-range.selected")) {
      node.classList.remove("selected");
    }
    if (item?.node) item.node.classList.add("selected");
  }

  layout() {
    this.zoom = Math.min(this.zoom, this.maxZoom);
    this.content.style.setProperty("--track-w", `${this.trackWidth}px`);
    this._ruler();
  }

  /** Zoom to `zoom`, keeping the time under clientX (default: the middle) in place. */
  zoomTo(zoom, clientX = null) {
    const rect = this.scroll.getBoundingClientRect();
    const visible = rect.width - HEAD_W;
    const x = clientX === null ? visible / 2 : Math.min(Math.max(clientX - rect.left - HEAD_W, 0), visible);
    const at = (this.scroll.scrollLeft + x) / this.trackWidth;
    this.zoom = Math.min(Math.max(zoom, 1), this.maxZoom);
    this.content.style.setProperty("--track-w", `${this.trackWidth}px`);
    this.scroll.scrollLeft = at * this.trackWidth - x;
    this._ruler();
    this.root.dispatchEvent(new CustomEvent("zoom", { detail: this.zoom }));
  }

  _ruler() {
    const width = this.trackWidth;
    const pxPerMs = width / this.duration;
    const step = STEPS_MS.find((s) => s * pxPerMs >= MIN_TICK_PX) ?? STEPS_MS.at(-1);
    const view = this.scroll.clientWidth;
    const from = Math.max(0, Math.floor((this.scroll.scrollLeft - view) / pxPerMs / step) * step);
    const to = Math.min(this.duration, (this.scroll.scrollLeft + 2 * view) / pxPerMs);
    for (const tick of this.ruler.querySelectorAll(".tl-tick")) tick.remove();
    const ticks = [];
    for (let t = from; t <= to; t += step) {
      const text = step % 1000 === 0 ? formatMs(t).replace(/\.000$/, "") : formatMs(t);
      ticks.push(el("div", { class: "tl-tick", style: { left: this.pct(t) } }, el("span", {}, text)));
    }
    this.ruler.append(...ticks);
    this.ruler.style.setProperty("--minor", `${(step / 5) * pxPerMs}px`);
  }

  _timeAt(clientX) {
    const rect = this.scroll.getBoundingClientRect();
    const x = clientX - rect.left - HEAD_W + this.scroll.scrollLeft;
    return Math.min(Math.max((x / this.trackWidth) * this.duration, 0), this.duration);
  }

  _wire() {
    let drag = null;
    const s = this.scroll;
    s.addEventListener("pointerdown", (e) => {
      if (e.button !== 0 || !e.target.closest(".tl-track")) return;
      drag = { x: e.clientX, left: s.scrollLeft, moved: false, target: e.target };
      s.setPointerCapture(e.pointerId);
    });
    s.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      if (Math.abs(dx) > 4) {
        drag.moved = true;
        s.classList.add("panning");
      }
      if (drag.moved) s.scrollLeft = drag.left - dx;
    });
    const end = (e) => {
      if (!drag) return;
      const { moved, target } = drag;
      drag = null;
      s.classList.remove("panning");
      if (moved || e.type === "pointercancel") return;
      const hit = target.closest(".tl-range, .tl-mark");
      if (hit) {
        const item = this.items.get(hit.dataset.lane)[Number(hit.dataset.i)];
        this.select(item);
        this.onPick(item);
      } else {
        this.onSeek(this._timeAt(e.clientX));
      }
    };
    s.addEventListener("pointerup", end);
    s.addEventListener("pointercancel", end);
    s.addEventListener(
      "wheel",
      (e) => {
        if (!(e.ctrlKey || e.metaKey || e.target.closest(".tl-ruler-row"))) return;
        e.preventDefault();
        this.zoomTo(this.zoom * Math.exp(-e.deltaY * 0.002), e.clientX);
      },
      { passive: false },
    );
    let queued = false;
    s.addEventListener("scroll", () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this._ruler();
      });
    });
    s.addEventListener("keydown", (e) => {
      const keys = { "+": 2, "=": 2, "-": 0.5, _: 0.5 };
      if (keys[e.key]) this.zoomTo(this.zoom * keys[e.key]);
      else if (e.key === "0") this.zoomTo(1);
      else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
        s.scrollLeft += (e.key === "ArrowLeft" ? -0.25 : 0.25) * (s.clientWidth - HEAD_W);
      } else return;
      e.preventDefault();
    });
    new ResizeObserver(() => this.layout()).observe(s);
  }
}
