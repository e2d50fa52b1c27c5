// The list of indexed videos (GET /videos, paged by cursor), each linking to its viewer.
import { el, formatMs, getJSON, showMessage } from "/static/viewer/common.js";

const body = document.body;
const table = document.getElementById("videos");
const rows = table.querySelector("tbody");
const more = document.getElementById("more");
const message = document.getElementById("message");

function row(item) {
  const id = String(item.video_id ?? item.id ?? "");
  const name = item.filename || (item.source ? String(item.source).split("/").pop() : id);
  const features = Object.entries(item.features || {}).map(([feature, info]) =>
    el("span", { class: `tag state-${String(info?.status ?? "").toLowerCase()}` }, feature),
  );
  const status = String(item.status ?? "");
  return el(
    "tr",
    { dataset: { videoId: id } },
    el("td", {}, el("a", { href: `/videos/${encodeURIComponent(id)}/view` }, name)),
    el("td", {}, el("span", { class: `status status-${status.toLowerCase()}` }, status)),
    el("td", {}, el("div", { class: "tags" }, ...features)),
    el("td", { class: "mono" }, item.duration_ms == null ? "" : formatMs(item.duration_ms)),
    el("td", { class: "mono dim" }, id),
  );
}

async function load(cursor) {
  const params = new URLSearchParams({ limit: "50" });
  if (cursor) params.set("cursor", cursor);
  more.hidden = true;
  try {
    const page = await getJSON(`/videos?${params}`);
    for (const item of page.items || []) rows.append(row(item));
    table.hidden = rows.children.length === 0;
    if (rows.children.length === 0) {
      showMessage(message, "No videos indexed yet: `vidx run VIDEO` indexes one.", "info");
    }
    if (page.next_cursor) {
      more.hidden = false;
      more.onclick = () => load(page.next_cursor);
    }
    body.dataset.state = "ready";
  } catch (err) {
    showMessage(message, `Cannot list videos: ${err.message}`);
    body.dataset.state = "error";
  }
}

load(null);
