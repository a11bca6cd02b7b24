"""The gridgov command: load with progress, and serve the sample end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from api.cli import app
from gis.io import read_layer_file
from tests.helpers import DATA, ROOT, free_port, wait_until

runner = CliRunner()


def test_load_reports_each_layer_and_skips_when_not_empty(database_url: str) -> None:
    first = runner.invoke(app, ["load", str(DATA), "--database-url", database_url])
    assert first.exit_code == 0, first.output
    assert "loaded grids: 22" in first.output and "loaded members: 1070" in first.output
    again = runner.invoke(app, ["load", str(DATA), "--database-url", database_url, "--if-empty"])
    assert again.exit_code == 0 and "nothing loaded" in again.output


def test_load_refuses_a_broken_layer(tmp_path: Path, sample_dir: Path) -> None:
    path = sample_dir / "squads.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["features"][0]["properties"]["capacity"]
    data["features"][1]["geometry"] = None
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = runner.invoke(app, ["load", str(sample_dir), "--database-url", url])
    assert result.exit_code == 1
    assert "REFUSED squads" in result.output
    assert "[missing_attribute] squads SQ1: 'capacity' is empty" in result.output
    assert "[empty_geometry] squads SQ2: has no geometry" in result.output
    assert "loaded grids: 22" in result.output


def test_serve_loads_the_sample_into_empty_sqlite_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "GRIDGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'gridgov.sqlite3'}",
        "GRIDGOV_VAR_DIR": str(tmp_path / "var"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--sample-if-empty", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def answered() -> dict[str, object] | None:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as r:
                    return dict(json.load(r))
            except OSError:
                return None

        health = wait_until(answered, 120, "the server to answer /healthz")
        assert health["database"] == "sqlite" and health["layers"]["grids"] == 22
        with urllib.request.urlopen(f"{base}/api/v1/grids", timeout=5) as r:
            grids = json.load(r)
        assert len(grids["features"]) == 22
        with urllib.request.urlopen(f"{base}/api/v1/issues?limit=1", timeout=5) as r:
            assert json.load(r)["total"] == 300
        token = (tmp_path / "var" / "demo-manager.token").read_text().strip()
        request = urllib.request.Request(
            f"{base}/api/v1/exports/issues.csv", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert "loaded grids: 22" in out and "loaded demo cases: 300" in out
    assert f"demo manager token (for staff endpoints): {token}" in out


def test_load_csv_points_given_in_gcj02(tmp_path: Path, sample_dir: Path) -> None:
    from sqlalchemy.orm import Session

    from gis.crs import from_wgs84, to_metric
    from store.db import make_engine
    from store.layers import read_layer

    folder = tmp_path / "community"
    (folder / "boundaries").mkdir(parents=True)
    truth = (121.838591, 29.890289)
    lon, lat = from_wgs84(*truth, "gcj02")
    for name in ("community", "grids", "districts"):
        (folder / "boundaries" / f"{name}.geojson").write_bytes(
            (sample_dir / "boundaries" / f"{name}.geojson").read_bytes()
        )
    # boundaries are WGS84 GeoJSON that declares itself; the CSV holds Amap coordinates
    (folder / "merchants.csv").write_text(
        f"id,name,category,lon,lat\nM1,药店,pharmacy,{float(lon):.8f},{float(lat):.8f}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = runner.invoke(app, ["load", str(folder), "--database-url", url, "--crs", "gcj02"])
    assert result.exit_code == 0, result.output
    with Session(make_engine(url)) as session:
        merchant = read_layer(session, "merchants").geometry.iloc[0]
        grids = read_layer(session, "grids")
    x0, y0 = to_metric(*truth)
    x1, y1 = to_metric(merchant.x, merchant.y)
    assert float(np.hypot(x1 - x0, y1 - y0)) < 0.01
    # the boundaries were shifted as GCJ-02 too: --crs applies to every file in the folder
    assert not grids.geometry.iloc[0].equals(
        read_layer_file(sample_dir / "boundaries" / "grids.geojson").geometry.iloc[0]
    )
