/*
 * gridgov: the overview of a street's (district's, deployment's) communities.
 *
 * Each community is a polygon coloured by the chosen figure (open cases,
 * overdue cases or closure rate; a control on the map switches), with a label
 * of its name and figures (a line of counts, a line of closure rate).  Clicking a community, or its label, opens its own
 * map.  The page carries the outlines, names and addresses; the figures, with
 * their colours, legends and words, come from the API (/api/v1/overview, worked
 * out by layers/area_map.py), asked at load and again every refreshMs; names are
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

  function project(latlng) {
    return window.gridgovProject ? window.gridgovProject(latlng) : L.latLng(latlng);
  }

  var STYLE = ".gg-area-label{background:none;border:none}" +
    ".gg-area-label div{position:absolute;transform:translate(-50%,-50%);" +
    "white-space:nowrap;text-align:center;font:12px sans-serif;color:#08306b;" +
    "background:rgba(255,255,255,.85);border-radius:4px;padding:2px 6px;cursor:pointer;" +
    "box-shadow:0 1px 3px rgba(0,0,0,.3)}" +
    ".gg-area-label b,.gg-area-label span{display:block}.gg-area-label b{font-size:13px}" +
    ".gg-area-panel{background:#fff;padding:6px 10px;border-radius:4px;" +
    "box-shadow:0 1px 5px rgba(0,0,0,.4);font:12px sans-serif;max-width:260px}" +
    ".gg-area-panel h1{font:bold 14px sans-serif;margin:0 0 4px}" +
    ".gg-area-panel label{display:block;cursor:pointer}" +
    ".gg-area-panel ul{list-style:none;margin:4px 0 0;padding:0}" +
    ".gg-area-panel li span{display:inline-block;width:14px;height:10px;" +
    "margin-right:4px;border:1px solid #999;vertical-align:middle}" +
    ".gg-area-panel p{margin:4px 0 0;color:#555}" +
    ".gg-area-panel a{display:block;margin-top:4px;color:#08306b;font-weight:bold}";

  /* Draw the communities on a map; returns the state so that tests can look. */
  window.gridgovArea = function (map, options) {
    var words = options.labels;
    var state = { metric: options.metric, polygons: {}, labels: {}, figureLoads: 0 };
    var legends = {};

    function open(feature) { window.location.assign(feature.properties.href); }

    function style(feature) {
      return { fillColor: feature.properties.fill[state.metric], fillOpacity: 0.65,
               color: "#08306b", weight: 2 };
    }

    var polygons = L.geoJSON(options.communities, {
      style: style,
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(text("span", feature.properties.name), { sticky: true });
        layer.on("click", function () { open(feature); });
        layer.on("mouseover", function () { layer.setStyle({ weight: 4 }); });
        layer.on("mouseout", function () { layer.setStyle({ weight: 2 }); });
        state.polygons[feature.properties.code] = layer;
      }
    }).addTo(map);

    var labels = L.layerGroup().addTo(map);
    var boxes = {};
    function label(box, p) {
      box.textContent = "";
      box.appendChild(text("b", p.name));
      p.figures.forEach(function (line) { box.appendChild(text("span", line)); });
    }
    options.communities.features.forEach(function (feature) {
      var p = feature.properties;
      var box = document.createElement("div");
      label(box, p);
      boxes[p.code] = box;
      box.setAttribute("data-code", p.code);
      var at = L.latLng(p.label_at[1], p.label_at[0]);
      var marker = L.marker(project(at), {
        icon: L.divIcon({ className: "gg-area-label", html: box, iconSize: null }),
        title: p.name
      });
      marker._ggWgs = at;
      marker.on("click", function () { open(feature); });
      labels.addLayer(marker);
      state.labels[p.code] = marker;
    });

    var legend = document.createElement("ul");

    function showLegend() {
      legend.textContent = "";
      (legends[state.metric] || []).forEach(function (entry) {
        var li = document.createElement("li");
        var swatch = document.createElement("span");
        swatch.style.background = entry[0];
        li.appendChild(swatch);
        li.appendChild(document.createTextNode(entry[1]));
        legend.appendChild(li);
      });
    }

    var radios = [];

    state.setMetric = function (metric) {
      state.metric = metric;
      polygons.setStyle(style);
      radios.forEach(function (radio) { radio.checked = radio.value === metric; });
      showLegend();
    };

    var panel = L.control({ position: "topright" });
    panel.onAdd = function () {
      var box = L.DomUtil.create("div", "gg-area-panel");
      L.DomEvent.disableClickPropagation(box);
      box.appendChild(text("h1", words.title));
      box.appendChild(text("strong", words.colour_by));
      options.metrics.forEach(function (metric) {
        var label = document.createElement("label");
        var radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "gg-area-metric";
        radio.value = metric;
        radio.checked = metric === state.metric;
        radio.addEventListener("change", function () {
          if (radio.checked) { state.setMetric(metric); }
        });
        radios.push(radio);
        label.appendChild(radio);
        label.appendChild(document.createTextNode(" " + words[metric]));
        box.appendChild(label);
      });
      box.appendChild(legend);
      box.appendChild(text("p", words.hint));
      if (options.up) {
        var up = text("a", words.up);
        up.href = options.up;
        box.appendChild(up);
      }
      return box;
    };
    panel.addTo(map);
    showLegend();

    /* The figures, from the API: counts, label lines, colours and legends. */
    function loadFigures() {
      var params = new URLSearchParams({ area: options.area, lang: options.lang });
      return fetch(options.api + "/overview?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          options.communities.features.forEach(function (feature) {
            var p = feature.properties;
            var figures = body.communities[p.code];
            if (!figures) { return; }
            Object.keys(figures).forEach(function (k) { p[k] = figures[k]; });
            label(boxes[p.code], p);
          });
          legends = body.legends;
          polygons.setStyle(style);
          showLegend();
          state.figureLoads += 1;
        })
        .catch(function () { /* the next poll tries again */ });
    }
    state.loadFigures = loadFigures;
    loadFigures();
    setInterval(loadFigures, options.refreshMs || 30000);

    var css = document.createElement("style");
    css.textContent = STYLE;
    document.head.appendChild(css);
    state.map = map;
    state.polygonLayer = polygons;
    state.labelLayer = labels;
    window.gridgovAreaState = state;
    return state;
  };
}());
