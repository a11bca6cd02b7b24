/*
 * gridgov: the side dock of the grid managers' map.
 *
 * The filters, the layer lists, the statistics and the legend sit in a dock at the
 * right of the page; the map's container is made narrower beside it, never covered.
 * The dock folds to a thin strip (the map then widens) and starts folded on narrow
 * screens.  The layer lists Leaflet draws on the map are moved into the dock.
 */
(function () {
  "use strict";

  var NARROW = 1400;  // px: below this width (a laptop) the dock starts folded

  window.gridgovDock = function (map) {
    var dock = document.getElementById("gg-dock");
    if (!dock) { return null; }
    var body = document.body;
    var toggle = document.getElementById("gg-dock-toggle");
    var layers = document.getElementById("gg-dock-layers");

    // the layer lists (basemaps and overlays, and the case overlays) go into the dock
    if (layers) {
      map.getContainer().querySelectorAll(".leaflet-control-layers").forEach(function (el) {
        layers.appendChild(el);
      });
    }

    function show(open) {
      body.classList.add("gg-docked");
      body.classList.toggle("gg-dock-open", open);
      body.classList.toggle("gg-dock-closed", !open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.title = open ? toggle.getAttribute("data-hide") : toggle.getAttribute("data-show");
      toggle.setAttribute("aria-label", toggle.title);
      toggle.textContent = open ? "\u203a" : "\u2039";
      map.invalidateSize({ animate: false });
    }

    // the search box as wide as its hint, so that the hint is never cut off
    var search = map.getContainer().querySelector(".leaflet-control-search input.search-input");
    if (search && search.placeholder) {
      var style = window.getComputedStyle(search);
      var ctx = document.createElement("canvas").getContext("2d");
      ctx.font = style.fontSize + " " + style.fontFamily;
      var pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) +
        parseFloat(style.borderLeftWidth) + parseFloat(style.borderRightWidth);
      search.style.boxSizing = "border-box";
      search.style.width = Math.ceil(ctx.measureText(search.placeholder).width + pad + 8) + "px";
    }

    toggle.addEventListener("click", function () {
      show(!body.classList.contains("gg-dock-open"));
    });
    show(window.innerWidth >= NARROW);
    return { show: show };
  };
}());
