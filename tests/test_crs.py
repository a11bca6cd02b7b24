"""Tests for gis.crs: GCJ-02 / BD-09 transforms, validation and the metric grid."""

from __future__ import annotations

import re
from functools import partial

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pytest
import shapely
from pyproj import CRS

from gis.crs import (
    METRIC,
    SUPPORTED_INPUT_CRS,
    WGS84,
    ConvergenceError,
    CoordinateError,
    MetricZoneError,
    UnknownCRSError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_lonlat,
    from_metric,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    metric_crs_for,
    metric_crs_of,
    out_of_china,
    to_metric,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

BEIJING = (116.404, 39.915)
XINQI = (121.838591, 29.890289)  # near Xinqi, Beilun, Ningbo
PARIS = (2.35, 48.85)
SYDNEY = (151.21, -33.87)
DEG_TOL = 1e-9


def metres(a: tuple[npt.ArrayLike, npt.ArrayLike], b: tuple[npt.ArrayLike, npt.ArrayLike]):
    """Distance in metres between lon/lat points, measured on the METRIC grid.

    EPSG:4550 scale is >= 1 everywhere and <= ~1.47 across China, so this slightly
    overstates true distances far from 123E, which is conservative for "< 1 mm" checks.
    """
    ax, ay = to_metric(*a)
    bx, by = to_metric(*b)
    return np.hypot(bx - ax, by - ay)


def china_points(n: int = 10_000, seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(73.0, 135.0, n), rng.uniform(18.0, 54.0, n)


def assert_close_deg(got: tuple[np.ndarray, np.ndarray], expected: tuple[float, float]) -> None:
    assert abs(float(got[0]) - expected[0]) <= DEG_TOL
    assert abs(float(got[1]) - expected[1]) <= DEG_TOL


def test_constants() -> None:
    assert WGS84 == "EPSG:4326"
    assert METRIC == "EPSG:4550"
    assert SUPPORTED_INPUT_CRS == ("wgs84", "gcj02", "bd09")


# Published reference values (coordtransform README, Beijing 116.404, 39.915).


def test_published_wgs84_to_gcj02() -> None:
    assert_close_deg(wgs84_to_gcj02(*BEIJING), (116.41024449916938, 39.91640428150164))


def test_published_gcj02_to_bd09() -> None:
    assert_close_deg(gcj02_to_bd09(*BEIJING), (116.41036949371029, 39.92133699351021))


def test_published_one_step_inverses() -> None:
    assert_close_deg(gcj02_to_wgs84(*BEIJING, max_iter=0), (116.39775550083061, 39.91359571849836))
    assert_close_deg(bd09_to_gcj02(*BEIJING, max_iter=0), (116.39762729119315, 39.90865673957631))


def test_iterative_gcj02_inverse_vs_published() -> None:
    wgs = gcj02_to_wgs84(*BEIJING)
    assert metres(wgs84_to_gcj02(*wgs), BEIJING) < 1e-3
    assert metres(wgs, (116.39775550083061, 39.91359571849836)) < 3.0


def test_iterative_bd09_inverse_vs_published() -> None:
    gcj = bd09_to_gcj02(*BEIJING)
    assert metres(gcj02_to_bd09(*gcj), BEIJING) < 1e-3
    assert metres(gcj, (116.39762729119315, 39.90865673957631)) < 3.0


def test_xinqi_offsets() -> None:
    gcj = wgs84_to_gcj02(*XINQI)
    assert 450.0 < metres(XINQI, gcj) < 530.0
    gx, gy = to_metric(*gcj)
    wx, wy = to_metric(*XINQI)
    assert gx - wx > 350.0  # GCJ-02 point lies east ...
    assert gy - wy < -250.0  # ... and south of the true position here
    assert 1030.0 < metres(XINQI, wgs84_to_bd09(*XINQI)) < 1130.0


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (wgs84_to_bd09, bd09_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
    ],
)
def test_round_trips_under_1mm_across_china(forward, inverse) -> None:
    lon, lat = china_points()
    shifted = forward(lon, lat)
    back = inverse(*shifted)
    assert back[0].shape == lon.shape
    assert np.max(metres((lon, lat), back)) < 1e-3
    # the shift itself is real (not a no-op) everywhere
    assert np.min(metres((lon, lat), shifted)) > 1.0


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (wgs84_to_bd09, bd09_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
    ],
)
def test_one_step_inverse_error_exceeds_10cm(forward, inverse) -> None:
    """The classic one-step inverse is off by more than 0.1 m somewhere: iteration matters."""
    lon, lat = china_points()
    shifted = forward(lon, lat)
    one_step = inverse(*shifted, max_iter=0)
    assert np.max(metres((lon, lat), one_step)) > 0.1


