/*
 * gridgov: the planner's parking map.
 *
 * Draws a coverage answer (figures, curve and GeoJSON layers) into the map's
 * empty feature groups, the figures panel and a Chart.js chart.  A live page
 * asks /parking/coverage with the planner's token whenever a control
 * changes; an exported report draws the answer it carries.  Names from the
 * layers are set as text, never markup.
 */
(function () {
  "use strict";

  var COLOURS = { covered: "#2b8cbe", uncovered: "#e6550d", smart: "#31a354",
    plain: "#3f007d", site: "#d7301f", current: "#969696", proposed: "#08519c" };
  var AREA_COLOURS = { 150: "#238b45", 300: "#74c476", 500: "#c7e9c0" };

  function text(tag, value, className) {
    var el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    if (className) { el.className = className; }
    return el;
  }

  function tip(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line) { box.appendChild(text("div", line)); });
    return box;
  }

  function share(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }

  function formatted(key, v) {
    if (v === null || v === undefined) { return "–"; }
    if (/_share$/.test(key)) { return share(v); }
    if (key === "spaces_per_demand") { return v.toFixed(2); }
    return Math.round(v).toLocaleString();
  }

  function change(key, before, after) {
    if (before === null || after === null || before === undefined || after === undefined) {
      return "";
    }
    var d = after - before;
    if (Math.abs(d) < 1e-9) { return "0"; }
    var sign = d > 0 ? "+" : "−";
    if (/_share$/.test(key)) { return sign + (Math.abs(d) * 100).toFixed(1) + " pt"; }
    if (key === "spaces_per_demand") { return sign + Math.abs(d).toFixed(2); }
    return sign + Math.round(Math.abs(d)).toLocaleString();
  }

  // a name on the map, as text: shown at all times, never in the way of a click
  function label(latlng, name) {
    return L.marker(latlng, { interactive: false, keyboard: false,
      icon: L.divIcon({ className: "gg-label", html: text("span", name), iconSize: null,
        iconAnchor: [-10, 8] }) });
  }

  // the legend, from the same colours the layers are drawn with
  function legend(list, t) {
    var rows = [
      [COLOURS.smart, "", t.legend_smart], [COLOURS.plain, "", t.legend_plain],
      ["#fff", "gg-dashed", t.legend_planned], [COLOURS.site, "", t.suggested],
      [COLOURS.covered, "gg-square", t.layer_covered],
      [COLOURS.uncovered, "gg-square", t.layer_uncovered]
    ];
    Object.keys(AREA_COLOURS).forEach(function (m) {
      rows.push([AREA_COLOURS[m], "gg-square", t.legend_area.replace("{m}", m)]);
    });
    list.textContent = "";
    rows.forEach(function (r) {
      var item = document.createElement("li");
      var swatch = document.createElement("i");
      swatch.style.background = r[0];
      if (r[1]) { swatch.className = r[1]; }
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(r[2]));
      list.appendChild(item);
    });
  }

  window.gridgovParking = function (map, options) {
    var t = options.labels;
    var panel = document.getElementById("gg-parking");
    var message = panel.querySelector(".gg-message");
    var groups = {};
    Object.keys(options.groups).forEach(function (k) { groups[k] = window[options.groups[k]]; });
    var chart = null;
    var names = {};  // facility id → name, to name them rather than show their ids
    var onSite = null;  // a live page adds a suggested site to the plan in one click
    legend(panel.querySelector(".gg-legend"), t);
    var toggle = panel.querySelector(".gg-toggle");
    toggle.addEventListener("click", function () {
      var shut = panel.classList.toggle("gg-collapsed");
      toggle.textContent = shut ? t.expand : t.collapse;
      toggle.setAttribute("aria-expanded", shut ? "false" : "true");
    });

    var searched = 800;
    var onFacility = null;  // a live page lets planners take facilities out

    function drawLayers(layers) {
      Object.keys(groups).forEach(function (k) { groups[k].clearLayers(); });
      (layers.facilities.features || []).forEach(function (f) {
        names[f.properties.id] = f.properties.name;
      });
      L.geoJSON(layers.service_areas, {
        style: function (f) {
          return { color: AREA_COLOURS[f.properties.distance_m] || "#c7e9c0", weight: 1,
            fillOpacity: 0.25 };
        },
        interactive: false
      }).addTo(groups.areas);
      [["covered", layers.covered], ["uncovered", layers.uncovered]].forEach(function (pair) {
        L.geoJSON(pair[1], {
          style: { color: COLOURS[pair[0]], weight: 1, fillOpacity: 0.6 },
          pointToLayer: function (f, latlng) {  // a layer of entrances rather than footprints
            return L.circleMarker(latlng, { radius: 4 });
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var nearest = p.nearest_m === null
              ? t.none_within.replace("{m}", Math.round(searched))
              : (names[p.nearest] || p.nearest) + " · " + Math.round(p.nearest_m) + " " + t.metres;
            layer.bindTooltip(tip([p.name, p.households + " " + t.households,
              t.nearest + ": " + nearest]));
          }
        }).addTo(groups[pair[0]]);
      });
      L.geoJSON(layers.facilities, {
        pointToLayer: function (f, latlng) {
          var p = f.properties;
          return L.circleMarker(latlng, {
            radius: 6 + Math.sqrt(p.capacity || 0) / 2,
            color: "#fff", weight: 2, fillOpacity: 0.95,
            fillColor: p.smart ? COLOURS.smart : COLOURS.plain,
            dashArray: p.status === "planned" ? "3 3" : null
          });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.on("click", function (e) {
            L.DomEvent.stopPropagation(e);
            if (onFacility) { onFacility(p.id); }
          });
          layer.bindTooltip(tip([
            p.name + (p.smart ? " · " + t.smart : ""),
            p.capacity + " " + t.capacity + " · " + (t["status_" + p.status] || p.status),
            t.served + ": " + Math.round(p.households_served || 0)
          ]));
          label(layer.getLatLng(), p.name).addTo(groups.facilities);
        }
      }).addTo(groups.facilities);
      L.geoJSON(layers.suggested_sites, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 9, color: COLOURS.site, weight: 3,
            fillColor: "#fff", fillOpacity: 0.9 });
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(tip([t.suggested + " " + f.properties.id,
            "+" + Math.round(f.properties.new_households) + " " + t.households]
            .concat(onSite ? [t.add_site] : [])));
          layer.on("click", function (e) {
            L.DomEvent.stopPropagation(e);
            if (onSite) { onSite(layer.getLatLng()); }
          });
        }
      }).addTo(groups.sites);
      drawSites(layers.suggested_sites.features || []);
    }

    // the suggested sites with what each adds, and (live) a button to plan it
    function drawSites(sites) {
      var table = panel.querySelector(".gg-sites");
      var body = table.querySelector("tbody");
      body.textContent = "";
      table.hidden = sites.length === 0;
      sites.forEach(function (f) {
        var row = document.createElement("tr");
        row.appendChild(text("td", t.suggested + " " + f.properties.id));
        row.appendChild(text("td", "+" + Math.round(f.properties.new_households) + " " +
          t.households));
        var cell = document.createElement("td");
        if (onSite) {
          var add = text("button", t.add_site, "gg-add-site");
          add.type = "button";
          add.addEventListener("click", function () {
            var c = f.geometry.coordinates;
            onSite(L.latLng(c[1], c[0]));
          });
          cell.appendChild(add);
        }
        row.appendChild(cell);
        body.appendChild(row);
      });
    }

    function drawFigures(answer) {
      options.figures.forEach(function (key) {
        var row = panel.querySelector('tr[data-figure="' + key + '"]');
        var before = answer.before[key], after = answer.figures[key];
        row.querySelector(".gg-now").textContent = formatted(key, before);
        row.querySelector(".gg-proposed").textContent = formatted(key, after);
        var cell = row.querySelector(".gg-change");
        var d = change(key, before, after);
        cell.textContent = d;
        var better = key === "uncovered_buildings" || key === "median_nearest_m" ? "−" : "+";
        cell.className = "gg-change" + (d && d !== "0" ? (d[0] === better ? " gg-up" : " gg-down") : "");
      });
      var s = answer.suggestion;
      panel.querySelector(".gg-suggestion").textContent = s ? t.suggestion
        .replace("{n}", s.sites_chosen)
        .replace("{before}", share(s.households_covered_share_before))
        .replace("{after}", share(s.households_covered_share_after)) : "";
    }

    function drawChart(curve) {
      var labels = curve.radius_m.map(function (r) { return r + " " + t.metres; });
      var sets = [
        [t.now + " · " + t.households_covered_share, curve.current_households_covered_share,
          COLOURS.current, []],
        [t.proposed + " · " + t.households_covered_share, curve.proposed_households_covered_share,
          COLOURS.proposed, []],
        [t.now + " · " + t.smart_covered_share, curve.current_smart_covered_share,
          COLOURS.current, [4, 4]],
        [t.proposed + " · " + t.smart_covered_share, curve.proposed_smart_covered_share,
          COLOURS.proposed, [4, 4]]
      ].map(function (s) {
        return { label: s[0], data: s[1].map(function (v) { return v * 100; }), borderColor: s[2],
          backgroundColor: s[2], borderDash: s[3], pointRadius: 2, fill: false };
      });
      if (chart) {
        chart.data.labels = labels;
        chart.data.datasets = sets;
        chart.update();
        return;
      }
      chart = new Chart(panel.querySelector("canvas"), {
        type: "line",
        data: { labels: labels, datasets: sets },
        options: { animation: false, maintainAspectRatio: false,
          scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } },
          plugins: { legend: { labels: { boxWidth: 12, font: { size: 10 } } } } }
      });
    }

    function draw(answer) {
      message.textContent = "";
      searched = answer.search_m;
      drawLayers(answer.layers);
      drawFigures(answer);
      drawChart(answer.curve);
      panel.dataset.radius = String(answer.radius_m);
      panel.dataset.ready = "1";
    }

    if (options.answer) {
      var a = options.answer;
      panel.querySelector(".gg-static").textContent = t.static_note
        .replace("{r}", a.radius_m).replace("{mode}", t[a.mode]).replace("{scenario}", t[a.scenario]);
      draw(options.answer);
      return;
    }

    var radius = panel.querySelector(".gg-radius");
    var radiusOut = panel.querySelector(".gg-radius-out");
    var scenario = panel.querySelector(".gg-scenario");
    var mode = panel.querySelector(".gg-mode");
    var cars = panel.querySelector(".gg-cars");
    var p = panel.querySelector(".gg-p");
    var tokenBox = panel.querySelector(".gg-token");
    var pending = null;
    var asked = 0;
    var removed = [];
    var added = [];
    var changes = panel.querySelector(".gg-changes");

    function showChanges() {
      changes.textContent = "";
      removed.forEach(function (id) {
        var b = text("button", t.restore.replace("{id}", names[id] || id), "gg-restore");
        b.addEventListener("click", function () {
          removed = removed.filter(function (r) { return r !== id; });
          showChanges();
          soon();
        });
        changes.appendChild(b);
      });
      if (added.length) { changes.appendChild(text("span", t.added.replace("{n}", added.length))); }
    }

    onFacility = function (id) {
      if (/^NEW\d+$/.test(id)) {
        var n = Number(id.slice(3)) - 1;
        added = added.filter(function (a, i) { return i !== n; });
      } else if (removed.indexOf(id) < 0) {
        removed.push(id);
      }
      showChanges();
      soon();
    };

    function plan(latlng) {
      added.push({ lon: latlng.lng, lat: latlng.lat,
        capacity: Number(panel.querySelector(".gg-add-capacity").value) || 0,
        smart: panel.querySelector(".gg-add-smart").checked ? 1 : 0 });
      showChanges();
      soon();
    }
    onSite = plan;

    map.on("click", function (e) {
      if (panel.querySelector(".gg-add").checked) { plan(e.latlng); }
    });

    function token() { return window.localStorage && localStorage.getItem("gridgovToken"); }

    function load(suggest) {
      var key = token();
      if (!key) { message.textContent = t.need_token; return; }
      var query = new URLSearchParams({ radius_m: radius.value, scenario: scenario.value,
        mode: mode.value, cars_per_household: cars.value || "1" });
      if (suggest) { query.set("suggest", p.value || "1"); }
      if (removed.length) { query.set("remove", removed.join(",")); }
      added.forEach(function (a) {
        query.append("add", [a.lon.toFixed(6), a.lat.toFixed(6), a.capacity, a.smart].join(","));
      });
      var mine = ++asked;
      message.textContent = t.loading;
      panel.dataset.ready = "0";
      fetch(options.api + "/parking/coverage?" + query.toString(),
        { headers: { "Authorization": "Bearer " + key } })
        .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); })
        .then(function (res) {
          if (mine !== asked) { return; }  // a later question is on its way
          if (!res.ok) {
            message.textContent = res.d.error ? res.d.error.message : String(res.d);
            return;
          }
          panel.querySelector(".gg-login").style.display = "none";
          draw(res.d);
        })
        .catch(function (e) { if (mine === asked) { message.textContent = String(e); } });
    }

    function soon() {
      radiusOut.textContent = radius.value;
      clearTimeout(pending);
      pending = setTimeout(function () { load(false); }, 250);
    }

    radius.addEventListener("input", soon);
    [scenario, mode, cars].forEach(function (el) { el.addEventListener("change", soon); });
    panel.querySelector(".gg-suggest").addEventListener("click", function () { load(true); });
    panel.querySelector(".gg-signin").addEventListener("click", function () {
      if (tokenBox.value.trim()) { localStorage.setItem("gridgovToken", tokenBox.value.trim()); }
      load(false);
    });
    if (token()) { panel.querySelector(".gg-login").style.display = "none"; }
    load(false);
  };
}());
