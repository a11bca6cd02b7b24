/*
 * gridgov: the statistics panel of the grid managers' map.
 *
 * Three charts from /api/v1/stats: open and overdue cases per grid (every open
 * case now, whenever reported: what the map's bubbles count under its default
 * filter, and what colours the grids), the monthly closure and on-time closure
 * rates of the last 90 days in %, and the cases reported by category then; of the
 * map's community only when the page names one (options.area).
 *
 * The per-grid figures come with the case layer's polls (its "gridgov:grids" event
 * on the document); the other charts are asked for again with them.
 */
(function () {
  "use strict";

  function get(options, groupBy, from) {
    var params = new URLSearchParams({ group_by: groupBy });
    if (from) { params.set("from", from); }
    if (options.area) { params.set("area", options.area); }  // a community's cases only
    return fetch(options.api + "/stats?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); });
  }

  function byKey(a, b) { return a.key < b.key ? -1 : 1; }

  /* A rate of 0..1 as a whole percentage ("87%"), a dash when there is none. */
  function percent(rate) {
    return rate === null || rate === undefined || isNaN(rate)
      ? "—" : Math.round(rate * 100) + "%";
  }

  function bar(canvas, labels, sets, stacked) {
    return new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: sets },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { labels: { boxWidth: 10, font: { size: 10 } } } },
        scales: { x: { stacked: !!stacked, ticks: { font: { size: 9 } } },
                  y: { stacked: !!stacked, beginAtZero: true } } }
    });
  }

  /* Draw a chart the first time, then give it the new figures. */
  function draw(charts, i, make, labels, data) {
    if (!charts[i]) {
      charts[i] = make();
      return;
    }
    charts[i].data.labels = labels;
    charts[i].data.datasets.forEach(function (set, j) { set.data = data[j]; });
    charts[i].update();
  }

  window.gridgovStats = function (panel, options) {
    var t = options.labels;
    var canvases = panel.querySelectorAll("canvas");
    var rates = panel.querySelector(".gg-stats-rates");
    var charts = [null, null, null];
    var state = { charts: charts, loads: 0 };

    function grids(rows) {
      rows = rows.slice().sort(byKey);
      var names = rows.map(function (r) { return r.key.slice(-3); });
      var open = rows.map(function (r) { return r.open; });
      var overdue = rows.map(function (r) { return r.overdue; });
      draw(charts, 0, function () {
        return bar(canvases[0], names, [
          { label: t.open, data: open, backgroundColor: "#fd8d3c" },
          { label: t.overdue, data: overdue, backgroundColor: "#de2d26" }
        ]);
      }, names, [open, overdue]);
    }

    function months(body) {
      var rows = body.rows.sort(byKey);
      var keys = rows.map(function (r) { return r.key; });
      function pc(name) {
        return rows.map(function (r) {
          return r[name] === null ? null : Math.round(r[name] * 1000) / 10;
        });
      }
      draw(charts, 1, function () {
        return new Chart(canvases[1], {
          type: "line",
          data: { labels: keys, datasets: [
            { label: t.closure_rate + " (%)", data: pc("closure_rate"), borderColor: "#2171b5" },
            { label: t.on_time_rate + " (%)", data: pc("on_time_rate"), borderColor: "#238b45" }
          ] },
          options: { animation: false, responsive: true, maintainAspectRatio: false,
            plugins: { tooltip: { callbacks: { label: function (c) {
              return c.dataset.label + ": " + c.parsed.y + "%";
            } } } },
            scales: { y: { min: 0, max: 100,
              ticks: { callback: function (v) { return v + "%"; } } } } }
        });
      }, keys, [pc("closure_rate"), pc("on_time_rate")]);
    }

    function whole(body) {
      // the community's rates over the same 90 days, as text (one row: the page's community)
      var row = body.rows.length === 1 ? body.rows[0] : null;
      if (!rates) { return; }
      rates.textContent = t.rates
        .replace("{closure}", percent(row ? row.closure_rate : null))
        .replace("{on_time}", percent(row ? row.on_time_rate : null));
    }

    function categories(body) {
      var rows = body.rows.sort(function (a, b) { return b.reported - a.reported; });
      // a category by its name in the page's language (the API gives both)
      var names = rows.map(function (r) {
        return (options.lang === "en" ? r.name_en : r.name) || r.name || r.key;
      });
      var counts = rows.map(function (r) { return r.reported; });
      draw(charts, 2, function () {
        return bar(canvases[2], names, [
          { label: t.reported, data: counts, backgroundColor: "#fd8d3c" }
        ]);
      }, names, [counts]);
    }

    function others() {
      return Promise.all([
        get(options, "month").then(months),
        get(options, "community").then(whole),
        get(options, "category").then(categories)
      ]).then(function () { state.loads += 1; })
        .catch(function () { /* the next poll tries again */ });
    }

    var first = true;
    document.addEventListener("gridgov:grids", function (e) {
      grids(e.detail.rows);
      if (first) { first = false; return; }  // the rest were asked for at load
      others();
    });
    others();
    window.gridgovCharts = charts;
    window.gridgovStatsState = state;
    return charts;
  };
}());
