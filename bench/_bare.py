"""The ceiling for ``bench.intake``: a bare FastAPI app that takes a case report.

``POST /api/v1/issues`` parses the same JSON body as gridgov's intake with a
small pydantic model and answers 201 with a small JSON object; nothing is
stored, located or checked against a database.  ``GET /healthz`` answers 200.

Served the way ``gridgov serve`` serves the real app: ``uvicorn.run`` with its
defaults (one process, access log on) less proxy headers::

    python -m bench._bare --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=20)


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    category: str = Field(min_length=1, max_length=40)
    description: str
    reporter: Reporter | None = None
    channel: Literal["mobile", "web", "patrol", "phone"] = "web"


def create_app() -> FastAPI:
    app = FastAPI(title="bare intake")
    ids = itertools.count(1)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/issues", status_code=201)
    async def report_issue(report: Report) -> JSONResponse:
        issue_id = next(ids)
        return JSONResponse(
            {"id": issue_id, "status": "reported", "category": report.category},
            status_code=201,
            headers={"Location": f"/api/v1/issues/{issue_id}"},
        )

    return app


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench._bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, proxy_headers=False)


if __name__ == "__main__":
    main()
