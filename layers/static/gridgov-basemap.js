/*
 * gridgov: a map that reads without tiles.
 *
 * On an intranet no tile server answers and a Leaflet map is a blank grey.  This
 * draws a community from gridgov's own layers (`GET /api/v1/basemap?area=`, simplified
 * and cached by the browser): buildings and streets in a pane under the tiles, so
 * that tiles, when they load, cover them; the community's outline and its grids (with
 * their numbers, when asked) in a pane above the tiles and below every overlay.  The
 * map's ground turns pale so that white streets show.  Nothing here takes a click.
 *
 * `gridgovBasemap(map, options)`: options `api` (the API's root), `areas` (community
 * codes to draw at once, "" for every community; none: wait for `show`), `labels` (grid
 * numbers),
 * `buildingsFrom` (the zoom from which buildings are drawn).  It returns, and keeps as
 * `map.gridgovBasemap`, an object whose `show(area)` draws another community
 * (a pin or a case in it), once.
 */
(function () {
  "use strict";

  var GROUND = "gg-ground";  // under the tiles (tilePane is at 200)
  var LINES = "gg-lines";    // over the tiles, under the overlays (overlayPane is at 400)
  var STYLE = ".gg-bm{background:#f2efe9}" +
    ".gg-bm-label{font:bold 12px/16px sans-serif;color:#4a4a4a;text-align:center;" +
    "text-shadow:0 0 3px #fff,0 0 3px #fff;white-space:nowrap}";
  var WIDTH = { primary: 6, lane: 4, path: 2 };

  function pane(map, name, z) {
    var el = map.getPane(name) || map.createPane(name);
    el.style.zIndex = String(z);
    el.style.pointerEvents = "none";
    return name;
  }

  window.gridgovBasemap = function (map, options) {
    options = options || {};
    var buildingsFrom = options.buildingsFrom || 16;
    pane(map, GROUND, 150);
    pane(map, LINES, 350);
    map.getContainer().classList.add("gg-bm");
    if (!document.getElementById("gg-bm-style")) {
      var style = document.createElement("style");
      style.id = "gg-bm-style";
      style.textContent = STYLE;
      document.head.appendChild(style);
    }
    var buildings = L.layerGroup();
    var asked = {};

    function only(body, layer) {
      return {
        type: "FeatureCollection",
        features: body.features.filter(function (f) { return f.properties.layer === layer; })
      };
    }

    function streets(body, casing) {
      return L.geoJSON(only(body, "streets"), {
        pane: GROUND,
        interactive: false,
        style: function (f) {
          var w = WIDTH[f.properties.kind] || 2;
          return casing
            ? { color: "#d3cdc2", weight: w + 2, lineCap: "round", lineJoin: "round" }
            : { color: "#ffffff", weight: w, lineCap: "round", lineJoin: "round" };
        }
      });
    }

    function label(feature) {
      var p = feature.properties;
      var box = document.createElement("div");
      box.textContent = String(p.code || "").slice(-3);
      return L.marker([p.label[1], p.label[0]], {
        pane: LINES,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: "gg-bm-label", html: box, iconSize: [40, 16],
          iconAnchor: [20, 8] })
      });
    }

    function draw(body) {
      L.geoJSON(only(body, "buildings"), {
        pane: GROUND,
        interactive: false,
        style: { stroke: true, color: "#cbc6bd", weight: 0.5, fillColor: "#dcd8d0",
          fillOpacity: 1 }
      }).addTo(buildings);
      streets(body, true).addTo(map);
      streets(body, false).addTo(map);
      L.geoJSON(only(body, "grids"), {
        pane: LINES,
        interactive: false,
        style: { color: "#55657f", weight: 2, opacity: 0.9, dashArray: "6 4", fill: false }
      }).addTo(map);
      L.geoJSON(only(body, "community"), {
        pane: LINES,
        interactive: false,
        style: { color: "#5b3f8c", weight: 3, opacity: 0.9, fill: false }
      }).addTo(map);
      if (options.labels) {
        only(body, "grids").features.forEach(function (f) {
          if (f.properties.label) { label(f).addTo(map); }
        });
      }
      zoomed();
    }

    function zoomed() {
      if (map.getZoom() >= buildingsFrom) {
        if (!map.hasLayer(buildings)) { buildings.addTo(map); }
      } else if (map.hasLayer(buildings)) {
        map.removeLayer(buildings);
      }
    }
    map.on("zoomend", zoomed);

    /* Draw community `area` (or, with none, every community) unless it is drawn already. */
    function show(area) {
      var key = area || "";
      if (asked[key]) { return asked[key]; }
      var url = options.api + "/basemap" + (area ? "?area=" + encodeURIComponent(area) : "");
      asked[key] = fetch(url)
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(draw)
        .catch(function () { delete asked[key]; });  // offline: the next call tries again
      return asked[key];
    }

    var handle = { show: show };
    map.gridgovBasemap = handle;
    (options.areas || []).forEach(show);
    return handle;
  };
})();
