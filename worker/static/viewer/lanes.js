// The timeline document (vidx.timeline/1) turned into the viewer's lanes: one per kind,
// with the count of the document's entries; labels and moderation get a row per name, and
// the lines of text share one row (a programme's credits hold hundreds of lines).

const pctText = (c) => (c == null ? "–" : `${Number(c).toFixed(1)}%`);

function status(doc, feature) {
  const info = (doc.features || {})[feature];
  if (!info) return `not analysed (feature ${feature})`;
  if (info.status !== "SUCCEEDED") return `${feature}: ${info.status}`;
  return "none found";
}

function byName(items) {
  const rows = new Map();
  for (const item of items) {
    if (!rows.has(item.name)) rows.set(item.name, []);
    rows.get(item.name).push(item);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => ({ name, items: list, note: list[0].note, tip: list[0].rowTip }));
}

export function buildLanes(doc, fmt) {
  const span = (r) => `${fmt(r.start_ms)} – ${fmt(r.end_ms)}`;
  const shots = (doc.shots || []).map((r, n) => ({
    start: r.start_ms,
    end: r.end_ms,
    text: String(r.index),
    cls: n % 2 ? "odd" : "even",
    title: `Shot ${r.index}`,
    tip: `shot ${r.index} · ${span(r)} · frames ${r.start_frame}–${r.end_frame}`,
    facts: [["frames", `${r.start_frame} – ${r.end_frame}`], ["confidence", pctText(r.confidence)]],
  }));
  const cues = (doc.technical_cues || []).map((r) => ({
    start: r.start_ms,
    end: r.end_ms,
    text: r.type,
    cls: `cue-${String(r.type).replace(/[^A-Za-z]/g, "")}`,
    title: r.type,
    tip: `${r.type} · ${span(r)}`,
    facts: [["confidence", pctText(r.confidence)]],
  }));
  const labels = (doc.labels || []).map((r) => ({
    name: r.name,
    start: r.start_ms,
    end: r.end_ms,
    title: r.name,
    note: (r.parents || [])[0] || "",
    rowTip: [r.name, ...(r.parents || [])].join(" ‹ "),
    tip: `${r.name} · ${span(r)} · ${pctText(r.max_confidence)} · ${r.detections} detection(s)`,
    facts: [
      ["parents", (r.parents || []).join(", ") || "–"],
      ["max confidence", pctText(r.max_confidence)],
      ["detections", String(r.detections)],
    ],
  }));
  const moderation = (doc.moderation || []).map((r) => ({
    name: r.name,
    start: r.start_ms,
    end: r.end_ms,
    title: r.name,
    note: r.parent || "",
    rowTip: r.parent ? `${r.name} ‹ ${r.parent}` : r.name,
    tip: `${r.name} · ${span(r)} · ${pctText(r.max_confidence)} · ${r.detections} detection(s)`,
    facts: [
      ["category", r.parent || "top level"],
      ["max confidence", pctText(r.max_confidence)],
      ["detections", String(r.detections)],
    ],
  }));
  const faces = (doc.faces || []).map((r, n) => ({
    start: r.start_ms,
    end: r.end_ms,
    title: `Face range ${n + 1}`,
    tip: `face · ${span(r)} · ${pctText(r.max_confidence)} · ${r.detections} detection(s)`,
    facts: [
      ["max confidence", pctText(r.max_confidence)],
      ["detections", String(r.detections)],
      ...Object.entries(r.attributes || {}).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]),
    ],
  }));
  const text = (doc.text || []).map((r) => ({
    start: r.start_ms,
    end: r.end_ms,
    text: r.name,
    title: r.name,
    tip: `“${r.name}” · ${span(r)} · ${pctText(r.max_confidence)} · ${r.detections} detection(s)`,
    facts: [
      ["type", r.type || "LINE"],
      ["max confidence", pctText(r.max_confidence)],
      ["detections", String(r.detections)],
    ],
  }));
  return [
    { key: "shots", title: "Shots", count: shots.length, empty: status(doc, "segments"), rows: [{ items: shots }] },
    { key: "cues", title: "Technical cues", count: cues.length, empty: status(doc, "segments"), rows: [{ items: cues }] },
    { key: "labels", title: "Labels", count: labels.length, empty: status(doc, "labels"), grouped: true, rows: byName(labels) },
    { key: "moderation", title: "Moderation", count: moderation.length, empty: status(doc, "moderation"), grouped: true, rows: byName(moderation) },
    { key: "faces", title: "Faces", count: faces.length, empty: status(doc, "faces"), rows: [{ items: faces }] },
    { key: "text", title: "Text", count: text.length, empty: status(doc, "text"), rows: [{ items: text }] },
  ];
}
