// Helpers shared by the viewer pages. Text from the data only ever goes through
// textContent / attributes (never innerHTML), so a label or file name cannot inject markup.

/** Create an element: el("div", {class: "x", title: "y"}, child, "text", ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTTP failure carrying the API's problem details (RFC 9457) when it sent them. */
export class HttpProblem extends Error {
  constructor(url, status, problem) {
    const detail = (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
    super(detail);
    this.url = url;
    this.status = status;
    this.problem = problem;
  }
}

export async function getJSON(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (err) {
    throw new HttpProblem(url, 0, { detail: `cannot reach the server (${err.message})` });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new HttpProblem(url, response.status, problem);
  }
  return response.json();
}

/** Milliseconds as [H:]MM:SS.mmm (hours only when the video has them). */
export function formatMs(ms, withHours = false) {
  const neg = ms < 0;
  let rest = Math.round(Math.abs(ms));
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hours = (rest - min) / 60;
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  const head = hours > 0 || withHours ? `${hours}:${pad(min)}` : pad(min);
  return `${neg ? "-" : ""}${head}:${pad(sec)}.${pad(milli, 3)}`;
}

/** "25/1" or "30000/1001" → frames per second (null when unknown). */
export function parseFps(text) {
  if (!text) return null;
  const [num, den] = String(text).split("/").map(Number);
  const fps = den ? num / den : num;
  return Number.isFinite(fps) && fps > 0 ? fps : null;
}

export function showMessage(node, text, kind = "error") {
  node.textContent = text;
  node.className = `notice ${kind}`;
  node.hidden = false;
}
