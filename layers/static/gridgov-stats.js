/*
 * gridgov: the statistics panel of the grid managers' map.
 *
 * Three charts from /api/v1/stats: open and overdue cases per grid,
 * the monthly closure and on-time closure rates, and cases by category;
 * of the map's community only when the page names one (options.area).
 */
(function () {
  "use strict";

  function get(options, groupBy) {
    var params = new URLSearchParams({ group_by: groupBy });
    if (options.area) { params.set("area", options.area); }  // a community's cases only
    return fetch(options.api + "/stats?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.json(); });
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

  window.gridgovStats = function (panel, options) {
    var t = options.labels;
    var canvases = panel.querySelectorAll("canvas");
    var charts = [];
    get(options, "grid").then(function (body) {
      var rows = body.rows.sort(function (a, b) { return a.key < b.key ? -1 : 1; });
      charts.push(bar(canvases[0], rows.map(function (r) { return r.key.slice(-3); }), [
        { label: t.open, data: rows.map(function (r) { return r.open; }),
          backgroundColor: "#fd8d3c" },
        { label: t.overdue, data: rows.map(function (r) { return r.overdue; }),
          backgroundColor: "#de2d26" }
      ]));
    });
    get(options, "month").then(function (body) {
      var rows = body.rows.sort(function (a, b) { return a.key < b.key ? -1 : 1; });
      charts.push(new Chart(canvases[1], {
        type: "line",
        data: { labels: rows.map(function (r) { return r.key; }), datasets: [
          { label: t.closure_rate, data: rows.map(function (r) { return r.closure_rate; }),
            borderColor: "#2171b5" },
          { label: t.on_time_rate, data: rows.map(function (r) { return r.on_time_rate; }),
            borderColor: "#238b45" }
        ] },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
          scales: { y: { min: 0, max: 1 } } }
      }));
    });
    get(options, "category").then(function (body) {
      var rows = body.rows.sort(function (a, b) { return b.reported - a.reported; });
      charts.push(bar(canvases[2], rows.map(function (r) { return r.name; }), [
        { label: t.reported, data: rows.map(function (r) { return r.reported; }),
          backgroundColor: "#fd8d3c" }
      ]));
    });
    window.gridgovCharts = charts;
    return charts;
  };
}());
