// Maps of rempart: Leaflet served locally (no CDN). A map element declares, in data attributes,
// the json_script element holding its GeoJSON features, an optional street base map URL (drawn
// as vector lines so the map works offline), optional raster tiles, an optional speed-field
// URL (heat map) and an optional textarea that receives the polygon drawn with Leaflet.draw.
(function () {
  "use strict";
  var SPEED_COLOURS = [[0, "#2c7bb6"], [20, "#00a6ca"], [30, "#90eb9d"], [40, "#f9d057"], [50, "#f29e2e"], [64, "#e76818"], [80, "#d7191c"], [96, "#7a0177"]];
  function speedColour(kmh) {
    var colour = SPEED_COLOURS[0][1];
    for (var i = 0; i < SPEED_COLOURS.length; i++) { if (kmh >= SPEED_COLOURS[i][0]) { colour = SPEED_COLOURS[i][1]; } }
    return colour;
  }
  function readJson(id) {
    var element = id && document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  function siteStyle(feature) {
    var p = feature.properties || {};
    if (p.kind === "plan") { return { color: p.active ? "#0b4f8a" : "#111", weight: 6 }; }
    if (p.kind === "runup") { return { color: "#a4141b", weight: 3, dashArray: "6 4" }; }
    if (p.kind === "stretch") { return { color: p.speed_kmh == null ? "#777" : speedColour(p.speed_kmh), weight: 7, opacity: 0.9 }; }
    return { color: "#a4141b", weight: 2, fillColor: "#f29e2e", fillOpacity: 0.25 };
  }
  function popup(feature, layer) {
    var p = feature.properties || {};
    var lines = [];
    if (p.name) { lines.push(p.url ? '<a href="' + p.url + '">' + escapeHtml(p.name) + "</a>" : "<strong>" + escapeHtml(p.name) + "</strong>"); }
    if (p.label) { lines.push(escapeHtml(p.label)); }
    if (lines.length) { layer.bindPopup(lines.join("<br>")); }
    if (p.kind === "entry" && p.number != null && layer.bindTooltip) {
      layer.bindTooltip(String(p.number), { permanent: true, direction: "center", className: "entry-number" });
    }
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; });
  }
  function init(element) {
    var map = L.map(element, { preferCanvas: true });
    element._leafletMap = map;
    if (element.dataset.tiles) { L.tileLayer(element.dataset.tiles, { maxZoom: 19 }).addTo(map); }
    var features = readJson(element.dataset.features) || { type: "FeatureCollection", features: [] };
    var sites = L.geoJSON(features, {
      style: siteStyle, onEachFeature: popup,
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 6, color: "#a4141b", fillOpacity: 0.9 }); }
    }).addTo(map);
    var bounds = sites.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds.pad(0.3)); } else { map.setView([60.1699, 24.9384], 15); }
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
    if (element.dataset.speedUrl) {
      fetch(element.dataset.speedUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data) { return; }
        L.geoJSON(data, { style: function (f) { return { color: speedColour((f.properties || {}).speed_kmh || 0), weight: 4, opacity: 0.9 }; },
          onEachFeature: function (f, layer) { layer.bindTooltip(Math.round((f.properties || {}).speed_kmh || 0) + " km/h"); } }).addTo(map);
        sites.bringToFront();
        var legend = L.control({ position: "bottomright" });
        legend.onAdd = function () {
          var div = L.DomUtil.create("div", "legend");
          div.innerHTML = SPEED_COLOURS.map(function (s) { return '<i style="background:' + s[1] + '"></i>≥ ' + s[0] + " km/h"; }).join("<br>");
          return div;
        };
        legend.addTo(map);
      });
    }
    var targetId = element.dataset.drawTarget;
    if (targetId) {
      var target = document.getElementById(targetId);
      var drawn = new L.FeatureGroup();
      sites.eachLayer(function (layer) { drawn.addLayer(layer); });
      map.addLayer(drawn);
      map.addControl(new L.Control.Draw({
        draw: { polygon: { allowIntersection: false, showArea: true }, rectangle: true, polyline: false, circle: false, marker: false, circlemarker: false },
        edit: { featureGroup: drawn }
      }));
      var sync = function () {
        var geometries = [];
        drawn.eachLayer(function (layer) { var g = layer.toGeoJSON().geometry; if (g) { geometries.push(g); } });
        if (geometries.length === 0) { target.value = ""; return; }
        if (geometries.length === 1) { target.value = JSON.stringify(geometries[0]); return; }
        var coords = [];
        geometries.forEach(function (g) { if (g.type === "Polygon") { coords.push(g.coordinates); } else if (g.type === "MultiPolygon") { coords = coords.concat(g.coordinates); } });
        target.value = JSON.stringify({ type: "MultiPolygon", coordinates: coords });
      };
      map.on(L.Draw.Event.CREATED, function (event) { drawn.clearLayers(); drawn.addLayer(event.layer); sync(); });
      map.on(L.Draw.Event.EDITED, sync);
      map.on(L.Draw.Event.DELETED, sync);
    }
  }
  document.querySelectorAll(".map").forEach(init);
})();
