"""Repository functions for community layers, the same on SQLite and PostGIS."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import shapely
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from store.models import LayerFeature, LayersVersion

BBox = tuple[float, float, float, float]
ProgressFn = Callable[[int], None]
CHUNK = 500


def layers_changed(session: Session) -> None:
    """Move the layers' version on, in the caller's transaction (every write of
    features calls it): an ``UPDATE`` of one row, so that writers queue on it and
    none is lost."""
    session.execute(
        update(LayersVersion).where(LayersVersion.id == 1).values(version=LayersVersion.version + 1)
    )
    if session.get(LayersVersion, 1) is None:  # a database made without the migrations
        session.add(LayersVersion(id=1, version=1))
        session.flush()


def layers_version(session: Session) -> int:
    """The layers' version: how many times they were written (0 before any)."""
    return int(session.scalar(select(LayersVersion.version).where(LayersVersion.id == 1)) or 0)


def replace_layer(
    session: Session,
    layer: str,
    frame: gpd.GeoDataFrame,
    key: str,
    progress: ProgressFn | None = None,
    community: str | None = None,
) -> int:
    """Replace one community's features of ``layer`` with the rows of a WGS84 ``frame``.

    Other communities' features stay as they are.  Runs inside the caller's
    transaction, so a failure leaves the old layer.  Returns the number of
    features written.
    """
    layers_changed(session)
    session.execute(
        delete(LayerFeature).where(
            LayerFeature.layer == layer,
            LayerFeature.community_code.is_(None)
            if community is None
            else LayerFeature.community_code == community,
        )
    )
    props = json.loads(frame.drop(columns=frame.geometry.name).to_json(orient="records"))
    geoms = frame.geometry.values
    bounds = shapely.bounds(geoms)
    rows = [
        {
            "layer": layer,
            "key": str(p[key]),
            "community_code": community,
            "name": p.get("name"),
            "props": p,
            "geom": g,
            "min_lon": b[0],
            "min_lat": b[1],
            "max_lon": b[2],
            "max_lat": b[3],
        }
        for p, g, b in zip(props, geoms, bounds.tolist(), strict=True)
    ]
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        session.execute(insert(LayerFeature), chunk)
        if progress:
            progress(len(chunk))
    return len(rows)


def read_layer(
    session: Session,
    layer: str,
    bbox: BBox | None = None,
    area: str = "",
    with_area: bool = False,
) -> gpd.GeoDataFrame:
    """Features of ``layer`` (optionally those meeting a lon/lat box) as a GeoDataFrame.

    ``area`` (a district, street or community code) keeps to the features of the
    communities in it; ``""``, every community's.  ``with_area`` adds the column
    ``area_code``: the community (or, for a street's or district's own features, the
    street or district) each feature belongs to.  The box test runs in SQL: GiST
    ``&&`` then ``ST_Intersects`` on PostGIS; the indexed bounding-box columns on
    SQLite, refined exactly with shapely.
    """
    query = select(LayerFeature.props, LayerFeature.geom, LayerFeature.community_code).where(
        LayerFeature.layer == layer
    )
    if area:
        query = query.where(LayerFeature.community_code.startswith(area, autoescape=True))
    dialect = session.get_bind().dialect.name
    if bbox is not None:
        xmin, ymin, xmax, ymax = bbox
        if dialect == "postgresql":
            env = func.ST_MakeEnvelope(xmin, ymin, xmax, ymax, 4326)
            query = query.where(
                LayerFeature.geom.op("&&", is_comparison=True)(env),
                func.ST_Intersects(LayerFeature.geom, env),
            )
        else:
            query = query.where(
                LayerFeature.min_lon <= xmax,
                LayerFeature.max_lon >= xmin,
                LayerFeature.min_lat <= ymax,
                LayerFeature.max_lat >= ymin,
            )
    rows = session.execute(query.order_by(LayerFeature.key)).all()
    frame = gpd.GeoDataFrame(
        [{**r.props, "area_code": r.community_code} if with_area else r.props for r in rows],
        geometry=[r.geom for r in rows],
        crs="EPSG:4326",
    )
    if bbox is not None and dialect != "postgresql" and len(frame):
        frame = frame[frame.intersects(shapely.box(*bbox))].reset_index(drop=True)
    return frame


def layer_counts(session: Session) -> dict[str, int]:
    """How many features each stored layer holds."""
    rows = session.execute(
        select(LayerFeature.layer, func.count()).group_by(LayerFeature.layer)
    ).all()
    return {layer: int(n) for layer, n in rows}


def public_frame(frame: gpd.GeoDataFrame, private: Sequence[str]) -> gpd.GeoDataFrame:
    """``frame`` without the named private columns (those present)."""
    return frame.drop(columns=[c for c in private if c in frame.columns])


def keys_elsewhere(
    session: Session, layer: str, keys: Sequence[str], community: str | None
) -> set[str]:
    """Which of ``keys`` another community already uses in ``layer``.

    Ids are unique across the deployment (a case names its squad by id alone).
    """
    wanted = list(dict.fromkeys(keys))
    taken: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        rows = session.scalars(
            select(LayerFeature.key).where(
                LayerFeature.layer == layer,
                LayerFeature.key.in_(wanted[start : start + CHUNK]),
                LayerFeature.community_code.is_distinct_from(community),
            )
        )
        taken.update(rows)
    return taken


@dataclass(frozen=True)
class NamedPlace:
    """A feature people name in an address (a building, a compound): where it is, as a point
    inside it (WGS84)."""

    layer: str
    key: str
    name: str
    lon: float
    lat: float


def named_places(session: Session, layers: Sequence[str]) -> list[NamedPlace]:
    """The named features of ``layers``, each with a point that lies inside it."""
    rows = session.execute(
        select(LayerFeature.layer, LayerFeature.key, LayerFeature.name, LayerFeature.geom)
        .where(LayerFeature.layer.in_(list(layers)), LayerFeature.name.is_not(None))
        .order_by(LayerFeature.layer, LayerFeature.key)
    ).all()
    places = []
    for layer, key, name, geom in rows:
        point = shapely.point_on_surface(geom)
        places.append(NamedPlace(layer, key, str(name), float(point.x), float(point.y)))
    return places
