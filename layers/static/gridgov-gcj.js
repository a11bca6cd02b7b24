/*
 * gridgov: keep overlays on GCJ-02 basemaps (Amap/Gaode) aligned.
 *
 * Data is WGS84.  Amap's tiles are drawn in GCJ-02, about 490 m away near
 * Ningbo, so when such a basemap is chosen every overlay is moved to GCJ-02,
 * and moved back when a WGS84 basemap returns.  The public GCJ-02 formula
 * (Krasovsky ellipsoid, offsets from 105 E, 35 N) is the same as gis/crs.py.
 */
(function () {
  "use strict";

  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outOfChina(lng, lat) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  function dLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }

  function dLng(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }

  function toGcj(latlng) {
    var lng = latlng.lng, lat = latlng.lat;
    if (outOfChina(lng, lat)) { return L.latLng(lat, lng); }
    var la = dLat(lng - 105.0, lat - 35.0);
    var ln = dLng(lng - 105.0, lat - 35.0);
    var rad = lat / 180.0 * Math.PI;
    var magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    la = (la * 180.0) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    ln = (ln * 180.0) / (A / sq * Math.cos(rad) * Math.PI);
    return L.latLng(lat + la, lng + ln);
  }

  var gcj = false;

  /* Where a WGS84 point is drawn on the current basemap. */
  window.gridgovProject = function (latlng) {
    return gcj ? toGcj(L.latLng(latlng)) : L.latLng(latlng);
  };

  function deep(latlngs, fn) {
    return latlngs.map(function (x) { return Array.isArray(x) ? deep(x, fn) : fn(x); });
  }

  function move(layer) {
    if (layer.getLatLng && layer.setLatLng) {
      if (!layer._ggWgs) { layer._ggWgs = layer.getLatLng(); }
      layer.setLatLng(window.gridgovProject(layer._ggWgs));
    } else if (layer.getLatLngs && layer.setLatLngs) {
      if (!layer._ggWgs) { layer._ggWgs = layer.getLatLngs(); }
      layer.setLatLngs(deep(layer._ggWgs, window.gridgovProject));
    }
    if (layer.eachLayer) { layer.eachLayer(move); }
  }

  /* Watch a map's basemap switches; overlays follow a basemap marked gcj02. */
  window.gridgovFollowBasemaps = function (map) {
    map.on("baselayerchange", function (e) {
      var wanted = !!(e.layer.options && e.layer.options.gcj02);
      if (wanted === gcj) { return; }
      gcj = wanted;
      map.eachLayer(function (layer) {
        if (!(layer instanceof L.TileLayer)) { move(layer); }
      });
      map.fire("gridgov:crs", { gcj02: gcj });
    });
    map.on("layeradd", function (e) {
      if (gcj && !(e.layer instanceof L.TileLayer) && !e.layer._ggWgs) { move(e.layer); }
    });
  };
}());
