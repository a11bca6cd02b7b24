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

  /* A grid's or squad's name in the page's language: the English one where the data has it. */
  function named(name, english, labels) {
    return (labels.lang === "en" && english) || name || "";
  }

  function popup(props, labels) {
    function local(iso) { return window.gridgovTime(iso, labels.lang, labels.tz); }
    var box = document.createElement("div");
    box.className = "gg-case";
    box.appendChild(text("strong", "#" + props.id + " " + (labels.lang === "en"
      ? props.category.name_en : props.category.name_zh)));
    var rows = [
      [labels.status, labels.statuses[props.status] || props.status],
      [labels.grid, props.grid ? named(props.grid.name, props.grid.name_en, labels) : ""],
      [labels.squad, props.squad ? named(props.squad.name, props.squad.name_en, labels)
                                 : labels.none],
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

  /*
   * A cluster of cases: its ring shares out the statuses it holds, its middle has the
   * colour of the commonest one (the legend's colours); square-ish and dark-edged, so
   * that it never looks like a merchants' cluster.
   */
  function clusterIcon(labels) {
    return function (group) {
      var n = group.getChildCount();
      var counts = {};
      group.getAllChildMarkers().forEach(function (m) {
        var status = m.feature ? m.feature.properties.status : "";
        counts[status] = (counts[status] || 0) + 1;
      });
      var statuses = Object.keys(labels.colours).filter(function (s) { return counts[s]; });
      var top = statuses.reduce(function (a, s) { return counts[s] > (counts[a] || 0) ? s : a; },
                                statuses[0]);
      var at = 0, stops = [], title = [];
      statuses.forEach(function (s) {
        var to = at + 360 * counts[s] / n;
        stops.push(labels.colours[s] + " " + at.toFixed(1) + "deg " + to.toFixed(1) + "deg");
        title.push((labels.statuses[s] || s) + " " + counts[s]);
        at = to;
      });
      var size = n < 10 ? 34 : n < 100 ? 40 : 46;
      var el = document.createElement("div");
      el.className = "gg-ring";
      el.style.background = stops.length ? "conic-gradient(" + stops.join(",") + ")" : "#333";
      var middle = text("span", n);
      middle.style.background = labels.colours[top] || "#333333";
      middle.setAttribute("data-status", top || "");
      el.appendChild(middle);
      el.title = title.join(" · ");
      return L.divIcon({
        html: el.outerHTML,
        className: "gg-case-cluster",
        iconSize: L.point(size, size)
      });
    };
  }

  /*
   * The filters of the case layer: a set of statuses, a category, overdue only, and
   * a period (changed in the last so many days).  They go to the API as query
   * parameters, for the cases and for the counts alike; a changed case the poll
   * brings back is drawn or taken away by the same test here.
   */
  function defaultFilter(options) {
    return { status: (options.openStatuses || []).slice(), category: "", overdue: false, days: 0 };
  }

  function periodStart(filter) {
    if (!filter.days) { return null; }
    var now = serverNow();
    if (!(now >= 0)) { return null; }
    return new Date(now - filter.days * 86400000).toISOString().replace(/\.\d+Z$/, "Z");
  }

  function filterParams(params, filter) {
    if (filter.status.length) { params.set("status", filter.status.join(",")); }
    if (filter.category) { params.set("category", filter.category); }
    if (filter.overdue) { params.set("overdue", "true"); }
    var start = periodStart(filter);
    if (start) { params.set("since", start); }
    return params;
  }

  function matches(props, filter) {
    if (filter.status.length && filter.status.indexOf(props.status) < 0) { return false; }
    if (filter.category && props.category.code !== filter.category) { return false; }
    if (filter.overdue && !props.overdue) { return false; }
    var start = periodStart(filter);
    return !start || Date.parse(props.updated_at) >= Date.parse(start);
  }

  /* Start the live case layer on a map; returns the layers so tests can look. */
  window.gridgovCases = function (map, options) {
    var labels = options.labels;
    var cluster = L.markerClusterGroup({
      disableClusteringAtZoom: 18, iconCreateFunction: clusterIcon(labels)
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
      mode: null, serverNow: serverNow, filter: defaultFilter(options), polls: 0
    };

    function put(feature) {
      var old = byId[feature.id];
      if (old) { cluster.removeLayer(old); }
      var m = marker(feature, labels);
      byId[feature.id] = m;
      cluster.addLayer(m);
    }

    function drop(id) {
      if (byId[id]) { cluster.removeLayer(byId[id]); delete byId[id]; }
    }

    /* Whether case ``id`` lies in the box a query (URL parameters) asked about. */
    function inView(id, query) {
      var box = (new URLSearchParams(query || "").get("bbox") || "").split(",").map(Number);
      var c = byId[id].feature.geometry.coordinates;
      return c[0] >= box[0] && c[0] <= box[2] && c[1] >= box[1] && c[1] <= box[3];
    }

    /* A changed case: drawn while it passes the filters, taken away when it no longer does. */
    function update(feature) {
      if (matches(feature.properties, state.filter)) { put(feature); } else { drop(feature.id); }
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
      filterParams(params, state.filter);
      state.query = params.toString();
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
      // the changes since the last answer whatever the filters, to move cases out as well
      // as in; else the cases that pass them
      changedOnly = changedOnly && since;
      if (changedOnly) { params.set("since", since); } else { filterParams(params, state.filter); }
      var asked = params.toString();
      return fetch(options.api + "/issues?" + asked, { credentials: "same-origin" })
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
          if (changedOnly) {
            body.features.forEach(update);
          } else {
            // the whole answer for the filters in view: what in view is no longer in it goes
            var kept = {};
            body.features.forEach(function (f) { kept[f.id] = true; put(f); });
            Object.keys(byId).forEach(function (id) {
              if (!kept[id] && inView(id, asked)) { drop(id); }
            });
            state.query = asked;
            state.total = body.total;
          }
          refreshHeat();
          // the cases in view that pass the filters (the earlier views' stay drawn)
          var shown = Object.keys(byId).filter(function (id) { return inView(id, state.query); });
          map.fire("gridgov:cases", { count: shown.length });
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }

    var style = document.createElement("style");
    style.textContent = ".gg-case-cluster .gg-ring{width:100%;height:100%;border-radius:30%;" +
      "display:flex;align-items:center;justify-content:center;box-sizing:border-box;" +
      "border:2px solid #222;box-shadow:0 1px 4px rgba(0,0,0,.5)}" +
      ".gg-case-cluster .gg-ring span{display:flex;align-items:center;justify-content:center;" +
      "width:64%;height:64%;border-radius:30%;color:#fff;font:bold 12px sans-serif;" +
      "text-shadow:0 0 2px #000}" +
      ".gg-case-icon span{display:flex;width:22px;height:22px;" +
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
      if (!token) { squads.clearLayers(); return; }
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
            m.bindTooltip(text("span", named(s.squad_name, s.squad_name_en, labels) + " · " +
                               labels.load + " " + s.load +
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
    // the dock's sign-in and sign-out (static/gridgov-signin.js) take effect at once
    window.addEventListener("gridgov-signin", loadSquads);
    /* New filters: every case is asked for again, and the counts with them. */
    state.setFilter = function (filter) {
      state.filter = {
        status: filter.status || [], category: filter.category || "",
        overdue: !!filter.overdue, days: Number(filter.days) || 0
      };
      since = null;
      crowded = false;
      cluster.clearLayers();
      Object.keys(byId).forEach(function (id) { delete byId[id]; });
      return load(false);
    };

    /*
     * The grid fill: each grid coloured by its open (or overdue) cases from /stats, at
     * load (the page itself carries no counts: it is rendered once for many) and again
     * after every poll (every open case, whenever reported,
     * as the page counted them); the fill pales while the heat map is on.
     */
    var heatOn = false;
    function countColour(value, top, colours) {
      if (!(value > 0) || !(top > 0)) { return colours[0]; }
      var step = Math.max(1, Math.ceil(top / (colours.length - 1)));
      return colours[Math.min(colours.length - 1, 1 + Math.floor((value - 1) / step))];
    }
    /* layers/colours.py's count_legend: (colour, counts) for each colour countColour gives. */
    function countLegend(top, colours) {
      var entries = [[colours[0], "0"]];
      var step = Math.max(1, Math.ceil(top / (colours.length - 1)));
      for (var i = 0; i < colours.length - 1; i++) {
        var low = 1 + i * step, high = Math.min(top, (i + 1) * step);
        if (low > top) { break; }
        entries.push([colours[i + 1], low === high ? String(low) : low + "\u2013" + high]);
      }
      return entries;
    }
    state.countLegend = countLegend;
    /* The dock's legend of a grid fill, for the counts now on the map. */
    function showScale(scale) {
      var box = document.querySelector(".gg-scale[data-column='" + scale.column + "']");
      if (!box) { return; }
      box.querySelectorAll(".gg-swatch, .gg-swatch-text").forEach(function (el) { el.remove(); });
      countLegend(scale.top, scale.colours).forEach(function (entry) {
        var swatch = document.createElement("span");
        swatch.className = "gg-swatch";
        swatch.style.background = entry[0];
        box.appendChild(swatch);
        box.appendChild(text("span", entry[1], "gg-swatch-text"));
      });
    }
    function restyleGrids() {
      (options.gridLayers || []).forEach(function (g, i) {
        var scale = options.gridScales[i];
        var top = 0;
        g.eachLayer(function (l) {
          top = Math.max(top, Number(l.feature.properties[scale.column]) || 0);
        });
        g.eachLayer(function (l) {
          l.setStyle({
            fillColor: countColour(Number(l.feature.properties[scale.column]) || 0, top,
                                   scale.colours),
            fillOpacity: heatOn ? 0.12 : 0.55
          });
        });
        scale.top = top;
        showScale(scale);
      });
      map.getContainer().classList.toggle("gg-heat-on", heatOn);
    }
    state.restyleGrids = restyleGrids;
    state.gridLayers = options.gridLayers || [];
    map.on("overlayadd", function (e) { if (e.layer === heat) { heatOn = true; restyleGrids(); } });
    map.on("overlayremove", function (e) {
      if (e.layer === heat) { heatOn = false; restyleGrids(); }
    });

    function loadGrids() {
      if (!(options.gridLayers || []).length) { return null; }
      var params = new URLSearchParams({ group_by: "grid", from: "2000-01-01" });
      if (options.area) { params.set("area", options.area); }
      return fetch(options.api + "/stats?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var byCode = {};
          body.rows.forEach(function (r) { byCode[r.key] = r; });
          options.gridLayers.forEach(function (g) {
            g.eachLayer(function (l) {
              var row = byCode[l.feature.properties.code] || {};
              l.feature.properties.open_cases = row.open || 0;
              l.feature.properties.overdue_cases = row.overdue || 0;
            });
          });
          restyleGrids();
          state.gridLoads = (state.gridLoads || 0) + 1;
          document.dispatchEvent(new CustomEvent("gridgov:grids", {
            detail: { rows: body.rows, scales: options.gridScales }
          }));
        })
        .catch(function () { /* the next poll tries again */ });
    }
    state.loadGrids = loadGrids;
    map.on("gridgov:poll", loadGrids);

    /*
     * The squads' pins: each tooltip gives the squad's load (its open tasks) from the
     * API, at load and on every poll.  The name in the marker's options is the page's
     * (HTML-escaped) text, as the tooltip the server wrote had it.
     */
    function loadSquadLoads() {
      if (!options.squadBases) { return null; }
      return fetch(options.api + "/squads/loads", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          options.squadBases.eachLayer(function (m) {
            var o = m.options;
            if (!o.squadId) { return; }
            var tip = o.squadName + " · " + labels.load + " " + (body.loads[o.squadId] || 0) +
              "/" + o.capacity;
            m.setTooltipContent(tip);
            if (m.getPopup()) { m.setPopupContent(tip); }
          });
          state.squadLoads = (state.squadLoads || 0) + 1;
        })
        .catch(function () { /* the next poll tries again */ });
    }
    state.loadSquadLoads = loadSquadLoads;
    map.on("gridgov:poll", loadSquadLoads);

    /* The filter form of the dock, when the page has one: its choices, the categories. */
    function bindFilters(form) {
      var all = Object.keys(labels.colours);
      var open = options.openStatuses || [];
      function statuses(choice) {
        if (choice === "open") { return open.slice(); }
        if (choice === "done") { return all.filter(function (s) { return open.indexOf(s) < 0; }); }
        if (choice === "all") { return []; }
        return [choice];
      }
      function read() {
        return {
          status: statuses(form.elements.status.value),
          category: form.elements.category.value,
          overdue: form.elements.overdue.checked,
          days: form.elements.days.value
        };
      }
      form.addEventListener("change", function () { state.setFilter(read()); });
      form.addEventListener("submit", function (e) { e.preventDefault(); });
      var params = new URLSearchParams();
      if (options.area) { params.set("area", options.area); }
      fetch(options.api + "/categories?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var select = form.elements.category;
          body.categories.forEach(function (c) {
            var name = labels.lang === "en" ? c.name_en : c.name_zh;
            var option = text("option", (labels.glyphs[c.code] || "") + " " + name);
            option.value = c.code;
            select.appendChild(option);
            document.querySelectorAll(".gg-glyph-name[data-code='" + c.code + "']")
              .forEach(function (el) { el.textContent = name; });
          });
        })
        .catch(function () { /* the categories stay unnamed */ });
      map.on("gridgov:cases", function (e) {
        var out = form.querySelector(".gg-filter-count");
        if (out) { out.textContent = labels.shown.replace("{n}", String(e.count)); }
      });
    }
    var form = document.getElementById("gg-filters");
    if (form) { bindFilters(form); }

    load(false);
    loadGrids();
    loadSquadLoads();
    /*
     * Each poll brings the changes; every sixth asks again for every case that passes
     * the filters (a case can age out of the period or become overdue unchanged).
     * Then the map hears "gridgov:poll": the grid fill and the statistics follow.
     */
    setInterval(function () {
      state.polls += 1;
      load(state.polls % 6 !== 0);
      map.fire("gridgov:poll", { polls: state.polls });
    }, options.refreshMs || 10000);
    window.gridgovState = state;
    return state;
  };
}());
