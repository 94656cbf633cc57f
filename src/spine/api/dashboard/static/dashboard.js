// spine dashboard: small vanilla JS, no dependencies, served from this origin only.
//
// Every write goes to the JSON API (/api/v1/...) with the session cookie and the CSRF
// double-submit header (X-CSRF-Token = the spine_csrf cookie). Live updates poll the
// dashboard's own endpoints: JSON keyed by graph node ids (n0, n1 ...) for the group page,
// server-rendered (escaped) HTML fragments for the runs list and the run page. Text from
// the server is only ever set with textContent; fragments are HTML the server escaped.
(function () {
  "use strict";

  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function toLogin() {
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  }

  // POST json to the API; resolves to {ok, status, data}.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": cookie("spine_csrf") },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
        return { ok: r.ok, status: r.status, data: data };
      });
    });
  }

  function problem(res) {
    var d = res.data || {};
    var text = d.detail || d.title || ("HTTP " + res.status);
    if (d.errors && d.errors.length) {
      text += ": " + d.errors.map(function (e) { return e.message || e.msg || JSON.stringify(e); }).join("; ");
    }
    return text;
  }

  function say(el, text, bad) {
    if (!el) return;
    el.textContent = text;
    el.className = bad ? "bad" : "";
  }

  function get(url, accept) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": accept } }).then(function (r) {
      if (r.status === 401) { toLogin(); throw new Error("signed out"); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r;
    });
  }

  // A value typed into the Run form: JSON when it parses (5, true, [1, 2], "x"), else text.
  function value(raw) {
    try { return JSON.parse(raw); } catch (e) { return raw; }
  }

  var STATUS = /(^|\s)status-[a-z]+/g;

  function setStatus(el, status) {
    var cls = (el.getAttribute("class") || "").replace(STATUS, "").trim();
    el.setAttribute("class", status ? cls + " status-" + status : cls);
  }

  function setBadge(badge, run) {
    badge.textContent = run.status;
    badge.setAttribute("data-status", run.status);
    badge.style.background = run.colour;
  }

  // -- the group page ---------------------------------------------------------------------
  function groupPage(body) {
    var liveUrl = body.getAttribute("data-live-url");
    var form = document.getElementById("run-form");
    var fast = 0;  // polls left at the fast pace (after starting a run)
    var timer = null;

    function paint(state) {
      var steps = state.steps || {};
      var nodes = document.querySelectorAll("#svg g.node");
      for (var i = 0; i < nodes.length; i++) {
        var id = (nodes[i].id || "").replace(/^node-/, "");
        if (Object.prototype.hasOwnProperty.call(steps, id)) setStatus(nodes[i], steps[id]);
        else if (state.run) setStatus(nodes[i], "pending");
      }
      var chips = document.querySelectorAll("#chips li[data-node]");
      for (var j = 0; j < chips.length; j++) {
        var cid = chips[j].getAttribute("data-node");
        setStatus(chips[j], Object.prototype.hasOwnProperty.call(steps, cid) ? steps[cid] : (state.run ? "pending" : ""));
      }
      var latest = document.getElementById("latest");
      if (state.run && latest) {
        var badge = latest.querySelector(".run-badge");
        var link = document.getElementById("latest-link");
        if (!badge || !link) {
          latest.textContent = "";
          badge = document.createElement("span");
          badge.className = "verdict run-badge";
          link = document.createElement("a");
          link.id = "latest-link";
          link.appendChild(document.createElement("code"));
          latest.appendChild(badge);
          latest.appendChild(document.createTextNode(" "));
          latest.appendChild(link);
        }
        setBadge(badge, state.run);
        link.href = "/runs/" + encodeURIComponent(state.run.run_id);
        link.firstChild.textContent = state.run.run_id;
        var started = document.getElementById("latest-started");
        if (started) started.textContent = state.run.started;
      }
      return !!(state.run && state.run.active);
    }

    function poll() {
      get(liveUrl, "application/json").then(function (r) { return r.json(); }).then(function (state) {
        var active = paint(state);
        if (fast > 0) fast--;
        schedule(active || fast > 0 ? 700 : 4000);
      }).catch(function () { schedule(5000); });
    }

    function schedule(ms) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(poll, ms);
    }

    if (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var result = document.getElementById("run-result");
        var button = document.getElementById("run-button");
        var params = {};
        var extra = (document.getElementById("extra-params") || { value: "" }).value.split("\n");
        for (var i = 0; i < extra.length; i++) {
          var line = extra[i].trim();
          if (!line) continue;
          var eq = line.indexOf("=");
          if (eq <= 0) { say(result, "each extra param needs key=value: " + line, true); return; }
          params[line.slice(0, eq).trim()] = value(line.slice(eq + 1));
        }
        var inputs = form.querySelectorAll("input.param");
        for (var j = 0; j < inputs.length; j++) {
          if (inputs[j].value !== "") params[inputs[j].getAttribute("data-name")] = value(inputs[j].value);
        }
        var body = { params: params };
        var executor = document.getElementById("executor");
        if (executor && executor.value) body.executor = executor.value;
        var onFailure = document.getElementById("on-failure");
        if (onFailure && onFailure.value) body.on_failure = onFailure.value;
        button.disabled = true;
        say(result, "starting…");
        post(form.getAttribute("action"), body).then(function (res) {
          button.disabled = false;
          if (res.status === 401) { toLogin(); return; }
          if (!res.ok) { say(result, "not started: " + problem(res), true); return; }
          var id = (res.data && res.data.run_id) || "";
          result.textContent = "started ";
          result.className = "";
          var a = document.createElement("a");
          a.href = "/runs/" + encodeURIComponent(id);
          a.id = "started-link";
          a.textContent = id;
          result.appendChild(a);
          fast = 30;
          schedule(100);
        }).catch(function (e) { button.disabled = false; say(result, "not started: " + e.message, true); });
      });
    }
    schedule(100);
  }

  // -- the runs list ------------------------------------------------------------------------
  function runsPage(body) {
    var url = body.getAttribute("data-rows-url");
    function poll() {
      get(url, "text/html").then(function (r) { return r.text(); }).then(function (html) {
        var rows = document.getElementById("run-rows");
        if (rows) rows.outerHTML = html;
        setTimeout(poll, 2000);
      }).catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 2000);
  }

  // -- a run --------------------------------------------------------------------------------
  function runPage(body) {
    var url = body.getAttribute("data-body-url");
    var main = document.getElementById("run-body");
    function poll() {
      get(url, "text/html").then(function (r) {
        var active = r.headers.get("X-Run-Active") === "true";
        return r.text().then(function (html) {
          if (!active) { window.location.reload(); return; }  // finished: the buttons change too
          main.innerHTML = html;
          setTimeout(poll, 1000);
        });
      }).catch(function () { setTimeout(poll, 4000); });
    }
    if (main && main.getAttribute("data-active") === "true") setTimeout(poll, 1000);

    var buttons = document.querySelectorAll("#actions button[data-action]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (ev) {
        var button = ev.currentTarget;
        var result = document.getElementById("action-result");
        if (button.getAttribute("data-confirm") && button.getAttribute("data-armed") !== "yes") {
          // asks twice instead of a dialog: the first click arms the button
          button.setAttribute("data-armed", "yes");
          button.setAttribute("data-label", button.textContent);
          button.textContent = "Click again to confirm";
          setTimeout(function () {
            button.setAttribute("data-armed", "no");
            button.textContent = button.getAttribute("data-label");
          }, 4000);
          return;
        }
        button.disabled = true;
        say(result, "…");
        post(button.getAttribute("data-action"), {}).then(function (res) {
          button.disabled = false;
          if (res.status === 401) { toLogin(); return; }
          if (!res.ok) { say(result, problem(res), true); return; }
          var id = res.data && res.data.run_id;
          var here = document.getElementById("run-id").textContent;
          if (id && id !== here) window.location.assign("/runs/" + encodeURIComponent(id));
          else window.location.reload();
        }).catch(function (e) { button.disabled = false; say(result, e.message, true); });
      });
    }
  }

  function start() {
    var body = document.body;
    var page = body.getAttribute("data-page");
    if (page === "group") groupPage(body);
    else if (page === "runs") runsPage(body);
    else if (page === "run") runPage(body);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
