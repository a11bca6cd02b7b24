"""Tests for gis.crs: GCJ-02 / BD-09 transforms, validation and the metric grid."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from gis.crs import (
    METRIC,
    SUPPORTED_INPUT_CRS,
    WGS84,
    ConvergenceError,
    CoordinateError,
    UnknownCRSError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_lonlat,
    from_metric,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
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
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, to_metric):
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
