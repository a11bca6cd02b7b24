"""Read a community's layers from GeoJSON, GeoPackage, Shapefile, KML or CSV.

Every layer comes back as a GeoDataFrame in WGS84 (EPSG:4326), whatever it was
stored in.  GCJ-02 and BD-09 are not CRSs that files can declare (such files
usually claim EPSG:4326), so the caller names them with ``crs``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis import crs as gcrs

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
    ".kml": "KML",
    ".csv": "CSV",
    ".osm": "OpenStreetMap XML",
}
LON_NAMES = ("lon", "lng", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")


class LayerReadError(ValueError):
    """A file cannot be read as a layer; the message names the file and why."""


def find_layer_file(folder: Path, name: str) -> Path | None:
    """The file holding layer ``name`` in ``folder`` (any supported format), if any."""
    for suffix in FORMATS:
        path = folder / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def read_layer_file(path: str | Path, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer and return it in WGS84.

    Parameters
    ----------
    path : path-like
        A .geojson/.json, .gpkg (first layer), .shp, .kml or .csv file.  A CSV
        needs longitude and latitude columns (``lon``/``lng``/``longitude``/``x``
        and ``lat``/``latitude``/``y``).
    crs : str, optional
        The coordinates' system when the file does not say or says wrongly:
        ``wgs84``, ``gcj02``, ``bd09`` or any CRS pyproj knows (``EPSG:4550``).
        Files without a declared CRS and no ``crs`` are taken as WGS84.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise LayerReadError(
            f"{path.name}: unsupported format {suffix!r}; use one of " + ", ".join(sorted(FORMATS))
        )
    if not path.exists():
        raise LayerReadError(f"{path}: no such file")
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix == ".osm":
            frame = _read_osm_streets(path)
        else:
            frame = gpd.read_file(path, engine="pyogrio")
    except LayerReadError:
        raise
    except Exception as exc:  # pyogrio and fiona raise many types for unreadable files
        raise LayerReadError(f"{path.name}: cannot be read ({exc})") from exc
    if suffix == ".kml":  # GDAL names KML's <name> and <description> with capitals
        frame = frame.rename(
            columns={
                k: k.lower() for k in ("Name", "Description") if k.lower() not in frame.columns
            }
        )
    return to_wgs84_frame(frame, crs)


def _read_osm_streets(path: Path) -> gpd.GeoDataFrame:
    """The ways of an OpenStreetMap XML extract as street lines (id, name, kind)."""
    import osmnx

    graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
    edges = osmnx.graph_to_gdfs(graph, nodes=False).reset_index()
    # two-way streets come as a pair of directed edges: keep one of each pair
    pair = [
        f"{min(u, v)}-{max(u, v)}-{k}"
        for u, v, k in zip(edges["u"], edges["v"], edges["key"], strict=True)
    ]
    edges = edges[~pd.Series(pair).duplicated().to_numpy()]
    names = edges.get("name")
    return gpd.GeoDataFrame(
        {
            "id": [
                f"osm-{u}-{v}-{k}"
                for u, v, k in zip(edges["u"], edges["v"], edges["key"], strict=True)
            ],
            "name": [_first(n) for n in names] if names is not None else None,
            "kind": [_first(h) for h in edges["highway"]],
        },
        geometry=edges.geometry.values,
        crs=edges.crs,
    )


def _first(value: object) -> object:
    """OSM attributes merged from several ways come as lists; keep the first."""
    if isinstance(value, list):
        return value[0] if value else None
    return None if isinstance(value, float) else value


def _read_csv(path: Path) -> gpd.GeoDataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    lower = {c.lower(): c for c in table.columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise LayerReadError(
            f"{path.name}: a CSV layer needs longitude and latitude columns "
            f"(one of {LON_NAMES} and one of {LAT_NAMES})"
        )
    xs = pd.to_numeric(table[lon], errors="coerce")
    ys = pd.to_numeric(table[lat], errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise LayerReadError(
            f"{path.name}: row {row + 2} has non-numeric coordinates "
            f"{table[lon].iloc[row]!r}, {table[lat].iloc[row]!r}"
        )
    props = table.drop(columns=[lon, lat])
    return gpd.GeoDataFrame(props, geometry=gpd.points_from_xy(xs, ys), crs=None)


def to_wgs84_frame(frame: gpd.GeoDataFrame, crs: str | None = None) -> gpd.GeoDataFrame:
    """Return ``frame`` in WGS84, reading its coordinates as ``crs`` if given."""
    name = crs.lower() if crs else None
    if name in ("gcj02", "bd09"):
        geoms = shapely.transform(frame.geometry.values, lambda xy: _shift(xy, name))
        return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs=gcrs.WGS84)
    if crs is not None and name != "wgs84":
        frame = frame.set_crs(crs, allow_override=True)
    elif frame.crs is None or name == "wgs84":
        frame = frame.set_crs(gcrs.WGS84, allow_override=True)
    return frame.to_crs(gcrs.WGS84)


def _shift(xy: np.ndarray, name: str) -> np.ndarray:
    lon, lat = gcrs.to_wgs84(xy[:, 0], xy[:, 1], name)
    return np.column_stack([lon, lat])
