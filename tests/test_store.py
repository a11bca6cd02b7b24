"""Loading layers into the store, on SQLite and on PostGIS alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

import store.load
from store.db import make_engine
from store.layers import layer_counts, read_layer
from store.load import load_folder
from store.models import Category, Member
from tests.helpers import DATA

EXPECTED = {"community": 1, "grids": 22, "districts": 2, "merchants": 120, "squads": 8}


def test_sample_loads_completely(database_url: str) -> None:
    engine = make_engine(database_url)
    result = load_folder(engine, DATA)
    assert result.ok, result.refused
    with Session(engine) as session:
        counts = layer_counts(session)
        assert {k: counts[k] for k in EXPECTED} == EXPECTED
        assert session.query(Member).count() == 1070
        assert session.get(Category, "stairwell_clutter").time_limit == "3d"
    engine.dispose()


def test_bbox_query_is_exact_and_backend_independent(database_url: str) -> None:
    engine = make_engine(database_url)
    load_folder(engine, DATA)
    box = (121.8300, 29.8930, 121.8360, 29.8960)
    with Session(engine) as session:
        merchants = read_layer(session, "merchants", box)
        grids = read_layer(session, "grids", box)
        everything = read_layer(session, "merchants")
    engine.dispose()
    xs, ys = merchants.geometry.x, merchants.geometry.y
    assert ((xs >= box[0]) & (xs <= box[2]) & (ys >= box[1]) & (ys <= box[3])).all()
    inside = everything.cx[box[0] : box[2], box[1] : box[3]]
    assert sorted(merchants["id"]) == sorted(inside["id"])
    # grids meeting the box: the four of the middle rows it spans, and those it touches
    assert set(grids["code"]) == {
        "330206002016008",
        "330206002016009",
        "330206002016012",
        "330206002016013",
        "330206002016014",
        "330206002016005",
    }
    # geometry survives the round trip exactly
    stored = everything.set_index("id").geometry
    source = json.loads((DATA / "merchants.geojson").read_text(encoding="utf-8"))
    first = source["features"][0]
    assert list(stored[first["properties"]["id"]].coords[0]) == first["geometry"]["coordinates"]


def test_layer_with_errors_is_refused_and_old_data_kept(
    database_url: str, sample_dir: Path
) -> None:
    engine = make_engine(database_url)
    assert load_folder(engine, DATA).ok
    grids_file = sample_dir / "boundaries" / "grids.geojson"
    broken = json.loads(grids_file.read_text(encoding="utf-8"))
    broken["features"][2]["geometry"]["coordinates"] = [
        [
            [121.830, 29.898],
            [121.831, 29.899],
            [121.831, 29.898],
            [121.830, 29.899],
            [121.830, 29.898],
        ]
    ]
    grids_file.write_text(json.dumps(broken), encoding="utf-8")
    merchants_file = sample_dir / "merchants.geojson"
    merchants = json.loads(merchants_file.read_text(encoding="utf-8"))
    merchants["features"] = merchants["features"][:5]
    merchants_file.write_text(json.dumps(merchants), encoding="utf-8")

    result = load_folder(engine, sample_dir)
    assert set(result.refused) == {"community", "grids", "districts"}
    assert {p.kind for p in result.refused["grids"]} >= {"invalid_geometry", "gap"}
    with Session(engine) as session:
        counts = layer_counts(session)
        grids = read_layer(session, "grids")
    assert counts["grids"] == 22 and counts["merchants"] == 5
    assert grids.is_valid.all()
    engine.dispose()


def test_failed_write_leaves_database_unchanged(
    database_url: str, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    assert load_folder(engine, DATA).ok
    merchants_file = sample_dir / "merchants.geojson"
    merchants = json.loads(merchants_file.read_text(encoding="utf-8"))
    merchants["features"] = merchants["features"][:5]
    merchants_file.write_text(json.dumps(merchants), encoding="utf-8")

    real = store.load.replace_layer

    def failing(session, layer, frame, key, progress=None, community=None):  # type: ignore[no-untyped-def]
        if layer == "streets":  # after grids and merchants were written
            raise OSError("disk full")
        return real(session, layer, frame, key, progress, community)

    monkeypatch.setattr(store.load, "replace_layer", failing)
    with pytest.raises(OSError, match="disk full"):
        load_folder(engine, sample_dir)
    with Session(engine) as session:
        assert layer_counts(session)["merchants"] == 120
    engine.dispose()


def test_duplicate_member_ids_are_refused(database_url: str, sample_dir: Path) -> None:
    members = sample_dir / "members.csv"
    rows = members.read_text(encoding="utf-8").splitlines()
    members.write_text("\n".join([*rows, rows[1]]) + "\n", encoding="utf-8")
    result = load_folder(make_engine(database_url), sample_dir)
    assert [p.kind for p in result.refused["members"]] == ["duplicate_code"]
    assert "PM0001" in str(result.refused["members"][0])


def test_members_with_unknown_grid_are_refused(database_url: str, sample_dir: Path) -> None:
    members = sample_dir / "members.csv"
    rows = members.read_text(encoding="utf-8").splitlines()
    rows[5] = rows[5].replace("330206002016", "330206002099", 1)
    members.write_text("\n".join(rows) + "\n", encoding="utf-8")
    engine = make_engine(database_url)
    result = load_folder(engine, sample_dir)
    assert list(result.refused) == ["members"]
    assert result.refused["members"][0].kind == "unknown_grid"
    assert "grids" in result.loaded
    engine.dispose()


# a column of numbers and one word makes the GeoJSON reader say so; that is the point here
@pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning")
def test_parking_and_buildings_with_bad_values_are_refused_by_name(
    database_url: str, sample_dir: Path
) -> None:
    engine = make_engine(database_url)
    assert load_folder(engine, DATA).ok
    edits = {
        "parking.geojson": {0: {"status": "closed"}, 1: {"capacity": -5}, 2: {"occupancy": "x"}},
        "buildings.geojson": {3: {"households": "many"}},
    }
    for name, rows in edits.items():
        path = sample_dir / name
        data = json.loads(path.read_text(encoding="utf-8"))
        for i, change in rows.items():
            data["features"][i]["properties"].update(change)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = load_folder(engine, sample_dir)
    assert set(result.refused) == {"parking", "buildings"}
    said = {str(p) for p in result.refused["parking"] + result.refused["buildings"]}
    assert said == {
        "parking P01: status 'closed' is not one of open, planned",
        "parking P02: capacity -5 is not a number of 0 or more",
        "parking P03: occupancy 'x' is not a number of 0 or more",
        "buildings C01-B04: households 'many' is not a number of 0 or more",
    }
    with Session(engine) as session:
        kept = read_layer(session, "parking")
    assert kept.set_index("id").loc["P01", "status"] == "open"  # the old layer stays
    engine.dispose()
