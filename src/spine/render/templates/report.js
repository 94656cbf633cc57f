// spine report: lineage on click, search. Vanilla JS, no network, no eval, text via textContent only.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("spine-data").textContent);
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
})();
