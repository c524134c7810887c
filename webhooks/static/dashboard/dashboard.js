/* The duty sergeant's live queue.
 *
 * Draws the JSON snapshot (embedded in the page) and keeps it live from an EventSource on
 * /dashboard/stream: each message carries the changed request's queue row (or a liaison's
 * row, the newest audit entries, or an alert such as a precinct's PIN entry locked until a
 * time, shown at the top until that time), which is put in place — inserted, redrawn, moved to
 * "recently finished" or removed — by the same functions a full render uses. The whole
 * snapshot (/dashboard/api/snapshot) is re-read only when the stream (re)connects, when a
 * message cannot be applied, every FIGURES_MS for today's figures (they need every closed
 * request of the day), and every POLL_MS while the stream is refused or down. Counts of what
 * is happening now (waiting, connected) come from the queue the page holds, never from those
 * slower figures, so the two cannot disagree. Messages are kept for a while and re-applied
 * over a snapshot read before them, so an older (shared) snapshot never undoes a newer
 * change. Wait timers, and how long each connected request has been connected, tick here
 * every second; one duration format (m:ss, h:mm:ss) everywhere.
 * The stream resumes after its last event id; if the browser gives up on it (an HTTP
 * error, a restart behind a proxy) the page reconnects itself with backoff. A server that
 * holds no streams (the `web` process: 503) is polled, and the badge says so.
 * The results of this sergeant's actions stay listed (the last RESULTS_KEPT), not only
 * flashed, so one is not lost under the next event.
 * Everything is built with textContent / createElement: no HTML from data, no inline code.
 */