@pytest.mark.parametrize("crs", SUPPORTED_INPUT_CRS)
def test_to_from_wgs84_round_trip(crs: str) -> None:
    lon, lat = china_points(2_000, seed=7)
    back = to_wgs84(*from_wgs84(lon, lat, crs), crs)
    assert np.max(metres((lon, lat), back)) < 1e-3


def test_dispatch_matches_direct_functions() -> None:
    np.testing.assert_array_equal(from_wgs84(*XINQI, "gcj02"), wgs84_to_gcj02(*XINQI))
    np.testing.assert_array_equal(from_wgs84(*XINQI, "bd09"), wgs84_to_bd09(*XINQI))
    np.testing.assert_array_equal(to_wgs84(*XINQI, "gcj02"), gcj02_to_wgs84(*XINQI))
    np.testing.assert_array_equal(to_wgs84(*XINQI, "bd09"), bd09_to_wgs84(*XINQI))


@pytest.mark.parametrize("name", ["wgs84", "WGS84", " Wgs84 ", "EPSG:4326", "epsg:4326", "4326"])
def test_wgs84_aliases_are_identity_copies(name: str) -> None:
    lon = np.array([121.8, 121.9])
    lat = np.array([29.8, 29.9])
    out = to_wgs84(lon, lat, name)
    np.testing.assert_array_equal(out[0], lon)
    np.testing.assert_array_equal(from_wgs84(lon, lat, name)[1], lat)
    out[0][0] = 0.0
    assert lon[0] == 121.8  # result does not alias the input


@pytest.mark.parametrize("name", ["GCJ02", "Gcj02", "BD09", "bd09"])
def test_crs_names_case_insensitive(name: str) -> None:
    expected = to_wgs84(*XINQI, name.lower())
    np.testing.assert_array_equal(to_wgs84(*XINQI, name), expected)


def test_out_of_china_flags() -> None:
    lon = np.array([PARIS[0], SYDNEY[0], BEIJING[0], XINQI[0]])
    lat = np.array([PARIS[1], SYDNEY[1], BEIJING[1], XINQI[1]])
    np.testing.assert_array_equal(out_of_china(lon, lat), [True, True, False, False])
    assert out_of_china(72.003, 30.0) and not out_of_china(72.005, 30.0)
    assert out_of_china(120.0, 55.83) and out_of_china(120.0, 0.8292)


@pytest.mark.parametrize("point", [PARIS, SYDNEY])
def test_out_of_china_passes_through_gcj(point: tuple[float, float]) -> None:
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        lon, lat = convert(*point)
        assert (float(lon), float(lat)) == point
    assert to_wgs84(*point, "gcj02")[0] == point[0]
    # BD-09 shift is applied everywhere (common convention) and still inverts exactly
    bd = wgs84_to_bd09(*point)
    assert abs(float(bd[0]) - point[0]) > 1e-3
    back = bd09_to_wgs84(*bd)
    assert abs(float(back[0]) - point[0]) < DEG_TOL and abs(float(back[1]) - point[1]) < DEG_TOL


def test_scalar_and_vector_agree_and_shapes_are_preserved() -> None:
    lon, lat = china_points(12, seed=3)
    grid_lon, grid_lat = lon.reshape(3, 4), lat.reshape(3, 4)
    grid = partial(to_metric, metric_crs=METRIC)  # one grid for the scalar and the vector
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, grid):
        vec = convert(grid_lon, grid_lat)
        assert vec[0].shape == (3, 4) and vec[1].shape == (3, 4)
        assert vec[0].dtype == np.float64
        scalar = convert(float(lon[5]), float(lat[5]))
        assert isinstance(scalar[0], np.ndarray) and scalar[0].shape == ()
        assert float(scalar[0]) == vec[0][1, 1] and float(scalar[1]) == vec[1][1, 1]
    listed = wgs84_to_gcj02(list(lon), list(lat))
    np.testing.assert_array_equal(listed[0], wgs84_to_gcj02(lon, lat)[0])


