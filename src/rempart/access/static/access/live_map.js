// The control room's map: the zone's lanes on the city's offline street lines (Leaflet served
// locally), coloured by their barriers' state (up, down, moving, fault), with a red ring where an
// alarm is open; it follows the live feed (the "rempart:update" event control_room.js sends for
// each server-sent update). A click on a lane opens its popup; its button opens the lane's
// actions in the lanes table. Words come translated from the page (json_script map-words).
(function () {
  "use strict";
  var element = document.getElementById("live-map");
  var root = document.getElementById("control-room");
  if (!element || !root || !window.L) { return; }
  function readJson(id) {
    var node = id && document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var words = readJson(element.dataset.words) || { state: {} };
  var features = readJson(element.dataset.features) || { type: "FeatureCollection", features: [] };
  var COLOURS = { up: "#1b7f3b", down: "#b26a00", moving: "#0b4f8a", fault: "#b3261e", unknown: "#6b7280" };
  var map = L.map(element);
  element._leafletMap = map;
  var markers = {}, rings = {}, lanes = {}, alarms = {};

  function laneState(id) { return (lanes[id] && lanes[id].state) || "unknown"; }
  function paint(id) {
    var marker = markers[id];
    if (!marker) { return; }
    var state = laneState(id);
    marker.setStyle({ color: "#fff", weight: 2, fillColor: COLOURS[state] || COLOURS.unknown, fillOpacity: 1 });
    var path = marker.getElement();
    if (path) {
      path.setAttribute("class", "leaflet-interactive lane-marker state-" + state);
      path.setAttribute("data-state", state);
    }
    var open = alarms[id] || [];
    if (open.length && !rings[id]) {
      rings[id] = L.circleMarker(marker.getLatLng(), { radius: 15, color: "#b3261e", weight: 3, fill: false, dashArray: "4 3", interactive: false, className: "alarm-ring" }).addTo(map);
    } else if (!open.length && rings[id]) {
      map.removeLayer(rings[id]); delete rings[id];
    }
    if (rings[id]) { rings[id].getElement().setAttribute("data-lane", id); }
  }
  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) { node.className = className; }
    return node;
  }
  function popupContent(props) {
    var box = document.createElement("div");
    box.className = "lane-popup";
    box.append(text("strong", props.name), document.createElement("br"),
               text("span", props.zone + " · " + props.direction_label));
    var lane = lanes[props.id];
    if (lane) {
      lane.barriers.forEach(function (b) {
        box.append(document.createElement("br"), text("span", b.id + ": " + (words.state[b.state] || b.position_label), "badge state-" + b.state));
      });
    }
    (alarms[props.id] || []).forEach(function (a) {
      box.append(document.createElement("br"), text("span", a.kind_label, "badge alarm"));
    });
    var button = text("button", root.querySelector(".lane-actions") ? words.actions : words.show);
    button.type = "button";
    button.className = "primary open-lane";
    button.addEventListener("click", function () { openLane(props.id); });
    box.append(document.createElement("br"), button);
    return box;
  }
  function openLane(id) {
    var row = document.getElementById("lane-" + id);
    if (!row) { return; }
    var details = row.querySelector("details");
    if (details) { details.open = true; }
    row.scrollIntoView({ block: "center" });
    var input = row.querySelector("input[name=reason]");
    (input || row.querySelector("th")).focus({ preventScroll: true });
    map.closePopup();
  }

  var layer = L.geoJSON(features, {
    pointToLayer: function (feature, latlng) {
      var marker = L.circleMarker(latlng, { radius: 9, className: "lane-marker" });
      markers[feature.properties.id] = marker;
      return marker;
    },
    onEachFeature: function (feature, marker) {
      marker.bindTooltip(feature.properties.name);
      marker.bindPopup(function () { return popupContent(feature.properties); });
      marker.on("add", function () {
        var path = marker.getElement();
        if (path) { path.setAttribute("data-lane", feature.properties.id); }
        paint(feature.properties.id);
      });
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.5), { maxZoom: 18 }); } else { map.setView([60.1699, 24.9384], 15); }
  if (element.dataset.basemap) {
    fetch(element.dataset.basemap, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) { return; }
      var streets = L.geoJSON(data, { style: function (f) {
        var major = /^(primary|secondary|trunk|motorway|tertiary)/.test((f.properties || {}).highway || "");
        return { color: "#8c99a6", weight: major ? 3 : 1.5, opacity: 0.8 };
      }, interactive: false }).addTo(map);
      streets.bringToBack();
      if (!bounds.isValid()) { map.fitBounds(streets.getBounds()); }
    });
  }

  // Alarms of no lane (an intrusion cable, a panic button of the zone): listed on the map.
  var zoneAlarms = L.control({ position: "bottomleft" });
  zoneAlarms.onAdd = function () {
    var box = L.DomUtil.create("div", "zone-alarms");
    box.hidden = true;
    return box;
  };
  zoneAlarms.addTo(map);
  function renderZoneAlarms(list) {
    var box = zoneAlarms.getContainer();
    var items = list.map(function (a) { return text("li", a.kind_label + " · " + a.zone + " · " + a.raised_at, "badge alarm"); });
    var ul = document.createElement("ul");
    ul.replaceChildren.apply(ul, items);
    box.replaceChildren(text("strong", words.zone_alarms || "Alarms of the zone"), ul);
    box.hidden = !list.length;
  }

  root.addEventListener("rempart:update", function (event) {
    var data = event.detail;
    lanes = {};
    data.lanes.forEach(function (lane) { lanes[lane.id] = lane; });
    renderZoneAlarms(data.alarms.filter(function (a) { return !a.lane; }));
    alarms = {};
    data.alarms.forEach(function (a) {
      // open alarms: not yet acknowledged or cause not yet ended
      if (a.lane) { (alarms[a.lane] = alarms[a.lane] || []).push(a); }
    });
    Object.keys(markers).forEach(paint);
  });
  // the lanes as the page was rendered, before the first update
  Array.prototype.forEach.call(root.querySelectorAll("tr[data-lane]"), function (row) {
    lanes[row.dataset.lane] = { state: row.dataset.state, barriers: [] };
  });
  Object.keys(markers).forEach(paint);
  window.addEventListener("resize", function () { map.invalidateSize(); });
})();
