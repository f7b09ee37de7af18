// The control room's live view: server-sent events from /access/stream/ replace the lanes' state,
// the zone modes, the alarm list and the referred requests without reloading the page (no
// inline script: CSP).
(function () {
  "use strict";
  var root = document.getElementById("control-room");
  if (!root || !window.EventSource) { return; }
  var live = document.getElementById("live-status");
  var daemon = document.getElementById("daemon-status");
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]");

  // Words shown by this script come translated from the page (data-label-* on #control-room).
  function label(key, fallback) { return root.dataset[key] || fallback; }

  function badge(text, kind) {
    var span = document.createElement("span");
    span.className = "badge " + kind;
    span.textContent = text;
    return span;
  }
  function fill(cell, nodes) {
    if (!cell) { return; }
    cell.replaceChildren.apply(cell, nodes);
  }
  function setLive(ok) {
    if (!live) { return; }
    live.className = "badge " + (ok ? "ok" : "warn");
    live.textContent = ok ? label("labelLive", "live") : label("labelReconnecting", "reconnecting…");
  }

  function renderLane(lane) {
    var row = root.querySelector('tr[data-lane="' + CSS.escape(lane.id) + '"]');
    if (!row) { return; }
    var barriers = [], loops = [];
    lane.barriers.forEach(function (b) {
      var node = badge(b.link_ok ? b.position_label : label("labelLinkLost", "link lost"), "state-" + b.state);
      node.title = b.id + " · " + b.fail_mode_label + (b.fault_labels.length ? " · " + b.fault_labels.join(", ") : "");
      barriers.push(node, document.createTextNode(" "));
      loops.push(b.loop_occupied ? badge(label("labelVehicle", "vehicle"), "warn") : document.createTextNode("–"));
    });
    fill(row.querySelector(".barrier"), barriers);
    fill(row.querySelector(".loop"), loops);
    fill(row.querySelector(".passage"), [document.createTextNode(lane.passage_label || "–")]);
    var d = lane.last_decision;
    fill(row.querySelector(".last-decision"), d ? [
      badge(d.outcome_label, "outcome-" + d.outcome),
      document.createTextNode(" " + d.reason_label + " " + (d.plate || "") + " " + d.at)
    ] : [document.createTextNode("–")]);
    row.dataset.state = lane.state;
    row.dataset.passage = lane.passage || "";
    row.dataset.position = lane.barriers.map(function (b) { return b.position; }).join(",");
  }

  // The zone's mode banner (_mode_banner.html), live: mode, who set it, reason, next schedule.
  function renderBanner(b) {
    var node = b && root.querySelector('[data-mode-banner="' + CSS.escape(b.zone) + '"]');
    if (!node || node.dataset.mode === b.mode && node.dataset.set === b.set_text) { return; }
    node.dataset.mode = b.mode; node.dataset.set = b.set_text;
    node.className = "mode-banner mode-banner-" + b.mode + (b.lockdown ? " lockdown" : "");
    var mode = node.querySelector(".mb-mode"); if (mode) { mode.textContent = b.zone_name + ": " + b.mode_label; }
    var set = node.querySelector(".mb-set"); if (set) { set.textContent = b.set_text + (b.reason ? " — " + b.reason : ""); }
    var rule = node.querySelector(".mb-rule"); if (rule) { rule.hidden = !b.lockdown; }
  }

  function renderZone(zone) {
    var card = root.querySelector('[data-zone="' + CSS.escape(zone.id) + '"]');
    if (!card) { return; }
    var mode = card.querySelector(".zone-mode");
    if (mode) { mode.className = "badge zone-mode mode-" + zone.mode; mode.textContent = zone.mode_label; }
    renderBanner(zone.banner);
    var note = card.querySelector(".zone-note");
    if (note) {
      note.textContent = zone.scheduled
        ? label("labelScheduled", "Scheduled: {label}").replace("{label}", zone.scheduled)
        : (zone.reason || "");
    }
  }

  function renderAlarms(alarms) {
    var list = document.getElementById("alarm-list");
    var count = document.getElementById("alarm-count");
    if (count) { count.textContent = alarms.length; count.className = "badge " + (alarms.length ? "alarm" : "ok"); }
    if (!list) { return; }
    var items = alarms.map(function (a) {
      var li = document.createElement("li");
      li.dataset.alarm = a.id;
      li.dataset.priority = a.priority;
      if (!a.acknowledged) { li.dataset.unacknowledged = "1"; }
      li.className = (a.active ? "active " : "") + "priority-" + a.priority;
      li.title = a.message;  // the daemon's own words (English), for the record
      li.append(badge(a.kind_label, a.active ? "alarm" : "warn"), " ", badge(a.priority_label, "priority"));
      if (a.escalated) { li.append(" ", badge(label("labelEscalated", "escalated to supervisors"), "alarm escalated")); }
      li.append(" " + a.raised_at + (a.lane ? " · " + a.lane : "") + " ");
      var details = document.createElement("details"); details.className = "procedure";
      var summary = document.createElement("summary"); summary.textContent = label("labelProcedure", "Procedure");
      var text = document.createElement("p"); text.textContent = a.procedure;
      details.append(summary, text); li.append(details);
      if (csrf && !a.acknowledged && root.querySelector(".lane-actions, .confirm-form")) {
        var form = document.createElement("form");
        form.method = "post"; form.action = a.ack_url; form.className = "inline";
        var token = csrf.cloneNode(); form.append(token);
        var note = document.createElement("input"); note.name = "note"; note.maxLength = 500;
        note.placeholder = label("labelComment", "Comment (optional)"); note.setAttribute("aria-label", note.placeholder);
        form.append(note, " ");
        var button = document.createElement("button"); button.type = "submit"; button.textContent = label("labelAcknowledge", "Acknowledge");
        form.append(button); li.append(form);
      }
      return li;
    });
    if (!items.length) {
      var none = document.createElement("li"); none.className = "none"; none.textContent = label("labelNoAlarm", "No alarm."); items = [none];
    }
    list.replaceChildren.apply(list, items);
  }

  // Referred requests: rows are kept by request id, so an operator typing a reason in one row
  // loses nothing when the list changes; new rows are cloned from the server-rendered
  // <template> (translated labels, CSRF token), gone ones (answered, expired) removed.
  function renderReferrals(referrals) {
    var list = document.getElementById("referral-list");
    var template = document.getElementById("referral-template");
    var count = document.getElementById("referral-count");
    if (count) {
      count.textContent = referrals.length;
      count.className = "badge " + (referrals.length ? "warn" : "ok");
    }
    if (!list || !template) { return; }
    var wanted = {};
    referrals.forEach(function (r) { wanted[r.id] = true; });
    Array.prototype.forEach.call(list.querySelectorAll("tr[data-referral]"), function (row) {
      if (!wanted[row.dataset.referral]) { row.remove(); }
    });
    var none = list.querySelector("tr.none");
    var next = list.firstElementChild;
    referrals.forEach(function (r) {
      var row = list.querySelector('tr[data-referral="' + CSS.escape(r.id) + '"]');
      if (row === next) {  // already in place: not moved, so a focused input keeps its focus
        next = next.nextElementSibling;
        return;
      }
      if (!row) {
        row = template.content.querySelector("tr").cloneNode(true);
        row.dataset.referral = r.id;
        row.querySelector(".ref-time").textContent = r.at;  // the cell also holds the waiting time
        row.querySelector(".ref-lane").textContent = r.lane_name;
        row.querySelector(".ref-zone").textContent = r.zone;
        var plate = row.querySelector(".ref-plate");
        plate.replaceChildren(document.createTextNode(r.plate || "–"));
        if (r.confidence !== null && r.confidence !== undefined) {
          var small = document.createElement("small");
          small.textContent = r.confidence.toFixed(2);
          plate.append(" ", small);
        }
        row.querySelector(".ref-reason .badge").textContent = r.reason_label;
        var message = row.querySelector(".ref-message");
        message.textContent = r.reason_sentence;
        message.title = r.reason;  // the engine's own message (English), for the record
        var form = row.querySelector("form");
        if (form) { form.action = r.answer_url; form.dataset.plate = r.plate_text; form.dataset.lane = r.lane_name; }
        row.querySelector(".ref-waiting").dataset.countup = r.received_at;
        row.querySelector(".ref-waiting").textContent = r.waiting;
        row.querySelector(".ref-expires").dataset.countdown = r.expires_at;
        row.querySelector(".ref-expires").textContent = r.expires_in;
        if (r.image_url) {
          var img = document.createElement("img");
          img.src = r.image_url; img.className = "ref-thumb"; img.alt = label("labelCameraImage", "camera image");
          row.querySelector(".ref-image").replaceChildren(document.createElement("br"), img);
        }
      }
      list.insertBefore(row, next);  // the server's order: oldest first
    });
    if (none) { none.hidden = referrals.length > 0; }
  }

  // Referrals that expired unanswered stay listed (an hour), never silently gone.
  function renderExpired(rows) {
    var list = document.getElementById("expired-referrals");
    var count = document.getElementById("expired-count");
    if (count) { count.textContent = rows.length; count.className = "badge " + (rows.length ? "alarm" : "ok"); }
    if (!list) { return; }
    var items = rows.map(function (r) {
      var li = document.createElement("li");
      li.dataset.expired = r.id;
      li.textContent = label("labelExpired", "{at} · lane {lane} · plate {plate}: expired unanswered")
        .replace("{at}", r.at).replace("{lane}", r.lane_name).replace("{plate}", r.plate);
      return li;
    });
    if (!items.length) { var none = document.createElement("li"); none.className = "none"; none.textContent = label("labelNoneExpired", "–"); items = [none]; }
    list.replaceChildren.apply(list, items);
  }

  function connect() {
    var source = new EventSource(root.dataset.streamUrl);
    source.addEventListener("open", function () { setLive(true); });
    source.addEventListener("error", function () { setLive(false); });
    source.addEventListener("update", function (event) {
      var data = JSON.parse(event.data);
      setLive(true);
      data.lanes.forEach(renderLane);
      data.zones.forEach(renderZone);
      renderAlarms(data.alarms);
      if (data.referrals) { renderReferrals(data.referrals); }
      if (data.expired_referrals) { renderExpired(data.expired_referrals); }
      if (daemon) {
        daemon.className = "badge " + (data.daemon_ok ? "ok" : "alarm");
        daemon.textContent = data.daemon_ok ? label("labelDaemonOk", "device daemon running")
                                            : label("labelDaemonDown", "device daemon not running");
      }
      root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
      // the map (live_map.js) and anything else that follows the feed
      root.dispatchEvent(new CustomEvent("rempart:update", { detail: data }));
    });
  }

  // Confirmation before any action: confirm.js (loaded with this file).
  connect();
})();
