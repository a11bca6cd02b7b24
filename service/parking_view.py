"""Parking answers as JSON: figures, the coverage curve and GeoJSON layers.

The same dict feeds the API, the planner page and the exported report, so
that the three always show the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gis.parking import ParkingAnswer
from gis.siting import Siting
from service.geojson import feature_collection

BUILDING_FIELDS = (
    "id",
    "households",
    "cars",
    "nearest",
    "nearest_m",
    "covered",
    "smart_covered",
    "spaces_per_car",
)
FACILITY_FIELDS = (
    "id",
    "name",
    "capacity",
    "smart",
    "status",
    "occupancy",
    "households_served",
    "households_within",
    "cars_within",
)
PRECISION = 1e-6  # degrees, about 0.1 m: enough for a map, a third of the bytes


def answer_view(
    answer: ParkingAnswer, buildings: gpd.GeoDataFrame, suggestion: Siting | None = None
) -> dict[str, Any]:
    """The whole answer: question, figures now and proposed, curve and layers.

    ``buildings`` is the building layer the answer was computed from; its
    footprints are drawn in place of the demand points.
    """
    q = answer.question
    homes = answer.after.buildings.copy()
    names = buildings["name"].astype(str).to_numpy() if "name" in buildings else homes["id"]
    homes["name"] = names
    homes = homes.set_geometry(np.asarray(buildings.to_crs(homes.crs).geometry.values))
    covered = homes["covered"].to_numpy(dtype=bool)
    fields = ["name", *BUILDING_FIELDS]
    return {
        "radius_m": q.radius_m,
        "mode": q.mode,
        "scenario": q.scenario,
        "removed": list(q.remove),
        "cars_per_household": q.cars_per_household,
        "search_m": answer.search_m,
        "figures": _numbers(answer.after.figures),
        "before": _numbers(answer.before.figures),
        "curve": {
            column: [_number(v) for v in answer.curve[column]] for column in answer.curve.columns
        },
        "layers": {
            "facilities": _collection(answer.after.facilities, FACILITY_FIELDS),
            "service_areas": _collection(answer.service_areas, ("facility", "distance_m")),
            "covered": _collection(homes[covered], fields),
            "uncovered": _collection(homes[~covered], fields),
            "suggested_sites": (
                siting_view(suggestion)["sites"]
                if suggestion is not None
                else feature_collection(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
            ),
        },
        **({"suggestion": _summary(suggestion)} if suggestion is not None else {}),
    }


def siting_view(siting: Siting) -> dict[str, Any]:
    """The chosen sites as GeoJSON with the coverage they bring."""
    return {
        **_summary(siting),
        "sites": _collection(siting.chosen, ("id", "new_households")),
    }


def _summary(siting: Siting) -> dict[str, Any]:
    return {
        "problem": siting.problem,
        "sites_chosen": len(siting.chosen),
        "households_covered_share_before": siting.covered_before,
        "households_covered_share_after": siting.covered_after,
        "unreachable_households": siting.unreachable_households,
    }


def _collection(frame: gpd.GeoDataFrame, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """GeoJSON of ``fields`` (those present); NaN becomes null, coordinates about 0.1 m."""
    keep = [f for f in fields if f in frame]
    out = gpd.GeoDataFrame(
        frame[keep].reset_index(drop=True),
        geometry=shapely.set_precision(frame.geometry.values, PRECISION),
        crs=frame.crs,
    )
    return feature_collection(out)


def _number(value: Any) -> float | None:
    v = float(value)
    return None if math.isnan(v) or math.isinf(v) else round(v, 6)


def _numbers(figures: dict[str, float]) -> dict[str, float | None]:
    return {k: _number(v) for k, v in figures.items()}
