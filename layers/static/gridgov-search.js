/*
 * gridgov: the search box of the grid managers' map.
 *
 * One index (a GeoJSON of labels: grids, compounds, squads, parking, merchants)
 * feeds leaflet-search.  A polygon found (a grid, a compound) is fitted to the
 * view; a point found is zoomed to and its own marker's popup opened, a marker in
 * a cluster through the cluster (zoomToShowLayer).  Tips are text, never HTML:
 * names are typed by residents.
 */
(function () {
  "use strict";

  var POINT_ZOOM = 18;

  function findMarker(groups, latlng) {
    for (var i = 0; i < groups.length; i++) {
      var found = null;
      groups[i].eachLayer(function (layer) {
        if (!found && layer.getLatLng && layer.getLatLng().equals(latlng)) { found = layer; }
      });
      if (found) { return { group: groups[i], marker: found }; }
    }
    return null;
  }

  function showPoint(map, groups, latlng) {
    var hit = findMarker(groups, latlng);
    if (!hit) {
      map.setView(latlng, Math.max(map.getZoom(), POINT_ZOOM));
      return;
    }
    if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
    var open = function () {
      if (hit.marker.getPopup()) { hit.marker.openPopup(); }
      else if (hit.marker.getTooltip()) { hit.marker.openTooltip(); }
    };
    if (hit.group.zoomToShowLayer) {
      hit.group.zoomToShowLayer(hit.marker, open);
    } else {
      map.setView(latlng, Math.max(map.getZoom(), POINT_ZOOM));
      open();
    }
  }

  window.gridgovSearch = function (target, options) {
    var map = target.map;
    var hidden = { opacity: 0, fillOpacity: 0, interactive: false };
    var index = L.geoJSON(options.index, {
      style: function () { return hidden; },
      interactive: false,
      pointToLayer: function (_, latlng) {
        return L.circleMarker(latlng, { radius: 0, opacity: 0, fillOpacity: 0, interactive: false });
      }
    });
    var control = new L.Control.Search({
      layer: index,
      propertyName: "label",
      position: "topleft",
      collapsed: false,
      initial: false,
      autoType: false,
      marker: false,
      textPlaceholder: options.placeholder,
      textErr: options.notFound,
      textCancel: options.cancel,
      buildTip: function (text) {
        var tip = document.createElement("a");
        tip.href = "#";
        tip.textContent = text;
        return tip;
      },
      moveToLocation: function (latlng, title, m) {
        var layer = latlng.layer;
        if (layer && layer.getBounds && !(layer.getLatLng)) {
          m.fitBounds(layer.getBounds(), { maxZoom: POINT_ZOOM });
        } else {
          showPoint(m, target.points, L.latLng(latlng.lat, latlng.lng));
        }
      }
    });
    map.addControl(control);
    // the alert, like the tips, as text
    control.showAlert = function (text) {
      this._alert.style.display = "block";
      this._alert.textContent = text || this.options.textErr;
      return this;
    };
    // the alert stays until the next thing typed; text that comes without keys (an
    // input method's Chinese, a paste) looks for tips as typing does
    control._input.addEventListener("input", function (e) {
      control.hideAlert();
      if (!e.isComposing) { control._handleKeypress({ keyCode: 0 }); }
    });
    control._input.addEventListener("compositionend", function () {
      control._handleKeypress({ keyCode: 0 });
    });
    window.gridgovSearchControl = control;
    return control;
  };
}());