def test_broadcasting_and_empty_input() -> None:
    out = wgs84_to_gcj02(np.array([121.8, 121.9, 122.0]), 29.9)
    assert out[0].shape == out[1].shape == (3,)
    empty = gcj02_to_wgs84(np.array([]), np.array([]))
    assert empty[0].shape == (0,)


def test_unknown_crs_name() -> None:
    with pytest.raises(UnknownCRSError, match="gcj-03") as info:
        to_wgs84(*XINQI, "gcj-03")
    message = str(info.value)
    assert all(name in message for name in SUPPORTED_INPUT_CRS)
    assert isinstance(info.value, ValueError)
    with pytest.raises(UnknownCRSError, match="EPSG:3857"):
        from_wgs84(*XINQI, "EPSG:3857")


@pytest.mark.parametrize(
    ("lon", "lat", "pattern"),
    [
        (float("nan"), 30.0, r"longitude nan is non-finite"),
        (121.0, float("inf"), r"latitude inf is non-finite"),
        (200.0, 30.0, r"longitude 200\.0 is outside \[-180, 180\]"),
        (121.0, 95.0, r"latitude 95\.0 is outside \[-90, 90\]"),
        (-180.5, 30.0, r"longitude -180\.5"),
    ],
)
def test_bad_coordinates_raise(lon: float, lat: float, pattern: str) -> None:
    for call in (
        lambda: to_wgs84(lon, lat, "gcj02"),
        lambda: from_wgs84(lon, lat, "bd09"),
        lambda: to_wgs84(lon, lat, "wgs84"),
        lambda: wgs84_to_gcj02(lon, lat),
        lambda: check_lonlat(lon, lat),
    ):
        with pytest.raises(CoordinateError, match=pattern) as info:
            call()
        assert isinstance(info.value, ValueError)


def test_error_names_first_bad_value() -> None:
    with pytest.raises(CoordinateError, match=r"200\.0 .*flat index 1") as info:
        check_lonlat([121.0, 200.0, 300.0], 30.0)
    assert "300" not in str(info.value)


def test_check_lonlat_accepts_bounds_and_broadcasts() -> None:
    lon, lat = check_lonlat([-180.0, 180.0], [[-90.0], [90.0]])
    assert lon.shape == lat.shape == (2, 2)
    assert lon.dtype == lat.dtype == np.float64


def test_non_convergence_raises() -> None:
    with pytest.raises(ConvergenceError):
        gcj02_to_wgs84(*BEIJING, max_iter=1)


def test_metric_round_trip() -> None:
    lon, lat = np.meshgrid(np.linspace(121.0, 122.5, 20), np.linspace(29.0, 30.5, 20))
    back = from_metric(*to_metric(lon, lat))
    assert back[0].shape == (20, 20)
    np.testing.assert_allclose(back[0], lon, rtol=0, atol=1e-10)
    np.testing.assert_allclose(back[1], lat, rtol=0, atol=1e-10)


def test_metric_values_near_ningbo() -> None:
    x, y = to_metric(*XINQI)
    assert 380_000.0 < float(x) < 400_000.0  # ~1.16 deg west of the 123E central meridian
    assert 3.25e6 < float(y) < 3.35e6
    d = metres(XINQI, (XINQI[0], XINQI[1] + 0.01))
    assert 1108.0 < float(d) < 1110.0


def test_from_metric_rejects_non_finite() -> None:
    with pytest.raises(CoordinateError, match="easting nan"):
        from_metric(float("nan"), 3.3e6)
    with pytest.raises(CoordinateError, match="northing inf"):
        from_metric(390_000.0, float("inf"))


# A metric CRS per community: the CGCS2000 3-degree Gauss-Krüger zone nearest it.


