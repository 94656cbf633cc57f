// spine report: lineage on click, search, pan and zoom. Vanilla JS, no network, no eval, text via textContent only.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("spine-data").textContent);
  var zoom = panZoom(document.getElementById("svg"));
  var byId = {}, children = {};
  data.nodes.forEach(function (n) { byId[n.id] = n; children[n.id] = []; });
  data.nodes.forEach(function (n) { n.deps.forEach(function (d) { if (children[d]) children[d].push(n.id); }); });

  function walk(start, next) {
    var seen = {}, stack = next(start).slice(), out = [];
    while (stack.length) {
      var id = stack.pop();
      if (seen[id] || id === start) continue;
      seen[id] = true; out.push(id);
      Array.prototype.push.apply(stack, next(id));
    }
    return out;
  }
  function parents(id) { return byId[id] ? byId[id].deps : []; }
  function kids(id) { return children[id] || []; }
  function names(ids) {
    return ids.filter(function (i) { return byId[i] && !byId[i].ghost; })
      .sort(function (a, b) { return (byId[a].order === null ? 1e9 : byId[a].order) - (byId[b].order === null ? 1e9 : byId[b].order); })
      .map(function (i) { return byId[i].name; });
  }
  function fill(el, items) {
    el.textContent = "";
    if (el.tagName === "UL") {
      items.forEach(function (t) { var li = document.createElement("li"); li.textContent = t; el.appendChild(li); });
    } else {
      el.textContent = items.length ? items.join(", ") : "nothing";
    }
  }
  function classes(id, anc, desc) {
    var sets = {}; sets[id] = "sel";
    anc.forEach(function (a) { sets[a] = "anc"; });
    desc.forEach(function (d) { sets[d] = "desc"; });
    document.querySelectorAll("#step-table tr.step").forEach(function (tr) {
      tr.classList.remove("sel", "anc", "desc");
      var c = sets[tr.getAttribute("data-node")]; if (c) tr.classList.add(c);
    });
    document.querySelectorAll("#svg g.node").forEach(function (g) {
      var nid = g.id.replace(/^node-/, "");
      g.classList.remove("sel", "dim");
      if (id === null) return;
      if (nid === id) g.classList.add("sel"); else if (!sets[nid]) g.classList.add("dim");
    });
    document.querySelectorAll("#svg g.edge").forEach(function (g) {
      var m = /^edge-([a-z0-9]+)-([a-z0-9]+)$/.exec(g.id);
      g.classList.remove("dim");
      if (id === null || !m) return;
      if (!(sets[m[1]] && sets[m[2]])) g.classList.add("dim");
    });
  }
  function select(id) {
    var panel = document.getElementById("lineage");
    if (id === null || !byId[id]) { panel.hidden = true; classes(null, [], []); return; }
    var anc = walk(id, parents), desc = walk(id, kids), me = byId[id];
    panel.hidden = false;
    document.getElementById("sel-name").textContent = me.name;
    document.getElementById("anc-count").textContent = String(names(anc).length);
    document.getElementById("desc-count").textContent = String(names(desc).length);
    fill(document.getElementById("anc-list"), names(anc));
    fill(document.getElementById("desc-list"), names(desc));
    fill(document.getElementById("skip-continue"), names(desc));
    // Under "stop", dependents are skipped and nothing new starts: in a sequential run every
    // later step; in a parallel run every step that is not upstream and not already running
    // (at most: the later generations and the rest of its own).
    var ancSet = {}; anc.forEach(function (a) { ancSet[a] = true; });
    var stopped = data.nodes.filter(function (n) {
      if (n.ghost || n.id === id || ancSet[n.id] || me.order === null || n.order === null) return false;
      return data.policy.execution === "parallel" ? n.generation >= me.generation : n.order > me.order;
    }).map(function (n) { return n.id; });
    fill(document.getElementById("skip-stop"), names(stopped));
    classes(id, anc, desc);
    var row = document.getElementById("row-" + id);
    if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
    if (zoom) zoom.reveal(document.getElementById("node-" + id));
  }
  document.querySelectorAll("#svg g.node").forEach(function (g) {
    g.addEventListener("click", function () { select(g.id.replace(/^node-/, "")); });
  });
  document.querySelectorAll("#step-table tr.step").forEach(function (tr) {
    tr.addEventListener("click", function () { select(tr.getAttribute("data-node")); });
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter") select(tr.getAttribute("data-node")); });
  });
  document.getElementById("clear").addEventListener("click", function () { select(null); });
  var search = document.getElementById("search");
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    document.querySelectorAll("#step-table tr.step").forEach(function (tr) {
      var text = tr.textContent.toLowerCase(), hit = q !== "" && text.indexOf(q) >= 0;
      tr.classList.toggle("hidden", q !== "" && !hit);
      tr.classList.toggle("match", hit);
    });
    document.querySelectorAll("#svg g.node").forEach(function (g) {
      var n = byId[g.id.replace(/^node-/, "")];
      g.classList.toggle("match", !!(q && n && n.name.toLowerCase().indexOf(q) >= 0));
    });
  });
  window.spineSelect = select;

  // Fold and unfold nested groups: a folded group's rows are hidden in the step table and
  // its steps (and the edges between them) in the picture; its box and heading stay.
  var folded = {};
  function insideOf(el) {
    var ids = (el.getAttribute("data-in") || "").split(" ").filter(Boolean);
    (el.getAttribute("class") || "").split(/\s+/).forEach(function (c) { if (/^in-c\d+$/.test(c)) ids.push(c.slice(3)); });
    return ids;
  }
  function hiddenBy(el) { return insideOf(el).some(function (c) { return folded[c]; }); }
  function applyFolds() {
    document.querySelectorAll("#step-table tr[data-in]").forEach(function (tr) { tr.hidden = hiddenBy(tr); });
    document.querySelectorAll("#svg .node, #svg .edge").forEach(function (g) { g.classList.toggle("folded", hiddenBy(g)); });
    document.querySelectorAll("button.fold").forEach(function (b) {
      var c = b.getAttribute("data-fold");
      b.setAttribute("aria-expanded", folded[c] ? "false" : "true");
      b.textContent = folded[c] ? "▸" : "▾";
      var box = document.getElementById("cluster-" + c);
      if (box) box.classList.toggle("folded-group", !!folded[c]);
    });
  }
  function toggleFold(c) { folded[c] = !folded[c]; applyFolds(); }
  document.querySelectorAll("button.fold").forEach(function (b) {
    b.addEventListener("click", function (e) { e.stopPropagation(); toggleFold(b.getAttribute("data-fold")); });
  });
  document.querySelectorAll("#svg g.cluster").forEach(function (g) {
    g.addEventListener("click", function () { toggleFold(g.id.replace(/^cluster-/, "")); });
  });
  window.spineFold = toggleFold;

  // Pan and zoom by moving the SVG's viewBox: wheel or +/- to zoom (around the pointer),
  // drag or arrow keys to pan, 0 or "reset" for the whole graph. Without script the
  // picture keeps its natural size in a scrolling box.
  function panZoom(wrap) {
    var svg = wrap && wrap.querySelector("svg");
    var box = svg && svg.viewBox && svg.viewBox.baseVal;
    if (!box || !(box.width > 0 && box.height > 0)) return null;
    var home = { x: box.x, y: box.y, w: box.width, h: box.height };
    var natW = svg.width.baseVal.value || home.w, natH = svg.height.baseVal.value || home.h;
    var vb = { x: home.x, y: home.y, w: home.w, h: home.h };
    wrap.classList.add("zoomable");
    wrap.tabIndex = 0;
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", String(Math.round(Math.min(natH, Math.max(240, window.innerHeight * 0.75)))));
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    var bar = document.getElementById("zoom-bar");
    if (bar) bar.hidden = false;

    function apply() { svg.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].map(function (v) { return +v.toFixed(2); }).join(" ")); }
    function toUser(cx, cy) {
      var m = svg.getScreenCTM();
      if (!m) return { x: vb.x + vb.w / 2, y: vb.y + vb.h / 2 };
      var p = new DOMPoint(cx, cy).matrixTransform(m.inverse());
      return { x: p.x, y: p.y };
    }
    function centre() { return { x: vb.x + vb.w / 2, y: vb.y + vb.h / 2 }; }
    function zoomBy(factor, at) {
      // At most 4x the natural size; at least half of the whole graph.
      var minW = Math.min(home.w, (wrap.clientWidth || natW) * home.w / natW / 4), maxW = home.w * 2;
      var w = Math.max(minW, Math.min(maxW, vb.w / factor)), f = vb.w / w;
      at = at || centre();
      vb = { x: at.x - (at.x - vb.x) / f, y: at.y - (at.y - vb.y) / f, w: w, h: vb.h / f };
      apply();
    }
    function panBy(dx, dy) { vb.x += dx; vb.y += dy; apply(); }
    function reset() { vb = { x: home.x, y: home.y, w: home.w, h: home.h }; apply(); }

    wrap.addEventListener("wheel", function (e) {
      e.preventDefault();
      var dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1);
      zoomBy(Math.pow(1.002, -dy), toUser(e.clientX, e.clientY));
    }, { passive: false });

    var drag = null, justDragged = false;
    wrap.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      var m = svg.getScreenCTM();
      drag = { id: e.pointerId, x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y, scale: m ? m.a : 1, moved: false };
    });
    wrap.addEventListener("pointermove", function (e) {
      if (!drag || e.pointerId !== drag.id) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) { drag.moved = true; wrap.classList.add("dragging"); if (wrap.setPointerCapture) wrap.setPointerCapture(e.pointerId); }
      vb.x = drag.vx - dx / drag.scale; vb.y = drag.vy - dy / drag.scale;
      apply();
    });
    function endDrag(e) {
      if (!drag || e.pointerId !== drag.id) return;
      justDragged = drag.moved;
      wrap.classList.remove("dragging");
      drag = null;
    }
    wrap.addEventListener("pointerup", endDrag);
    wrap.addEventListener("pointercancel", endDrag);
    // A drag that ends on a step is not a click on it.
    wrap.addEventListener("click", function (e) { if (justDragged) { e.stopPropagation(); e.preventDefault(); } justDragged = false; }, true);

    wrap.addEventListener("keydown", function (e) {
      var step = 0.1, k = e.key;
      if (k === "+" || k === "=") zoomBy(1.25);
      else if (k === "-" || k === "_") zoomBy(0.8);
      else if (k === "0") reset();
      else if (k === "ArrowLeft") panBy(-vb.w * step, 0);
      else if (k === "ArrowRight") panBy(vb.w * step, 0);
      else if (k === "ArrowUp") panBy(0, -vb.h * step);
      else if (k === "ArrowDown") panBy(0, vb.h * step);
      else return;
      e.preventDefault();
    });
    function button(id, fn) { var b = document.getElementById(id); if (b) b.addEventListener("click", fn); }
    button("zoom-in", function () { zoomBy(1.25); });
    button("zoom-out", function () { zoomBy(0.8); });
    button("zoom-reset", reset);

    return {
      // Bring a step's box into view when it is selected elsewhere (the step table).
      reveal: function (g) {
        if (!g) return;
        var r = g.getBoundingClientRect(), w = wrap.getBoundingClientRect();
        if (r.left >= w.left && r.right <= w.right && r.top >= w.top && r.bottom <= w.bottom) return;
        var c = toUser(r.left + r.width / 2, r.top + r.height / 2);
        vb.x = c.x - vb.w / 2; vb.y = c.y - vb.h / 2;
        apply();
      }
    };
  }
})();
