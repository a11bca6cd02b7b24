"""Boundary validation finds every kind of problem, and reads every format."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import affinity
from typer.testing import CliRunner

from api.cli import app
from gis import crs as gcrs
from gis.boundaries import load_boundaries, validate_boundaries
from gis.io import LayerReadError, read_layer_file
from tests.helpers import BOUNDARIES

runner = CliRunner()


@pytest.fixture()
def grids() -> gpd.GeoDataFrame:
    return read_layer_file(BOUNDARIES / "grids.geojson")


@pytest.fixture()
def community() -> gpd.GeoDataFrame:
    return read_layer_file(BOUNDARIES / "community.geojson")


def kinds(grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame | None) -> dict[str, list]:
    out: dict[str, list] = {}
    for p in validate_boundaries(grids, community).problems:
        out.setdefault(p.kind, []).append(p)
    return out


def test_sample_boundaries_are_clean(grids, community) -> None:
    assert validate_boundaries(grids, community).ok


def test_overlap_is_reported_with_its_area(grids, community) -> None:
    # grow grid 001 eastwards by ~20 m into grid 002
    g = grids.geometry.iloc[0]
    grids.loc[0, "geometry"] = shapely.union_all(
        [g, affinity.translate(g, 0.0002, 0)]
    ).intersection(community.geometry.iloc[0])
    found = kinds(grids, community)
    assert set(found) == {"overlap"}
    (p,) = found["overlap"]
    assert p.feature == "330206002016001" and "330206002016002" in p.message
    assert 5_000 < p.area_m2 < 12_000


def test_gap_is_reported_with_its_area_and_place(grids, community) -> None:
    shrunk = grids.geometry.iloc[4].buffer(-0.0001, join_style="mitre")
    grids.loc[4, "geometry"] = shrunk
    found = kinds(grids, community)
    assert set(found) == {"gap"}
    (gap,) = found["gap"]
    ring_area = grids.loc[[4]].to_crs(gcrs.METRIC).area.iloc[0]
    assert gap.area_m2 > 0.1 * ring_area
    assert "not covered by any grid near (121.8" in gap.message


def test_gap_among_grids_without_community(grids) -> None:
    dropped = grids.drop(index=12)  # an interior grid: leaves a hole
    found = kinds(dropped, None)
    assert set(found) == {"gap"}


def test_bowtie_polygon_is_invalid_with_reason(grids, community) -> None:
    grids.loc[2, "geometry"] = shapely.Polygon(
        [(121.830, 29.898), (121.831, 29.899), (121.831, 29.898), (121.830, 29.899)]
    )
    found = kinds(grids, community)
    (bad,) = found["invalid_geometry"]
    assert bad.feature == "330206002016003"
    assert "Self-intersection" in bad.message


def test_malformed_and_duplicate_codes(grids, community) -> None:
    grids.loc[1, "code"] = "33020600201X002"
    grids.loc[3, "code"] = "330206002019004"  # another community's prefix
    grids.loc[5, "code"] = "330206002016001"  # duplicate of grid 001
    found = kinds(grids, community)
    malformed = {p.feature for p in found["malformed_code"]}
    assert malformed == {"33020600201X002", "330206002019004"}
    assert [p.feature for p in found["duplicate_code"]] == ["330206002016001"]


def test_missing_attributes_and_outside_community(grids, community) -> None:
    grids.loc[7, "name"] = None
    grids = grids.drop(columns=["kind"])
    grids.loc[0, "geometry"] = affinity.translate(grids.geometry.iloc[0], -0.001, 0)
    found = kinds(grids, community)
    assert [p.feature for p in found["missing_attribute"]] == ["330206002016008"]
    assert [p.feature for p in found["outside_community"]] == ["330206002016001"]


def test_wrong_crs_is_named(grids, community) -> None:
    metric = grids.to_crs(gcrs.METRIC).set_crs(gcrs.WGS84, allow_override=True)
    found = kinds(metric, None)
    assert "coordinates_out_of_range" in found
    assert "is the CRS right?" in found["coordinates_out_of_range"][0].message


def test_validate_command_on_sample_and_broken_copy(tmp_path: Path, grids, community) -> None:
    ok = runner.invoke(app, ["validate", str(BOUNDARIES / "grids.geojson")])
    assert ok.exit_code == 0, ok.output
    assert "no problems" in ok.output

    grids.loc[0, "geometry"] = affinity.translate(grids.geometry.iloc[0], 0.0003, 0)
    grids.loc[2, "geometry"] = shapely.Polygon(
        [(121.830, 29.898), (121.831, 29.899), (121.831, 29.898), (121.830, 29.899)]
    )
    grids.loc[9, "code"] = "12345"
    broken = tmp_path / "broken"
    broken.mkdir()
    grids.to_file(broken / "grids.geojson")
    community.to_file(broken / "community.geojson")
    result = runner.invoke(app, ["validate", str(broken / "grids.geojson")])
    assert result.exit_code == 1
    for kind in ("overlap", "gap", "invalid_geometry", "malformed_code", "outside_community"):
        assert f"[{kind}]" in result.output
    by_folder = runner.invoke(app, ["validate", str(broken)])
    assert by_folder.exit_code == 1


@pytest.mark.parametrize("suffix", ["gpkg", "shp", "kml"])
def test_boundaries_read_from_other_formats(tmp_path: Path, suffix: str, grids, community) -> None:
    driver = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "kml": "KML"}[suffix]
    for name, frame in (("grids", grids), ("community", community)):
        frame[["code", "name", "geometry"]].to_file(tmp_path / f"{name}.{suffix}", driver=driver)
    loaded = load_boundaries(tmp_path)
    assert loaded.grids["code"].astype(str).tolist() == grids["code"].tolist()
    assert validate_boundaries(loaded.grids, loaded.community).ok
    assert loaded.grids.crs.to_epsg() == 4326


def test_projected_file_is_reprojected_to_wgs84(tmp_path: Path, grids) -> None:
    grids.to_crs(gcrs.METRIC).to_file(tmp_path / "grids.gpkg")
    back = read_layer_file(tmp_path / "grids.gpkg")
    assert back.crs.to_epsg() == 4326
    assert np.allclose(back.total_bounds, grids.total_bounds, atol=1e-7)


def test_gcj02_file_is_shifted_to_wgs84(tmp_path: Path, grids) -> None:
    shifted = grids.copy()
    shifted["geometry"] = shapely.transform(
        grids.geometry.values,
        lambda xy: np.column_stack(gcrs.from_wgs84(xy[:, 0], xy[:, 1], "gcj02")),
    )
    shifted.to_file(tmp_path / "grids.geojson")
    back = read_layer_file(tmp_path / "grids.geojson", crs="gcj02")
    err = shapely.hausdorff_distance(
        back.to_crs(gcrs.METRIC).geometry.values, grids.to_crs(gcrs.METRIC).geometry.values
    )
    assert err.max() < 0.001


def test_csv_points_with_lon_lat_and_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "merchants.csv"
    good.write_text("id,name,category,lng,lat\nM1,茶馆,food,121.83,29.895\n", encoding="utf-8")
    frame = read_layer_file(good)
    assert frame.geometry.iloc[0].equals(shapely.Point(121.83, 29.895))
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lon,lat\nM1,121.83,north\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="row 2 has non-numeric coordinates"):
        read_layer_file(bad)
    nocoords = tmp_path / "nocoords.csv"
    nocoords.write_text("id,name\nM1,x\n", encoding="utf-8")
    with pytest.raises(LayerReadError, match="needs longitude and latitude"):
        read_layer_file(nocoords)


def test_unsupported_or_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LayerReadError, match="unsupported format"):
        read_layer_file(tmp_path / "grids.dxf")
    junk = tmp_path / "grids.geojson"
    junk.write_text("{not json", encoding="utf-8")
    with pytest.raises(LayerReadError, match="cannot be read"):
        read_layer_file(junk)


def _moved(frame: gpd.GeoDataFrame, dlon: float, dlat: float) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = frame.geometry.translate(dlon, dlat)
    return out


def test_areas_are_measured_in_the_communitys_own_zone(grids, community) -> None:
    from pyproj import Geod

    g = grids.geometry.iloc[0]
    grids.loc[0, "geometry"] = shapely.union_all(
        [g, affinity.translate(g, 0.0002, 0)]
    ).intersection(community.geometry.iloc[0])
    (here,) = kinds(grids, community)["overlap"]
    (explicit,) = validate_boundaries(grids, community, None, gcrs.METRIC).problems
    assert here.area_m2 == explicit.area_m2  # Lingxiao: EPSG:4550, as before
    # the same community moved to Beijing measures its overlap in EPSG:4548
    dlon, dlat = 116.40 - 121.84, 39.91 - 29.89
    moved_grids, moved_community = _moved(grids, dlon, dlat), _moved(community, dlon, dlat)
    assert gcrs.metric_crs_of(moved_community) == "EPSG:4548"
    (there,) = validate_boundaries(moved_grids, moved_community).problems
    shared = moved_grids.geometry.iloc[0].intersection(moved_grids.geometry.iloc[1])
    truth = abs(Geod(ellps="GRS80").geometry_area_perimeter(shared)[0])
    assert there.area_m2 == pytest.approx(truth, rel=1e-3)
    wrong = validate_boundaries(moved_grids, moved_community, metric_crs=gcrs.METRIC).problems
    assert wrong[0].area_m2 / truth - 1 > 5e-3  # Lingxiao's zone is 6.6 degrees off


def test_boundaries_outside_china_zones_are_reported_not_raised(grids, community) -> None:
    paris = _moved(community, 2.35 - 121.84, 0.0)
    report = validate_boundaries(_moved(grids, 2.35 - 121.84, 0.0), paris)
    assert report.kinds() == {"no_metric_crs"}
    (p,) = report.problems
    assert p.layer == "community" and "longitude 2.3" in p.message
    assert validate_boundaries(_moved(grids, 2.35 - 121.84, 0.0), paris, None, "EPSG:2154").ok
