/*
 * gridgov: keep overlays on GCJ-02 basemaps (Amap/Gaode) aligned.
 *
 * Data is WGS84.  Amap's tiles are drawn in GCJ-02, about 490 m away near
 * Ningbo, so when such a basemap is chosen every overlay is moved to GCJ-02,
 * and moved back when a WGS84 basemap returns.  The public GCJ-02 formula
 * (Krasovsky ellipsoid, offsets from 105 E, 35 N) is the same as gis/crs.py
 * (a test compares the two); this file is the page's only copy of it.
 *
 * Each overlay remembers its WGS84 position (`_ggWgs`) and whether it is drawn
 * in GCJ-02 (`_ggGcj`), so that moving it again is harmless and a layer that
 * was off the map during a switch is put right when it comes back.  Members of
 * a marker cluster group are moved by taking them out of the group and putting
 * them back, never in place (the group keeps them in a tree by position), and
 * the cluster icons themselves are left to the group.  Page scripts that make
 * layers after a switch (live cases, counts, squads) hand them to
 * `gridgovPlace`, so that they are drawn where the basemap is.  Popups and
 * tooltips are not moved: they open where their layer is already drawn.
 */
(function () {
  "use strict";

  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function outOfChina(lng, lat) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }

  /* The GCJ-02 offset (degrees of longitude, latitude) at a WGS84 point. */
  function delta(lng, lat) {
    var x = lng - 105.0, y = lat - 35.0, pi = Math.PI;
    var shared = (20.0 * Math.sin(6.0 * x * pi) + 20.0 * Math.sin(2.0 * x * pi)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y +
      0.2 * Math.sqrt(Math.abs(x));
    dlat += shared + (20.0 * Math.sin(y * pi) + 40.0 * Math.sin(y / 3.0 * pi)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * pi) + 320.0 * Math.sin(y * pi / 30.0)) * 2.0 / 3.0;
    var dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlng += shared + (20.0 * Math.sin(x * pi) + 40.0 * Math.sin(x / 3.0 * pi)) * 2.0 / 3.0;
    dlng += (150.0 * Math.sin(x / 12.0 * pi) + 300.0 * Math.sin(x / 30.0 * pi)) * 2.0 / 3.0;
    var rad = lat / 180.0 * pi;
    var magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    return [(dlng * 180.0) / (A / sq * Math.cos(rad) * pi),
            (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sq) * pi)];
  }

  /* WGS84 -> GCJ-02: [lng, lat] in, [lng, lat] out; outside China unchanged. */
  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) { return [lng, lat]; }
    var d = delta(lng, lat);
    return [lng + d[0], lat + d[1]];
  }

  /* GCJ-02 -> WGS84 by fixed-point iteration, to 1e-9 degrees (as gis/crs.py). */
  function gcj02ToWgs84(lng, lat) {
    if (outOfChina(lng, lat)) { return [lng, lat]; }
    var x = lng, y = lat;
    for (var i = 0; i < 10; i += 1) {
      var f = wgs84ToGcj02(x, y);
      var ex = f[0] - lng, ey = f[1] - lat;
      if (Math.abs(ex) <= 1e-9 && Math.abs(ey) <= 1e-9) { break; }
      x -= ex;
      y -= ey;
    }
    return [x, y];
  }

  var gcj = false;

  /* Where a WGS84 point is drawn on the current basemap. */
  function project(latlng) {
    var p = L.latLng(latlng);
    if (!gcj) { return p; }
    var g = wgs84ToGcj02(p.lng, p.lat);
    return L.latLng(g[1], g[0]);
  }

  /* The WGS84 point drawn at a place of the current basemap. */
  function unproject(latlng) {
    var p = L.latLng(latlng);
    if (!gcj) { return p; }
    var w = gcj02ToWgs84(p.lng, p.lat);
    return L.latLng(w[1], w[0]);
  }

  function deep(latlngs, fn) {
    return latlngs.map(function (x) { return Array.isArray(x) ? deep(x, fn) : fn(x); });
  }

  function isA(layer, name) { return typeof L[name] === "function" && layer instanceof L[name]; }

  /* Draw one layer's own geometry in the current CRS (`force`: even if it seems to be). */
  function shift(layer, force) {
    if (!force && !!layer._ggGcj === gcj) { return; }
    layer._ggGcj = gcj;
    if (layer.getLatLng && layer.setLatLng) {
      if (!layer._ggWgs) { layer._ggWgs = layer.getLatLng(); }
      layer.setLatLng(project(layer._ggWgs));
    } else if (layer.getLatLngs && layer.setLatLngs) {
      if (!layer._ggWgs) { layer._ggWgs = layer.getLatLngs(); }
      layer.setLatLngs(deep(layer._ggWgs, project));
    } else if (layer.setLatLngs && layer._latlngs) {  // a heat map's [lat, lng, weight]
      if (!layer._ggWgs) { layer._ggWgs = layer._latlngs; }
      layer.setLatLngs(layer._ggWgs.map(function (p) {
        var at = project(p);
        return [at.lat, at.lng, Array.isArray(p) ? p[2] : p.alt];
      }));
    }
  }

  /* A marker cluster group's members, taken out, moved and put back in one go. */
  function placeMembers(group) {
    var members = group.getLayers();
    var stale = members.some(function (m) { return !!m._ggGcj !== gcj; });
    if (!stale) { return; }
    group.clearLayers();
    members.forEach(function (m) { shift(m, false); });
    group.addLayers(members);
  }

  /*
   * Draw a layer, and every layer in it, in the current basemap's CRS.  Tiles, the
   * cluster icons and popups and tooltips (which open where their layer, or a click,
   * already is on the basemap) are left where they are.
   */
  function place(layer) {
    if (!layer || isA(layer, "GridLayer") || isA(layer, "MarkerCluster") ||
        isA(layer, "DivOverlay")) { return layer; }
    if (isA(layer, "MarkerClusterGroup")) {
      placeMembers(layer);
      return layer;
    }
    if (layer.__parent) { return layer; }  // a member of a cluster group, which places it
    shift(layer, false);
    if (layer.eachLayer) { layer.eachLayer(place); }
    return layer;
  }

  window.gridgovProject = project;
  window.gridgovUnproject = unproject;
  window.gridgovPlace = place;
  /* New WGS84 positions for a layer (a point, or a heat map's points), drawn in the current CRS. */
  window.gridgovMove = function (layer, wgs) {
    layer._ggWgs = wgs;
    shift(layer, true);
    return layer;
  };
  window.gridgovCrs = {
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02ToWgs84: gcj02ToWgs84,
    isGcj02: function () { return gcj; }
  };

  /* Watch a map's basemap switches; overlays follow a basemap marked gcj02. */
  window.gridgovFollowBasemaps = function (map) {
    map.on("baselayerchange", function (e) {
      var wanted = !!(e.layer.options && e.layer.options.gcj02);
      if (wanted === gcj) { return; }
      gcj = wanted;
      var layers = [];
      map.eachLayer(function (layer) { layers.push(layer); });  // placing adds and removes
      layers.forEach(place);
      map.fire("gridgov:crs", { gcj02: gcj });
    });
    map.on("layeradd", function (e) { place(e.layer); });
  };
}());
