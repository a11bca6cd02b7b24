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

  /*
   * The server's clock, never the browser's: every list answer carries the
   * server's `now`; between answers the page adds the time elapsed since the
   * last one (a monotonic clock, so a wrong or changed phone clock is harmless).
   */
  var serverClock = { at: null, received: 0 };

  function setServerNow(iso) {
    var at = Date.parse(iso);
    if (at >= 0) {
      serverClock.at = at;
      serverClock.received = performance.now();
    }
  }

  function serverNow() {
    if (serverClock.at === null) { return NaN; }
    return serverClock.at + (performance.now() - serverClock.received);
  }

  function age(iso, labels) {
    var hours = (serverNow() - Date.parse(iso)) / 3600000;
    if (!(hours >= 0)) { return ""; }
    return hours < 48 ? Math.floor(hours) + " " + labels.hours
                      : Math.floor(hours / 24) + " " + labels.days;
  }

  /* Staff who signed in on a case page see the case's first photo too. */
  function thumbnail(props, box) {
    var token = window.localStorage && localStorage.getItem("gridgovToken");
    if (!token) { return; }
    var auth = { headers: { "Authorization": "Bearer " + token } };
    fetch("/api/v1/issues/" + encodeURIComponent(props.id), auth)
      .then(function (r) { return r.ok ? r.json() : { photos: [] }; })
      .then(function (c) {
        if (!c.photos || !c.photos.length) { return null; }
        return fetch(c.photos[0].thumbnail_url, auth).then(function (r) { return r.blob(); });
      })
      .then(function (blob) {
        if (!blob) { return; }
        var img = document.createElement("img");
        img.className = "gg-thumb";
        img.src = URL.createObjectURL(blob);
        img.style.maxWidth = "160px";
        box.insertBefore(img, box.lastChild);
      })
      .catch(function () { /* no photo then */ });
  }

  function popup(props, labels) {
    function local(iso) { return window.gridgovTime(iso, labels.lang, labels.tz); }
    var box = document.createElement("div");
    box.className = "gg-case";
    box.appendChild(text("strong", "#" + props.id + " " + (labels.lang === "en"
      ? props.category.name_en : props.category.name_zh)));
    var rows = [
      [labels.status, labels.statuses[props.status] || props.status],
      [labels.grid, props.grid ? props.grid.name : ""],
      [labels.squad, props.squad ? props.squad.name : labels.none],
      [labels.reported, local(props.reported_at) + " (" + age(props.reported_at, labels) + ")"],
      [labels.deadline, local(props.deadline) + (props.overdue ? " (" + labels.overdue + ")" : "")]
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
    thumbnail(props, box);
    return box;
  }

  /*
   * Basemaps in GCJ-02 (Amap) move every overlay (static/gridgov-gcj.js): layers are
   * made at their WGS84 place and handed to `place`, which draws them where the
   * current basemap has that place, and the view's box is turned back to WGS84.
   */
  function place(layer) {
    return window.gridgovPlace ? window.gridgovPlace(layer) : layer;
  }

  function unproject(latlng) {
    return window.gridgovUnproject ? window.gridgovUnproject(latlng) : L.latLng(latlng);
  }

  function marker(feature, labels) {
    var c = feature.geometry.coordinates;
    var props = feature.properties;
    var colour = labels.colours[props.status] || "#333333";
    // colour tells the status, the glyph the category, a dark ring that it is overdue
    var glyph = (labels.glyphs[props.category.code] || "?");
    var icon = L.divIcon({
      className: "gg-case-icon" + (props.overdue ? " gg-late" : ""),
      html: "<span style=\"background:" + colour + "\">" + glyph + "</span>",
      iconSize: [22, 22]
    });
    var m = L.marker([c[1], c[0]], { icon: icon, title: "#" + props.id });
    m.bindPopup(function () { return popup(props, labels); });
    m.feature = feature;
    return place(m);
  }

  /* A cluster of cases: markercluster's look, with a class of its own (merchants cluster too). */
  function clusterIcon(group) {
    var n = group.getChildCount();
    var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    return L.divIcon({
      html: "<div><span>" + n + "</span></div>",
      className: "marker-cluster marker-cluster-" + size + " gg-case-cluster",
      iconSize: L.point(40, 40)
    });
  }

  /* Start the live case layer on a map; returns the layers so tests can look. */
  window.gridgovCases = function (map, options) {
    var labels = options.labels;
    var cluster = L.markerClusterGroup({
      disableClusteringAtZoom: 18, iconCreateFunction: clusterIcon
    });
    var cells = L.layerGroup();
    /*
     * One overlay (案件) holds whichever of the two is due: the cases, clustered,
     * when zoomed in; the counts per square when zoomed out, or when the view holds
     * more cases than one answer carries.  Its tick is the user's alone: zooming
     * only swaps what is inside it, and while it is unticked neither is drawn.
     */
    var layer = L.layerGroup();
    var heat = L.heatLayer ? L.heatLayer([], { radius: 25 }) : null;
    var byId = {};
    var since = null;
    var state = {
      layer: layer, cluster: cluster, cells: cells, heat: heat, byId: byId, fetches: 0,
      mode: null, serverNow: serverNow
    };

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
          points.push([f.geometry.coordinates[1], f.geometry.coordinates[0], 1]);
        }
      });
      if (window.gridgovMove) {
        window.gridgovMove(heat, points);
      } else {
        heat.setLatLngs(points);
      }
    }

    /* The view's box in WGS84, whatever the basemap draws in. */
    function bbox() {
      var b = map.getBounds();
      var sw = unproject(b.getSouthWest()), ne = unproject(b.getNorthEast());
      return [sw.lng, sw.lat, ne.lng, ne.lat].join(",");
    }

    /* Zoomed out: counts per lattice square from the server, not every case. */
    function loadCells() {
      var cellDeg = 360 / Math.pow(2, map.getZoom()) / 8;
      var params = new URLSearchParams({ bbox: bbox(), cell_deg: String(cellDeg) });
      if (options.area) { params.set("area", options.area); }
      return fetch(options.api + "/issues/cells?" + params.toString(),
                   { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          state.fetches += 1;
          setServerNow(body.now);
          cells.clearLayers();
          body.cells.forEach(function (c) {
            var size = 18 + Math.min(30, 6 * Math.log10(c.count + 1) * 2);
            var icon = L.divIcon({
              className: "gg-cell" + (c.overdue ? " gg-cell-late" : ""),
              html: "<span>" + Number(c.count) + "</span>", iconSize: [size, size]
            });
            cells.addLayer(place(L.marker([c.lat, c.lon], { icon: icon })));
          });
          state.total = body.total;
          map.fire("gridgov:cases", { count: body.total });
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }

    // a view holding more cases than one answer carries shows counts instead
    var crowded = false;

    function detailed() { return !crowded && map.getZoom() >= (options.detailZoom || 16); }

    /* Put the representation the view needs inside the 案件 overlay, and only that one. */
    function switchMode() {
      var wanted = detailed() ? "cases" : "cells";
      if (wanted === state.mode) { return; }
      state.mode = wanted;
      layer.removeLayer(wanted === "cases" ? cells : cluster);
      layer.addLayer(wanted === "cases" ? cluster : cells);
    }

    function load(changedOnly) {
      switchMode();
      if (!detailed()) { return loadCells(); }
      var params = new URLSearchParams({ bbox: bbox(), limit: "1000" });
      if (options.area) { params.set("area", options.area); }  // a community's cases only
      if (changedOnly && since) { params.set("since", since); }
      return fetch(options.api + "/issues?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (!changedOnly && body.total > body.features.length) {
            crowded = true;
            switchMode();
            return loadCells();
          }
          state.fetches += 1;
          since = body.now;
          setServerNow(body.now);
          body.features.forEach(put);
          refreshHeat();
          map.fire("gridgov:cases", { count: Object.keys(byId).length });
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }

    var style = document.createElement("style");
    style.textContent = ".gg-case-icon span{display:flex;width:22px;height:22px;" +
      "border-radius:50%;border:2px solid #fff;color:#fff;font:bold 11px sans-serif;" +
      "align-items:center;justify-content:center;box-sizing:border-box}" +
      ".gg-late span{border:3px solid #000}.gg-hide-labels .gg-grid-label{display:none}" +
      ".gg-cell{background:rgba(31,119,180,.75);border-radius:50%;" +
      "color:#fff;font:bold 11px sans-serif;display:flex;align-items:center;" +
      "justify-content:center}.gg-cell-late{background:rgba(203,24,29,.8)}";
    document.head.appendChild(style);
    map.on("moveend", function () { crowded = false; load(false); });
    map.on("zoomend", function () {
      map.getContainer().classList.toggle("gg-hide-labels", map.getZoom() < 15);
    });

    /* Staff signed in see where the squads are now; the public sees their bases. */
    var squads = L.layerGroup();
    state.squads = squads;
    function loadSquads() {
      var token = window.localStorage && localStorage.getItem("gridgovToken");
      if (!token) { return; }
      fetch(options.api + "/squads/positions",
            { headers: { "Authorization": "Bearer " + token } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          squads.clearLayers();
          body.squads.forEach(function (s) {
            var m = place(L.circleMarker([s.position.lat, s.position.lon], {
              radius: 9, color: "#08519c", weight: 3, fillColor: "#6baed6", fillOpacity: 0.9
            }));
            m.bindTooltip(text("span", s.squad_name + " · " + labels.load + " " + s.load +
                               "/" + s.capacity));
            m.squad = s;
            squads.addLayer(m);
          });
          if (!map.hasLayer(squads)) { squads.addTo(map); }
        })
        .catch(function () { /* next poll */ });
    }
    loadSquads();
    setInterval(loadSquads, options.refreshMs || 10000);
    load(false);
    setInterval(function () { load(true); }, options.refreshMs || 10000);
    window.gridgovState = state;
    return state;
  };
}());