(function () {
  "use strict";

  var cfgEl = document.getElementById("config");
  var cfg = {
    csrf: cfgEl.dataset.csrf,
    canAct: cfgEl.dataset.canAct === "1",
    alertAfter: Number(cfgEl.dataset.alertAfter),
    connectedAlertAfter: Number(cfgEl.dataset.connectedAlertAfter),
    connectedAlertLabel: cfgEl.dataset.connectedAlertLabel,
    base: cfgEl.dataset.base,
    snapshotUrl: cfgEl.dataset.snapshotUrl,
    streamUrl: cfgEl.dataset.streamUrl,
    keepaliveUrl: cfgEl.dataset.keepaliveUrl,
    signinUrl: cfgEl.dataset.signinUrl
  };
  var SVG = "http://www.w3.org/2000/svg";
  var DEBOUNCE_MS = 500;         // a message the page cannot apply: re-read the snapshot, at most twice a second
  var POLL_MS = 3000;           // while the stream is down (or the server has no room for it)
  var POLL_MAX_AGE = 2;         // s: a poll takes a read another page caused (one read per process per poll)
  var FIGURES_MS = 30000;       // while live: today's figures and the audit log from a snapshot this often ...
  var FIGURES_MAX_AGE = 20;     // ... which may be a read the server shared up to this many seconds ago
  var KEPT_MESSAGES = 5000;     // messages kept to re-apply over a snapshot read before them
  var KEEPALIVE_MS = 60000;     // at most one "still here" per minute of activity
  var RESULTS_KEPT = 5;         // the sergeant's own action results listed, newest first
  var WIDE = "(min-width: 44rem)";  // wider than a phone: "recently finished" starts open
  var ONE_COLUMN = "(max-width: 1000px)";  // as dashboard.css lays the page out in one column

  var snap = JSON.parse(document.getElementById("snapshot").textContent);  // the model the page draws
  var clockOffset = 0;          // server clock minus browser clock, seconds
  var lastEventId = snap.last_event_id || "";
  var drawnAt = snap.last_event_id || "0-0";  // the snapshot the page was last drawn from: older messages are in it
  var kept = [];                // [id, message] received, oldest first ...
  var keptAfter = drawnAt;      // ... every one after this id
  var source = null;
  var streamOpen = false;
  var reconnectDelay = 1000;
  var reconnectTimer = null;
  var refreshTimer = null;
  var refreshing = false;
  var refreshAgain = false;
  var signedOut = false;
  var knownRequests = null;     // ids seen in the active list (to announce new ones)
  var announcing = [];

  // ------------------------------------------------------------------ small helpers
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var children = Array.prototype.slice.call(arguments, 2);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.keys(v).forEach(function (d) { node.dataset[d] = v[d]; });
      else node.setAttribute(k, v === true ? "" : v);
    });
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
    return node;
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function nowServer() { return Date.now() / 1000 + clockOffset; }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }

  function clockTime(epoch, withSeconds) {
    if (!epoch) return "—";
    var parts = { hour: "2-digit", minute: "2-digit" };
    if (withSeconds) parts.second = "2-digit";
    return new Date(epoch * 1000).toLocaleTimeString([], parts);
  }

  function percent(share) { return share === null || share === undefined ? "—" : Math.round(share * 100) + "%"; }

  function flash(text) {
    // A passing announcement (a new request, an alert): the next one replaces it.
    var f = document.getElementById("flash");
    f.textContent = text;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { f.textContent = ""; }, 8000);
  }

  function result(text, ok) {
    // The outcome of one of this sergeant's actions: listed, newest first, until RESULTS_KEPT newer ones.
    var list = document.getElementById("result-list");
    list.insertBefore(el("li", { class: ok ? "ok" : "failed" },
      el("time", {}, clockTime(nowServer(), true)), " ", text), list.firstChild);
    while (list.children.length > RESULTS_KEPT) list.removeChild(list.lastChild);
    document.getElementById("results").hidden = false;
  }

  function setLive(state, text) {
    var live = document.getElementById("live");
    if (live.dataset.state === state && live.textContent === text) return;
    live.dataset.state = state;
    live.textContent = text;
  }

  function polling() { setLive("polling", "Updating every " + Math.round(POLL_MS / 1000) + " s"); }

  function liaisonName(id) {
    var found = (snap.liaisons || []).filter(function (l) { return l.id === id; })[0];
    return found ? found.name : id;
  }

  // ------------------------------------------------------------------ rendering
  function actionButton(action, target, label, question, extra) {
    // `what`: the target as the sergeant knows it (a liaison's name, a request and its language).
    var data = { action: action, target: target, label: label, question: question, key: action + ":" + target,
      what: target };
    Object.keys(extra || {}).forEach(function (k) { data[k] = extra[k]; });
    return el("button", { type: "button", class: "act act-" + action, dataset: data }, label);
  }

  function requestActions(row) {
    var what = row.id + " (" + row.language + (row.precinct ? ", " + row.precinct : "") + ")";
    var cell = el("td", { class: "actions" });
    if (row.can_send_to_vendor) {
      cell.appendChild(actionButton("send-to-vendor", row.id, "Send to vendor",
        "Send request " + what + " to the vendor now? Any ringing liaison is stopped.", { what: what }));
    }
    if (row.can_offer_again) {
      cell.appendChild(actionButton("offer-again", row.id, "Offer again",
        "Offer request " + what + " to the liaisons again, including those who already declined?", { what: what }));
    }
    var callout = calloutButton(row);
    if (callout) cell.appendChild(callout);
    if (row.can_cancel) {
      cell.appendChild(actionButton("cancel", row.id, "Cancel",
        "Cancel request " + what + "? The officer's call is ended.", { danger: "1", what: what }));
    }
    return cell;
  }

  // Call-outs (issue 18): counted from the liaison rows the page holds, so a liaison going off
  // duty (their row's message) changes every request's count as a fresh page load would draw it.
  function calloutCount(row) {
    if (!row.callout_language) return 0;
    return (snap.liaisons || []).filter(function (l) {
      return l.callout && l.languages.indexOf(row.language) >= 0;
    }).length;
  }

  function calloutText(n, language) {
    return n + " off-duty liaison" + (n === 1 ? " speaks " : "s speak ") + language;
  }

  function calloutNote(row) {
    var n = calloutCount(row);
    return n ? el("span", { class: "sub callout" }, calloutText(n, row.language)) : null;
  }

  function calloutButton(row) {
    var n = calloutCount(row);
    if (!n) return null;
    return actionButton("callout", row.callout_language, "Text them",
      calloutText(n, row.language) + ". Text them that " + row.language + " requests are waiting?");
  }

  function redrawCallouts() {
    // A liaison's row changed: each waiting request's count, in place (its other cells untouched).
    snap.queue.active.forEach(function (row) {
      if (!row.callout_language) return;
      var tr = document.querySelector('#active tr[data-id="' + CSS.escape(row.id) + '"]');
      if (!tr) return;
      tr.querySelectorAll(".callout, .act-callout").forEach(function (old) { old.remove(); });
      var note = calloutNote(row), button = cfg.canAct ? calloutButton(row) : null;
      if (note) tr.cells[5].appendChild(note);
      var actions = tr.querySelector("td.actions");
      if (button && actions) actions.insertBefore(button, actions.querySelector(".act-cancel"));
    });
  }

  function place(row) {
    return [row.precinct, row.unit].filter(Boolean).join(" · ") || "—";
  }

  function handler(row) {
    if (!row.handler) return null;   // an empty cell: "—" in a table, no line on a card
    return row.handler_kind === "vendor" ? row.handler + " (vendor)" : row.handler;
  }

  function onTheLine(row) {   // an interpreter is on the line: connected, or waiting for a dropped officer
    return row.state === "connected" || row.state === "rejoining";
  }

  function requestCell(row) {
    return el("th", { scope: "row", class: "request" }, el("span", { class: "rid" }, receiptLink(row.id)),
      row.urgent ? el("span", { class: "tag urgent" }, "urgent") : null,
      row.channel === "sms" ? el("span", { class: "tag" }, "text") : null,
      row.preference ? el("span", { class: "tag", title: "interpreter asked for" }, row.preference) : null,
      row.caller_kind === "pin" ? el("span", { class: "tag", title: "identified by unit PIN on an unregistered phone" }, "PIN") : null,
      el("span", { class: "caller", title: "caller (masked)" }, row.caller));
  }

  function connectedOver(since) { return nowServer() - since > cfg.connectedAlertAfter; }

  function activeRow(row) {
    // One request; as a table row on a wide screen, as a card on a narrow one (the cells' data-label
    // names them there). Wait: waiting so far (ticking), or how long it waited for its interpreter.
    var waiting = !onTheLine(row);
    var long = !waiting && !!row.connected_at && connectedOver(row.connected_at);
    var wait = waiting
      ? el("span", { class: "timer", dataset: { since: String(row.since) } }, duration(nowServer() - row.since))
      : el("span", { title: "time to interpreter" }, duration(row.time_to_interpreter));
    var connected = el("td", { class: "connected", dataset: { label: "Connected" } },
      !waiting && row.connected_at ? el("span", { class: "connected-for", title: "connected for",
        dataset: { since: String(row.connected_at) } }, duration(nowServer() - row.connected_at)) : null,
      !waiting ? el("span", { class: "alert-badge long", hidden: !long }, cfg.connectedAlertLabel) : null);
    var state = el("td", { class: "status" },
      el("span", { class: "state state-" + row.state }, row.state_label),
      waiting ? el("span", { class: "alert-badge", hidden: !row.alert }, "over " + Math.round(cfg.alertAfter) + " s") : null);
    var tr = el("tr", { class: row.alert ? "alert" : (long ? "long-call" : ""),
      dataset: { id: row.id, state: row.state, waiting: waiting ? "1" : "0" } },
      requestCell(row), el("td", { class: "wait", dataset: { label: waiting ? "Waiting" : "Waited" } }, wait), connected,
      languageCell(row), el("td", { class: "handler", dataset: { label: "Handled by" } }, handler(row)), state);
    var callout = calloutNote(row);
    if (callout) state.appendChild(callout);
    if (cfg.canAct) tr.appendChild(requestActions(row));
    return tr;
  }

  function languageCell(row) {
    return el("td", { class: "language" }, el("span", { class: "language-name" }, row.language),
      el("span", { class: "place" }, place(row)));
  }

  function receiptLink(id) {   // the printable receipt for the officer's report
    return el("a", { href: cfg.base + "/requests/" + encodeURIComponent(id) + "/receipt", title: "receipt" }, id);
  }

  function finishedRow(row) {
    return el("tr", { dataset: { id: row.id, state: row.state } },
      el("th", { scope: "row", class: "request" }, el("span", { class: "rid" }, receiptLink(row.id))), languageCell(row),
      el("td", { class: "handler", dataset: { label: "Handled by" } }, handler(row)),
      el("td", { class: "status" }, el("span", { class: "state state-" + row.state }, row.outcome)),
      el("td", { class: "tti", dataset: { label: "To interpreter" } }, duration(row.time_to_interpreter)),
      el("td", { class: "ended", dataset: { label: "Ended" } }, clockTime(row.ended_at)));
  }

  function liaisonRow(row) {
    var duty = el("td", { class: "duty" }, (row.on_duty ? "On duty" : "Off duty") +
      (row.duty_override ? " (set today)" : " (schedule)"));
    if (cfg.canAct) {
      var buttons = el("div", { class: "actions" });
      if (row.on_duty) {
        buttons.appendChild(actionButton("duty", row.id, "Off duty",
          "Put " + row.name + " off duty? They get no new calls until put back on duty.", { duty: "off", what: row.name }));
      } else {
        buttons.appendChild(actionButton("duty", row.id, "On duty",
          "Put " + row.name + " on duty? They can be offered calls at once.", { duty: "on", what: row.name }));
      }
      if (row.duty_override) {
        buttons.appendChild(actionButton("duty", row.id, "Follow schedule",
          "Let " + row.name + "'s duty follow the roster schedule again?", { duty: "schedule", what: row.name }));
      }
      duty.appendChild(buttons);
    }
    return el("tr", { dataset: { id: row.id, state: row.state } },
      el("th", { scope: "row" }, row.name, el("span", { class: "languages" }, row.languages.join(", ")),
        row.note ? el("span", { class: "sub note" }, row.note) : null),
      el("td", {}, el("span", { class: "state liaison-" + row.state }, row.state_label),
        row.request ? el("span", { class: "sub" }, " " + row.request) : null),
      duty);
  }

  function replaceRows(tbodyParent, rows, make, emptyId) {
    var tbody = tbodyParent.querySelector("tbody");
    var fresh = document.createElement("tbody");
    rows.forEach(function (r) { fresh.appendChild(make(r)); });
    tbodyParent.replaceChild(fresh, tbody);
    if (emptyId) document.getElementById(emptyId).hidden = rows.length > 0;
  }

  // The orders the server sorts in (dispatch/queue_view.py), so a row put in place lands where
  // a full render would draw it.
  function byId(a, b) { return a.id < b.id ? -1 : (a.id > b.id ? 1 : 0); }

  function activeOrder(a, b) {   // waiting (urgent, then longest wait) before connected (earliest first)
    var ca = onTheLine(a), cb = onTheLine(b);
    if (ca !== cb) return ca ? 1 : -1;
    if (!ca) {
      if (a.urgent !== b.urgent) return a.urgent ? -1 : 1;
      if (a.since !== b.since) return a.since - b.since;
    } else if ((a.connected_at || 0) !== (b.connected_at || 0)) {
      return (a.connected_at || 0) - (b.connected_at || 0);
    }
    return byId(a, b);
  }

  function finishedOrder(a, b) { // newest first
    if ((a.ended_at || 0) !== (b.ended_at || 0)) return (b.ended_at || 0) - (a.ended_at || 0);
    return byId(b, a);
  }

  function liaisonOrder(a, b) {  // on duty first, then by name
    if (a.on_duty !== b.on_duty) return a.on_duty ? -1 : 1;
    return a.name < b.name ? -1 : (a.name > b.name ? 1 : 0);
  }

  function putRow(list, id, row, order, tableId, make) {
    // Take the row `id` out of `list` (kept sorted by `order`) and put `row` in its place, or
    // nowhere if null. With `tableId`, the table's rows (drawn from `list`, in its order) follow.
    var tbody = tableId ? document.querySelector("#" + tableId + " tbody") : null;
    var focused = null;
    for (var at = 0; at < list.length; at++) {
      if (list[at].id !== id) continue;
      list.splice(at, 1);
      var old = tbody ? tbody.rows[at] : null;
      if (old) {
        if (old.contains(document.activeElement) && document.activeElement.dataset) focused = document.activeElement.dataset.key;
        tbody.removeChild(old);
      }
      break;
    }
    if (!row) return;
    var lo = 0, hi = list.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (order(list[mid], row) <= 0) lo = mid + 1; else hi = mid;
    }
    list.splice(lo, 0, row);
    if (tbody) {
      tbody.insertBefore(make(row), tbody.rows[lo] || null);
      if (focused) {
        var again = tbody.querySelector('[data-key="' + CSS.escape(focused) + '"]');
        if (again) again.focus();
      }
    }
  }

  function queueCounts(q) {
    // The queue's header, and the live figures in "Today": one count, from the rows the page holds.
    var waiting = q.active.filter(function (r) { return !onTheLine(r); }).length;
    var connected = q.active.length - waiting;
    document.getElementById("queue-count").textContent = "(" + waiting + " waiting, " + connected + " connected)";
    document.getElementById("active-empty").hidden = q.active.length > 0;
    document.getElementById("finished-empty").hidden = q.finished.length > 0;
    document.getElementById("finished-count").textContent = "(" + q.finished.length + ")";
    var live = { waiting: waiting, connected: connected };
    document.querySelectorAll("#figures [data-live]").forEach(function (dd) {
      dd.textContent = String(live[dd.dataset.live]);
    });
  }

  function liaisonCount(liaisons) {
    var onDuty = liaisons.filter(function (l) { return l.on_duty; }).length;
    document.getElementById("liaison-count").textContent = "(" + onDuty + " on duty)";
  }

  function spread(s) {   // p50 / p90 of one phase of the officer's wait
    return s ? duration(s.p50) + " / " + duration(s.p90) : "—";
  }

  function figures(stats, at) {
    // The day's figures from the last snapshot (`at`); "now" figures are filled in by queueCounts.
    var dl = document.getElementById("figures");
    var items = [
      ["Waiting now", null, "waiting"],
      ["Connected now", null, "connected"],
      ["Requests", stats.requests],
      ["Median to interpreter", duration(stats.median_tti)],
      ["90th percentile", duration(stats.p90_tti)],
      ["In the menu (p50 / p90)", spread(stats.wait && stats.wait.menu)],
      ["In line (p50 / p90)", spread(stats.wait && stats.wait.queue)],
      ["Ringing (p50 / p90)", spread(stats.wait && stats.wait.ring)],
      ["Abandoned", stats.abandoned],
      ["Failed", stats.failed],
      ["Cancelled", stats.cancelled],
      ["Liaison / vendor", percent(stats.liaison_share) + " / " + percent(stats.vendor_share)]
    ];
    var fresh = el("dl", { id: "figures", class: "figures" });
    items.forEach(function (item) {
      fresh.appendChild(el("div", { class: "figure" + (item[2] ? " now" : "") }, el("dt", {}, item[0]),
        el("dd", { dataset: item[2] ? { live: item[2] } : null }, item[2] ? "" : String(item[1]))));
    });
    dl.parentNode.replaceChild(fresh, dl);
    document.getElementById("figures-at").textContent = at
      ? "Day figures as of " + clockTime(at) + "; waiting and connected now are live." : "";
    queueCounts(snap.queue);
  }

  function shareChart(stats) {
    var box = document.getElementById("share-chart");
    var total = stats.by_liaison + stats.by_vendor;
    var label = total ? "Liaisons " + stats.by_liaison + " (" + percent(stats.liaison_share) + "), vendor " +
      stats.by_vendor + " (" + percent(stats.vendor_share) + ")" : "No request has reached an interpreter yet today";
    var chart = svg("svg", { viewBox: "0 0 300 40", width: "100%", height: "40", role: "img", "aria-label": label,
      preserveAspectRatio: "none", class: "share" });
    chart.appendChild(svg("title", {}, label));
    var w = total ? 300 * stats.by_liaison / total : 0;
    chart.appendChild(svg("rect", { x: 0, y: 0, width: 300, height: 22, class: total ? "bar-vendor" : "bar-empty" }));
    if (w) chart.appendChild(svg("rect", { x: 0, y: 0, width: w, height: 22, class: "bar-liaison" }));
    box.replaceChildren(chart, el("p", { class: "legend" },
      el("span", { class: "key key-liaison" }), " Liaisons " + stats.by_liaison + " ",
      el("span", { class: "key key-vendor" }), " Vendor " + stats.by_vendor));
  }

  function languageChart(stats) {
    // Bars as HTML, not SVG text: a long name ("Unknown language", "Guinea-Bissau Creole") wraps
    // in its own column instead of running off the chart's edge.
    var box = document.getElementById("language-chart");
    var rows = stats.by_language.slice(0, 10);
    if (!rows.length) { box.replaceChildren(el("p", { class: "empty" }, "No requests yet today.")); return; }
    var max = Math.max.apply(null, rows.map(function (r) { return r.count; }));
    var list = el("ol", { class: "bars", "aria-labelledby": "language-chart-h" });
    rows.forEach(function (r) {
      var fill = el("span", { class: "bar-fill" });
      fill.style.width = (100 * r.count / max) + "%";   // CSSOM, which the page's CSP allows
      list.appendChild(el("li", {}, el("span", { class: "bar-label" }, r.language),
        el("span", { class: "bar-track", "aria-hidden": "true" }, fill), el("span", { class: "bar-value" }, String(r.count))));
    });
    box.replaceChildren(list);
  }

  var ACTION_LABELS = {
    send_to_vendor: "sent to the vendor", cancel: "cancelled", offer_again: "offered again",
    duty_on: "put on duty", duty_off: "put off duty", duty_schedule: "returned to the schedule",
    sign_in: "signed in", sign_out: "signed out"
  };

  function auditList(entries) {
    var list = document.getElementById("audit-list");
    var fresh = el("ol", { id: "audit-list", class: "audit" });
    entries.forEach(function (e) {
      var target = /^duty_/.test(e.action || "") ? liaisonName(e.target) : e.target;  // a name, not "l-chen"
      fresh.appendChild(el("li", {},
        el("time", { datetime: e.ts }, e.ts ? clockTime(Date.parse(e.ts) / 1000) : ""), " ",
        el("strong", {}, e.who), " ", ACTION_LABELS[e.action] || (e.action || "").replace(/_/g, " "),
        target ? " " + target : "", " — ", e.outcome));
    });
    if (!entries.length) fresh.appendChild(el("li", { class: "empty" }, "No actions yet."));
    list.parentNode.replaceChild(fresh, list);
  }

  function currentAlerts() {
    // Alerts in force: each says until when (a lock past its time has lifted by itself).
    var now = nowServer();
    return (snap.alerts || []).filter(function (a) { return a && typeof a === "object" && a.until > now; });
  }

  function alertList() {
    var alerts = currentAlerts();
    var list = document.getElementById("alert-list");
    var fresh = el("ul", { id: "alert-list", role: "alert" });
    alerts.forEach(function (a) {
      fresh.appendChild(el("li", { dataset: { id: a.id } },
        el("strong", {}, "PIN entry locked: " + a.precinct_name + " until " + clockTime(a.until) + "."), " ",
        a.failures + " wrong PINs within an hour. Callers on unregistered phones are told to call the desk " +
        "sergeant; the precinct's lines and supervisors' cells are not affected."));
    });
    list.parentNode.replaceChild(fresh, list);
    document.getElementById("alerts").hidden = alerts.length === 0;
    alertList.shown = alerts.length;
  }

  function refusalList(entries) {
    // One line per source and hour: "14:05 sign in by sergeant from 203.0.113.0/24 — refused: ... ×6".
    var list = document.getElementById("refusal-list");
    var fresh = el("ol", { id: "refusal-list", class: "audit", "aria-labelledby": "refusals-h" });
    entries.forEach(function (e) {
      fresh.appendChild(el("li", {},
        el("time", { datetime: e.ts }, e.ts ? clockTime(Date.parse(e.ts) / 1000) : ""), " ",
        (e.action || "").replace(/_/g, " "), " by ", el("strong", {}, e.who),
        e.target ? " from " + e.target : "", " — ", e.outcome, " ",
        el("strong", { class: "count" }, "\u00d7" + e.count), e.count > 1 ? " this hour" : ""));
    });
    if (!entries.length) fresh.appendChild(el("li", { class: "empty" }, "Nothing refused."));
    list.parentNode.replaceChild(fresh, list);
  }

  function announce(rows) {
    // "New request: ..." for active rows the page has not shown before (once per burst of messages).
    var first = knownRequests === null;
    knownRequests = knownRequests || {};
    rows.forEach(function (r) {
      if (!knownRequests[r.id] && !first) announcing.push(r.id + " " + r.language);
      knownRequests[r.id] = true;
    });
    if (announcing.length && !announce.timer) {
      announce.timer = setTimeout(function () {
        announce.timer = null;
        var more = announcing.length - 3;   // a burst (or a first poll) is not read out in full
        flash((announcing.length > 1 ? "New requests: " : "New request: ") + announcing.slice(0, 3).join("; ") +
          (more > 0 ? " and " + more + " more" : ""));
        announcing = [];
      }, 0);
    }
  }

  function today(data) {
    figures(data.stats, data.stats_at);
    shareChart(data.stats);
    languageChart(data.stats);
    auditList(data.audit || []);
    alertList();
    refusalList(data.refusals || []);
  }

  function render(data) {
    var focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    var q = data.queue;
    replaceRows(document.getElementById("active"), q.active, activeRow, "active-empty");
    replaceRows(document.getElementById("finished"), q.finished, finishedRow, "finished-empty");
    queueCounts(q);
    replaceRows(document.getElementById("liaison-table"), data.liaisons, liaisonRow, null);
    liaisonCount(data.liaisons);
    today(data);
    announce(q.active);
    if (focused) {
      var again = document.querySelector('[data-key="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
  }

  // ------------------------------------------------------------------ applying a message
  function applicable(msg) {
    return !!msg && typeof msg === "object" && ("row" in msg ||
      (msg.liaison !== null && typeof msg.liaison === "object") || Array.isArray(msg.audit) ||
      (msg.alert !== null && typeof msg.alert === "object"));
  }

  function apply(msg, draw) {
    // Put what the message changed into the model (`snap`) and, with `draw`, onto the page.
    var q = snap.queue;
    if ("row" in msg) {
      var row = msg.row && typeof msg.row === "object" ? msg.row : null;
      var finished = row !== null && msg.finished === true;
      putRow(q.active, msg.request, finished ? null : row, activeOrder, draw && "active", activeRow);
      putRow(q.finished, msg.request, finished ? row : null, finishedOrder, draw && "finished", finishedRow);
      var limit = snap.finished_limit || 25;
      while (q.finished.length > limit) {
        q.finished.pop();
        if (draw) document.querySelector("#finished tbody").deleteRow(-1);
      }
      if (draw) {
        queueCounts(q);
        if (row && !finished) announce([row]);
      }
    }
    if (msg.liaison !== null && typeof msg.liaison === "object") {
      putRow(snap.liaisons, msg.liaison.id, msg.liaison, liaisonOrder, draw && "liaison-table", liaisonRow);
      if (draw) {
        liaisonCount(snap.liaisons);
        redrawCallouts();
      }
    }
    if (Array.isArray(msg.audit)) {
      snap.audit = msg.audit;
      if (draw) auditList(msg.audit);
    }
    if (msg.alert !== null && typeof msg.alert === "object" && msg.alert.id) {
      snap.alerts = (snap.alerts || []).filter(function (a) { return a.id !== msg.alert.id; }).concat([msg.alert]);
      if (draw) {
        alertList();
        flash(msg.alert.text || "PIN entry locked: " + msg.alert.precinct_name);
      }
    }
  }

  function keep(id, msg) {
    kept.push([id, msg]);
    if (kept.length > KEPT_MESSAGES + 500) {
      keptAfter = kept[499][0];
      kept.splice(0, 500);
    }
  }

  function show(data, shared) {
    // A snapshot: the model becomes it plus every kept message after it, drawn in full. One
    // read before the oldest kept message cannot be completed so: its figures and audit still do.
    // `shared`: possibly read seconds ago, so its "now" does not set the clock.
    if (!shared) clockOffset = data.now - Date.now() / 1000;
    var at = data.last_event_id || "0-0";
    if (olderEvent(at, keptAfter)) {
      snap.stats = data.stats;
      snap.stats_at = data.now;
      snap.audit = data.audit;
      (data.alerts || []).forEach(function (a) {  // the page may have newer ones from the stream
        if (!(snap.alerts || []).some(function (b) { return b.id === a.id && b.until >= a.until; })) {
          snap.alerts = (snap.alerts || []).filter(function (b) { return b.id !== a.id; }).concat([a]);
        }
      });
      snap.refusals = data.refusals;
      today(snap);
      return;
    }
    snap = data;
    snap.stats_at = data.now;
    kept.forEach(function (k) { if (olderEvent(at, k[0])) apply(k[1], false); });
    drawnAt = at;
    render(snap);
  }

  function tick() {
    var now = nowServer();
    if (alertList.shown && currentAlerts().length !== alertList.shown) alertList();
    document.querySelectorAll("#active .connected-for").forEach(function (span) {
      var since = Number(span.dataset.since);
      span.textContent = duration(now - since);
      var tr = span.closest("tr"), over = connectedOver(since);
      tr.classList.toggle("long-call", over);
      tr.querySelector(".alert-badge.long").hidden = !over;
    });
    document.querySelectorAll("#active tr[data-waiting='1']").forEach(function (tr) {
      var timer = tr.querySelector(".timer");
      if (!timer) return;
      var secs = now - Number(timer.dataset.since);
      timer.textContent = duration(secs);
      var over = secs > cfg.alertAfter;
      tr.classList.toggle("alert", over);
      var badge = tr.querySelector(".alert-badge");
      if (badge) badge.hidden = !over;
    });
  }

  // ------------------------------------------------------------------ data and stream
  function goSignIn(expired) {
    // To the sign-in page, saying why when the session timed out (not after signing out elsewhere).
    if (signedOut) return;
    signedOut = true;
    if (source) source.close();
    setLive("out", "Signed out");
    window.location.assign(cfg.signinUrl + (expired === false ? "" : "?expired=1"));
  }

  function signedOutBy(resp) {
    return resp.json().catch(function () { return {}; })
      .then(function (body) { goSignIn(body.reason !== "signin"); });
  }

  function olderEvent(a, b) {  // Redis stream ids "ms-seq": is a before b?
    if (!a || !b) return false;
    var x = a.split("-"), y = b.split("-");
    var ms = Number(x[0]) - Number(y[0]);
    return ms < 0 || (ms === 0 && Number(x[1]) < Number(y[1]));
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, DEBOUNCE_MS);
  }

  function refresh(maxAge) {
    // Re-read the snapshot; `maxAge`: a read the server shared up to that many seconds ago will do.
    if (signedOut) return Promise.resolve();
    if (refreshing) { refreshAgain = true; return Promise.resolve(); }
    refreshing = true;
    var url = cfg.snapshotUrl + (maxAge ? "?max_age=" + encodeURIComponent(maxAge) : "");
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (resp.status === 401) { return signedOutBy(resp).then(function () { return null; }); }
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.json();
      })
      .then(function (data) {
        if (!data) return;
        show(data, !!maxAge);
        if (!streamOpen) polling();   // no stream (none on this server, or no room): polling works
      })
      .catch(function () { if (!streamOpen) setLive("down", "Reconnecting…"); })
      .then(function () {
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; scheduleRefresh(); }
      });
  }

  function received(e) {
    if (e.lastEventId) lastEventId = e.lastEventId;
    var msg = null;
    try { msg = JSON.parse(e.data); } catch (err) { msg = null; }
    if (!applicable(msg)) { scheduleRefresh(); return; }  // nothing this page knows how to draw
    keep(e.lastEventId, msg);
    // Already in the snapshot the page was drawn from? Then its row may be older than what is shown.
    if (!e.lastEventId || olderEvent(drawnAt, e.lastEventId)) apply(msg, true);
  }

  function connect() {
    if (signedOut) return;
    clearTimeout(reconnectTimer);
    var url = cfg.streamUrl + (lastEventId ? "?last=" + encodeURIComponent(lastEventId) : "");
    source = new EventSource(url);
    source.onopen = function () {
      streamOpen = true;
      reconnectDelay = 1000;
      setLive("live", "Live");
      refresh();  // catch up on anything missed while disconnected
    };
    source.onmessage = received;
    source.addEventListener("signedout", function () { goSignIn(true); });
    source.onerror = function () {
      streamOpen = false;
      if (signedOut) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up: an HTTP error (503: this server holds no streams, or has no room
        // for one more; a proxy's error page). The polls say whether the server answers (the
        // badge follows them); the stream is tried again with backoff.
        reconnectTimer = setTimeout(function () { refresh().then(connect); }, reconnectDelay);
        reconnectDelay = Math.min(reconnectDelay * 2, 15000);
      } else {
        setLive("down", "Reconnecting…");  // the connection dropped: the browser retries at once
      }
    };
  }

  // ------------------------------------------------------------------ actions
  var dialog = document.getElementById("confirm");
  var pending = null;

  function ask(button) {
    pending = button.dataset;
    document.getElementById("confirm-text").textContent = button.dataset.question;
    var yes = document.getElementById("confirm-yes");
    yes.textContent = "Yes, " + button.dataset.label.toLowerCase();
    yes.className = button.dataset.danger ? "danger" : "";
    dialog.returnValue = "";
    dialog.showModal();
    document.getElementById("confirm-no").focus();
  }

  dialog.addEventListener("close", function () {
    var d = pending;
    pending = null;
    if (!d) return;
    if (dialog.returnValue === "ok") act(d);
    var back = document.querySelector('[data-key="' + CSS.escape(d.key) + '"]');
    if (back) back.focus();
  });

  function act(d) {
    var path = d.action === "duty" ? "/liaisons/" + encodeURIComponent(d.target) + "/duty"
      : d.action === "callout" ? "/callouts/" + encodeURIComponent(d.target)
      : "/requests/" + encodeURIComponent(d.target) + "/" + d.action;
    var body = new URLSearchParams({ csrf_token: cfg.csrf, confirm: "yes" });
    if (d.duty) body.set("duty", d.duty);
    fetch(cfg.base + path, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": cfg.csrf, Accept: "application/json" }
    }).then(function (resp) {
      if (resp.status === 401) return signedOutBy(resp);
      return resp.json().catch(function () { return {}; }).then(function (data) {
        result(resp.ok ? d.label + ": " + d.what + " — done"
          : d.label + ": " + d.what + " — not done (" + (data.outcome || data.error || resp.status) + ")", resp.ok);
        if (!streamOpen) refresh();  // live, the stream brings the changed rows and the audit entry
      });
    }).catch(function () { result(d.label + ": " + d.what + " — could not reach the server", false); });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-action]");
    if (button && cfg.canAct) ask(button);
  });

  // ------------------------------------------------------------------ idle timeout
  var lastKeepalive = 0;
  function activity() {
    if (signedOut || Date.now() - lastKeepalive < KEEPALIVE_MS) return;
    lastKeepalive = Date.now();
    fetch(cfg.keepaliveUrl, { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": cfg.csrf } }).then(function (resp) { if (resp.status === 401) signedOutBy(resp); })
      .catch(function () {});
  }
  ["keydown", "pointerdown", "wheel", "touchstart"].forEach(function (type) {
    document.addEventListener(type, activity, { passive: true });
  });

  // ------------------------------------------------------------------ layout
  var oneColumn = window.matchMedia(ONE_COLUMN);
  function placeFinished() {
    // "Recently finished" under the queue beside the side column; after "today" when the page is one
    // column (the order a sergeant needs), moved in the document so that reading and Tab follow it.
    var panel = document.getElementById("finished-panel");
    var after = document.getElementById(oneColumn.matches ? "today" : "queue");
    if (after.nextElementSibling !== panel) after.after(panel);
  }
  oneColumn.addEventListener("change", placeFinished);

  // ------------------------------------------------------------------ start
  placeFinished();
  document.getElementById("finished-details").open = window.matchMedia(WIDE).matches;  // a phone: collapsed
  show(snap, false);
  setInterval(tick, 1000);
  setInterval(function () { if (!streamOpen) refresh(POLL_MAX_AGE); }, POLL_MS);
  setInterval(function () { if (streamOpen) refresh(FIGURES_MAX_AGE); }, FIGURES_MS);
  connect();
  lastKeepalive = Date.now();  // loading the page was activity
})();
