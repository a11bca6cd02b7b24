"""Check layers before they are used: geometry, attributes, codes.

Checks never stop at the first problem: they return a :class:`Report` that lists
every problem found, each naming the layer, the feature and what is wrong, so a
person can fix the file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.coverage import STATUSES


@dataclass(frozen=True)
class LayerSpec:
    """What a layer must hold: geometry kinds, required columns, the id column."""

    geometry: tuple[str, ...]
    required: tuple[str, ...]
    key: str
    counts: tuple[str, ...] = ()  # columns that must hold numbers of 0 or more
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()  # column and its allowed values


POLYGONS = ("Polygon", "MultiPolygon")
SPECS: dict[str, LayerSpec] = {
    "community": LayerSpec(POLYGONS, ("code", "name"), "code"),
    "grids": LayerSpec(POLYGONS, ("code", "name"), "code"),
    "districts": LayerSpec(POLYGONS, ("code", "name"), "code"),
    "merchants": LayerSpec(("Point",), ("id", "name", "category"), "id"),
    "squads": LayerSpec(
        ("Point",), ("id", "name", "categories", "capacity"), "id", counts=("capacity",)
    ),
    "units": LayerSpec(("Point",), ("id", "name"), "id"),
    "service_points": LayerSpec(("Point",), ("id", "name", "kind"), "id"),
    "parking": LayerSpec(
        ("Point",),
        ("id", "name", "capacity", "status"),
        "id",
        counts=("capacity", "occupancy"),
        choices=(("status", STATUSES),),
    ),
    "compounds": LayerSpec(POLYGONS, ("id", "name", "households"), "id", counts=("households",)),
    # footprints, or entrances as points
    "buildings": LayerSpec(
        (*POLYGONS, "Point"),
        ("id", "households"),
        "id",
        counts=("households", "cars_per_household"),
    ),
    "streets": LayerSpec(("LineString", "MultiLineString"), ("id",), "id"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a layer."""

    layer: str
    kind: str
    message: str
    feature: str | None = None
    area_m2: float | None = None

    def __str__(self) -> str:
        where = f"{self.layer} {self.feature}" if self.feature else self.layer
        return f"{where}: {self.message}"


@dataclass
class Report:
    """Every problem found in one or more layers."""

    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def for_layer(self, layer: str) -> list[Problem]:
        return [p for p in self.problems if p.layer == layer]

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}


def feature_labels(frame: gpd.GeoDataFrame, key: str) -> list[str]:
    """A label per feature: its key where present, else its 1-based row number."""
    if key in frame.columns:
        keys = frame[key].astype(object).where(frame[key].notna(), None)
        return [str(k) if k not in (None, "") else f"#{i + 1}" for i, k in enumerate(keys)]
    return [f"#{i + 1}" for i in range(len(frame))]


def validate_layer(name: str, frame: gpd.GeoDataFrame) -> list[Problem]:
    """Geometry, attribute and key checks that every layer of kind ``name`` must pass."""
    spec = SPECS[name]
    labels = feature_labels(frame, spec.key)
    problems: list[Problem] = []
    if len(frame) == 0:
        return [Problem(name, "empty_layer", "the layer has no features")]
    for column in spec.required:
        if column not in frame.columns:
            problems.append(Problem(name, "missing_attribute", f"no {column!r} column"))
            continue
        values = frame[column]
        blank = values.isna() | (values.astype(str).str.strip() == "")
        problems.extend(
            Problem(name, "missing_attribute", f"{column!r} is empty", labels[i])
            for i in np.flatnonzero(blank.to_numpy())
        )
    if spec.key in frame.columns:
        keys = frame[spec.key].astype(str)
        dup = keys.duplicated(keep="first") & frame[spec.key].notna()
        problems.extend(
            Problem(
                name,
                "duplicate_code",
                f"{spec.key} {keys.iloc[i]!r} is used more than once",
                labels[i],
            )
            for i in np.flatnonzero(dup.to_numpy())
        )
    problems.extend(_value_problems(name, frame, spec, labels))
    problems.extend(_geometry_problems(name, frame, spec, labels))
    return problems


def _value_problems(
    name: str, frame: gpd.GeoDataFrame, spec: LayerSpec, labels: list[str]
) -> list[Problem]:
    """Counts that are not numbers of 0 or more; values outside their column's choices."""
    out: list[Problem] = []
    for column in (c for c in spec.counts if c in frame.columns):
        given = frame[column].notna() & (frame[column].astype(str).str.strip() != "")
        number = pd.to_numeric(frame[column], errors="coerce")
        bad = given & ~(np.isfinite(number) & (number >= 0))
        shown = frame[column].tolist()
        out.extend(
            Problem(
                name,
                "bad_value",
                f"{column} {shown[i]!r} is not a number of 0 or more",
                labels[i],
            )
            for i in np.flatnonzero(bad.to_numpy())
        )
    for column, allowed in spec.choices:
        if column not in frame.columns:
            continue
        given = frame[column].notna() & (frame[column].astype(str).str.strip() != "")
        bad = given & ~frame[column].astype(str).isin(allowed)
        shown = frame[column].tolist()
        out.extend(
            Problem(
                name,
                "bad_value",
                f"{column} {shown[i]!r} is not one of {', '.join(allowed)}",
                labels[i],
            )
            for i in np.flatnonzero(bad.to_numpy())
        )
    return out


def _geometry_problems(
    name: str, frame: gpd.GeoDataFrame, spec: LayerSpec, labels: list[str]
) -> list[Problem]:
    geoms = frame.geometry.values
    out: list[Problem] = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    reasons = shapely.is_valid_reason(geoms)
    bounds = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        off_earth = (
            (bounds[:, 0] < -180)
            | (bounds[:, 2] > 180)
            | (bounds[:, 1] < -90)
            | (bounds[:, 3] > 90)
        )
    for i, label in enumerate(labels):
        if missing[i]:
            out.append(Problem(name, "empty_geometry", "has no geometry", label))
        elif kinds[i] not in spec.geometry:
            out.append(
                Problem(
                    name,
                    "wrong_geometry_type",
                    f"is a {kinds[i]}, expected {' or '.join(spec.geometry)}",
                    label,
                )
            )
        elif off_earth[i]:
            out.append(
                Problem(
                    name,
                    "coordinates_out_of_range",
                    f"has coordinates outside longitude/latitude range, bounds "
                    f"{np.round(bounds[i], 3).tolist()}: is the CRS right?",
                    label,
                )
            )
        elif reasons[i] != "Valid Geometry":
            out.append(Problem(name, "invalid_geometry", f"invalid geometry: {reasons[i]}", label))
    return out
