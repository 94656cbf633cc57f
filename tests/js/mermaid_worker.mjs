// Mermaid's own parser and renderer as a line-oriented worker for tests/test_render_mermaid.py.
//
// Mermaid needs a DOM: jsdom provides it, with a stand-in for text measurement (jsdom does no
// layout), so `mermaid.render` runs exactly the code a browser or GitHub runs to turn a label
// into HTML — entity decoding, sanitising, `\n` handling, icons, KaTeX — only the sizes are fake.
//
// Protocol: one JSON object per stdin line, `{"chart": "flowchart TB\n..."}`; one JSON object
// per stdout line in reply, `{"error": null | "message", "labels": {"n0": {"text": "...",
// "tags": ["p", "br", ...]}}}`. `text` is what the node's label shows: its text with each
// `<br>` as "\n"; `tags` are the element names inside the label, in document order.
// The first line printed is `{"ready": true}` once mermaid is loaded.
//
// Run: node tests/js/mermaid_worker.mjs (module resolution starts next to this file, so the
// packages come from tests/js/node_modules, installed by `npm ci` there).
import { createInterface } from "node:readline";
import { format } from "node:util";

// stdout carries the replies only: anything mermaid or jsdom prints goes to stderr.
for (const level of ["log", "info", "warn", "error", "debug", "trace"]) {
  console[level] = (...args) => process.stderr.write(format(...args) + "\n");
}

const { JSDOM } = await import("jsdom");
const dom = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
for (const key of Object.getOwnPropertyNames(dom.window)) {
  if (!(key in globalThis)) {
    try {
      globalThis[key] = dom.window[key];
    } catch {
      // a read-only global of node's own: keep node's
    }
  }
}
globalThis.window = dom.window;
globalThis.document = dom.window.document;
// jsdom has no layout: a fixed-width font is enough for mermaid to place the nodes.
const measure = function () {
  const n = (this.textContent || "").length;
  return { x: 0, y: 0, width: 8 * n, height: 16, top: 0, left: 0, right: 8 * n, bottom: 16 };
};
dom.window.SVGElement.prototype.getBBox = measure;
dom.window.SVGElement.prototype.getComputedTextLength = function () {
  return 8 * (this.textContent || "").length;
};
dom.window.HTMLElement.prototype.getBoundingClientRect = measure;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

function labelOf(el) {
  let text = "";
  const tags = [];
  const walk = (node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === 3) {
        text += child.data;
      } else if (child.nodeType === 1) {
        const tag = child.tagName.toLowerCase();
        tags.push(tag);
        if (tag === "br") text += "\n";
        walk(child);
      }
    }
  };
  walk(el);
  return { text, tags };
}

let count = 0;
async function handle(chart) {
  try {
    await mermaid.parse(chart);
  } catch (e) {
    return { error: `parse: ${e?.message ?? e}`, labels: {} };
  }
  const id = `chart${count++}`;
  let svg;
  try {
    ({ svg } = await mermaid.render(id, chart));
  } catch (e) {
    return { error: `render: ${e?.message ?? e}`, labels: {} };
  }
  const holder = document.createElement("div");
  holder.innerHTML = svg;
  const labels = {};
  for (const g of holder.querySelectorAll("g.node")) {
    const m = /^chart\d+-flowchart-(.+)-\d+$/.exec(g.id);
    const label = g.querySelector("span.nodeLabel") ?? g.querySelector("g.label");
    if (m && label) labels[m[1]] = labelOf(label);
  }
  return { error: null, labels };
}

process.stdout.write(JSON.stringify({ ready: true }) + "\n");
// One request at a time, in order: the reply to line k is line k of the output.
let queue = Promise.resolve();
createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  queue = queue.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line).chart);
    } catch (e) {
      reply = { error: `worker: ${e?.message ?? e}`, labels: {} };
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
  });
});
