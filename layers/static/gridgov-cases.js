/*
 * gridgov: the live case layer of the grid managers' map.
 *
 * Cases are not embedded in the page: they are fetched from the API for the
 * part of the map in view, clustered, and refreshed every few seconds with only
 * what changed since the last answer.  Every text that came from a resident is
 * set with textContent, never as markup.
 */
(function () {
  "use strict";

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    if (className) { el.className = className; }
    return el;
  }

  function popup(props, labels) {
    var box = document.createElement("div");
    box.className = "gg-case";
    box.appendChild(text("strong", "#" + props.id + " " + (labels.lang === "en"
      ? props.category.name_en : props.category.name_zh)));
    var rows = [
      [labels.status, labels.statuses[props.status] || props.status],
      [labels.grid, props.grid ? props.grid.name : ""],
      [labels.squad, props.squad ? props.squad.name : labels.none],
      [labels.reported, props.reported_at],
      [labels.deadline, props.deadline + (props.overdue ? " (" + labels.overdue + ")" : "")]
    ];
    var table = document.createElement("table");
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.appendChild(text("th", row[0]));
      tr.appendChild(text("td", row[1]));
      table.appendChild(tr);
    });
    box.appendChild(table);
    box.appendChild(text("p", props.description, "gg-description"));
    var link = document.createElement("a");
    link.href = "/issues/" + encodeURIComponent(props.id);
    link.textContent = labels.open_case;
    box.appendChild(link);
    return box;
  }

  function project(latlng) {
    return window.gridgovProject ? window.gridgovProject(latlng) : L.latLng(latlng);
  }

  function marker(feature, labels) {
    var c = feature.geometry.coordinates;
    var props = feature.properties;
    var colour = labels.colours[props.status] || "#333333";
    var wgs = L.latLng(c[1], c[0]);
    var m = L.circleMarker(project(wgs), {
      radius: props.overdue ? 9 : 7, color: props.overdue ? "#000000" : "#ffffff",
      weight: props.overdue ? 3 : 1, fillColor: colour, fillOpacity: 0.9
    });
    m.bindPopup(function () { return popup(props, labels); });
    m.feature = feature;
    m._ggWgs = wgs;
    return m;
  }

  /* Start the live case layer on a map; returns the layers so tests can look. */
  window.gridgovCases = function (map, options) {
    var labels = options.labels;
    var cluster = L.markerClusterGroup({ disableClusteringAtZoom: 18 });
    var heat = L.heatLayer ? L.heatLayer([], { radius: 25 }) : null;
    var byId = {};
    var since = null;
    var state = { cluster: cluster, heat: heat, byId: byId, fetches: 0 };

    function put(feature) {
      var old = byId[feature.id];
      if (old) { cluster.removeLayer(old); }
      var m = marker(feature, labels);
      byId[feature.id] = m;
      cluster.addLayer(m);
    }

    function refreshHeat() {
      if (!heat) { return; }
      var points = [];
      Object.keys(byId).forEach(function (id) {
        var f = byId[id].feature;
        if (f.properties.status !== "closed") {
          var at = project([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
          points.push([at.lat, at.lng, 1]);
        }
      });
      heat.setLatLngs(points);
    }

    var cells = L.layerGroup();
    state.cells = cells;
    state.mode = null;

    function bbox() {
      var b = map.getBounds();
      return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(",");
    }

    /* Zoomed out: counts per lattice square from the server, not every case. */
    function loadCells() {
      var cellDeg = 360 / Math.pow(2, map.getZoom()) / 8;
      var params = new URLSearchParams({ bbox: bbox(), cell_deg: String(cellDeg) });
      return fetch(options.api + "/issues/cells?" + params.toString(),
                   { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          state.fetches += 1;
          cells.clearLayers();
          body.cells.forEach(function (c) {
            var size = 18 + Math.min(30, 6 * Math.log10(c.count + 1) * 2);
            var icon = L.divIcon({
              className: "gg-cell" + (c.overdue ? " gg-cell-late" : ""),
              html: "<span>" + Number(c.count) + "</span>", iconSize: [size, size]
            });
            cells.addLayer(L.marker(project([c.lat, c.lon]), { icon: icon }));
          });
          state.total = body.total;
          map.fire("gridgov:cases", { count: body.total });
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }

    function detailed() { return map.getZoom() >= (options.detailZoom || 16); }

    function switchMode() {
      var wanted = detailed() ? "cases" : "cells";
      if (wanted === state.mode) { return; }
      state.mode = wanted;
      if (wanted === "cases") {
        if (map.hasLayer(cells)) { map.removeLayer(cells); }
        if (!map.hasLayer(cluster)) { map.addLayer(cluster); }
      } else {
        if (map.hasLayer(cluster)) { map.removeLayer(cluster); }
        if (!map.hasLayer(cells)) { map.addLayer(cells); }
      }
    }

    function load(changedOnly) {
      switchMode();
      if (!detailed()) { return loadCells(); }
      var params = new URLSearchParams({ bbox: bbox(), limit: "1000" });
      if (changedOnly && since) { params.set("since", since); }
      return fetch(options.api + "/issues?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          state.fetches += 1;
          since = body.now;
          body.features.forEach(put);
          refreshHeat();
          map.fire("gridgov:cases", { count: Object.keys(byId).length });
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }

    var style = document.createElement("style");
    style.textContent = ".gg-cell{background:rgba(31,119,180,.75);border-radius:50%;" +
      "color:#fff;font:bold 11px sans-serif;display:flex;align-items:center;" +
      "justify-content:center}.gg-cell-late{background:rgba(203,24,29,.8)}";
    document.head.appendChild(style);
    map.on("moveend", function () { load(false); });
    map.on("gridgov:crs", refreshHeat);
    load(false);
    setInterval(function () { load(true); }, options.refreshMs || 10000);
    window.gridgovState = state;
    return state;
  };
}());