@pytest.mark.parametrize("cm", range(75, 136, 3))
def test_zone_codes_are_the_cgcs2000_3_degree_cm_zones(cm: int) -> None:
    code = metric_crs_for(cm)
    crs = CRS.from_user_input(code)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
    assert params["Longitude of natural origin"] == cm
    assert params["False easting"] == 500_000  # no zone-number prefix
    assert code == f"EPSG:{4534 + (cm - 75) // 3}"


def test_lingxiao_keeps_4550_and_beijing_gets_4548() -> None:
    assert metric_crs_for(XINQI[0]) == "EPSG:4550" == METRIC
    assert metric_crs_for(121.84) == "EPSG:4550"
    assert metric_crs_for(116.4) == "EPSG:4548"
    assert metric_crs_for(BEIJING[0]) == "EPSG:4548"


@pytest.mark.parametrize(
    ("lon", "code"),
    [
        (121.49, "EPSG:4549"),
        (121.5, "EPSG:4550"),  # half-way belongs to the eastern zone
        (121.51, "EPSG:4550"),
        (124.49, "EPSG:4550"),
        (124.5, "EPSG:4551"),
        (118.5, "EPSG:4549"),
        (118.49, "EPSG:4548"),
        (73.5, "EPSG:4534"),
        (136.49, "EPSG:4554"),
    ],
)
def test_zone_edges(lon: float, code: str) -> None:
    assert metric_crs_for(lon) == code


@pytest.mark.parametrize("lon", [73.49, 136.5, PARIS[0], SYDNEY[0], -121.84, 500_000.0])
def test_longitude_outside_china_zones_is_named(lon: float) -> None:
    with pytest.raises(MetricZoneError, match=re.escape(f"longitude {lon!r} is outside")):
        metric_crs_for(lon)
    assert issubclass(MetricZoneError, CoordinateError)


def test_non_finite_longitude_has_no_zone() -> None:
    with pytest.raises(MetricZoneError, match="longitude nan is not a finite number"):
        metric_crs_for(float("nan"))


def test_metric_crs_of_frames_series_and_geometries() -> None:
    square = shapely.box(116.39, 39.90, 116.42, 39.93)
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[square], crs=WGS84)
    assert metric_crs_of(frame) == "EPSG:4548"
    assert metric_crs_of(frame.geometry) == "EPSG:4548"
    assert metric_crs_of(square) == "EPSG:4548"
    assert metric_crs_of([square, None]) == "EPSG:4548"
    # a frame in a projected CRS is measured in WGS84, whatever zone it was in
    assert metric_crs_of(frame.to_crs(METRIC)) == "EPSG:4548"
    assert metric_crs_of(gpd.GeoDataFrame(geometry=[shapely.Point(XINQI)])) == "EPSG:4550"
    # the centre of the data's extent decides, not any one feature
    across = [shapely.Point(121.0, 29.9), shapely.Point(122.2, 29.9)]  # centre 121.6
    assert metric_crs_of(across) == "EPSG:4550"


def test_metric_crs_of_empty_or_foreign_data() -> None:
    empty = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    with pytest.raises(MetricZoneError, match="no coordinates"):
        metric_crs_of(empty)
    assert metric_crs_of(empty, default="EPSG:4549") == "EPSG:4549"
    with pytest.raises(MetricZoneError, match=r"longitude 2\.35 is outside"):
        metric_crs_of(shapely.Point(PARIS))


def test_to_metric_defaults_to_the_points_zone() -> None:
    x, y = to_metric(*BEIJING)
    bx, by = to_metric(*BEIJING, metric_crs="EPSG:4548")
    assert (float(x), float(y)) == (float(bx), float(by))
    assert 400_000 < float(x) < 500_000  # ~0.6 deg west of the 117E central meridian
    lon, lat = from_metric(x, y, metric_crs="EPSG:4548")
    assert_close_deg((lon, lat), BEIJING)
    # Lingxiao's points land where they always did, on EPSG:4550
    assert float(to_metric(*XINQI)[0]) == float(to_metric(*XINQI, metric_crs=METRIC)[0])
    # from_metric cannot tell the zone from eastings: its default stays EPSG:4550
    assert_close_deg(from_metric(*to_metric(*XINQI)), XINQI)
    with pytest.raises(MetricZoneError):
        to_metric(*PARIS)
    assert to_metric(*PARIS, metric_crs="EPSG:2154")[0].shape == ()  # any projected CRS
