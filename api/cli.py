"""The ``gridgov`` command: validate and load community data, run the service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.settings import Settings
from gis.boundaries import load_boundaries, validate_boundaries
from gis.io import LayerReadError, read_layer
from gis.validate import SPECS, Report, validate_layer
from store.db import create_schema, make_engine
from store.layers import layer_counts
from store.load import load_folder

app = typer.Typer(
    help="gridgov: grid-governance map service.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)
CrsOption = Annotated[
    str | None,
    typer.Option(
        "--crs", help="Coordinates' system when files don't declare it: wgs84, gcj02, bd09, EPSG:…"
    ),
]


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A boundary folder or a grids/community file")],
    community: Annotated[Path | None, typer.Option(help="Community boundary file")] = None,
    crs: CrsOption = None,
) -> None:
    """Check boundary layers and list every problem; exit 1 if there are any."""
    try:
        report = _validate(path, community, crs)
    except (LayerReadError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if report.ok:
        typer.echo(f"{path}: no problems found")
        return
    typer.echo(f"{path}: {len(report.problems)} problem(s)")
    for problem in report.problems:
        typer.echo(f"  [{problem.kind}] {problem}")
    raise typer.Exit(1)


def _validate(path: Path, community: Path | None, crs: str | None) -> Report:
    if path.is_dir():
        found = load_boundaries(path, crs)
        return validate_boundaries(found.grids, found.community, found.districts)
    layer = path.stem if path.stem in SPECS else "grids"
    frame = read_layer(path, crs)
    if layer != "grids":
        report = Report()
        report.extend(validate_layer(layer, frame))
        return report
    if community is None:
        sibling = [p for p in path.parent.glob("community.*") if p.suffix != ".md"]
        community = sibling[0] if sibling else None
    outline = read_layer(community, crs) if community else None
    return validate_boundaries(frame, outline)


@app.command()
def load(
    folder: Annotated[Path, typer.Argument(help="Folder with the community's layers")],
    crs: CrsOption = None,
    database_url: Annotated[str | None, typer.Option(help="Overrides GRIDGOV_DATABASE_URL")] = None,
    if_empty: Annotated[bool, typer.Option(help="Skip if the database already has grids")] = False,
) -> None:
    """Validate a folder of layers and import those without errors."""
    engine = make_engine(database_url or Settings().database_url)
    create_schema(engine)
    if if_empty:
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            if layer_counts(session).get("grids"):
                typer.echo("database already holds grids; nothing loaded")
                return
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:

        def start(layer: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(layer, total=total)
            return lambda n: progress.advance(task, n)

        result = load_folder(engine, folder, crs, start)
    for layer, n in result.loaded.items():
        typer.echo(f"loaded {layer}: {n}")
    for layer, problems in result.refused.items():
        typer.echo(f"REFUSED {layer}: {len(problems)} problem(s)")
        for problem in problems[:20]:
            typer.echo(f"  [{problem.kind}] {problem}")
        if len(problems) > 20:
            typer.echo(f"  … and {len(problems) - 20} more")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    sample_if_empty: Annotated[
        bool, typer.Option(help="Load the Lingxiao sample data first if the database has no grids")
    ] = False,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    if sample_if_empty:
        load(settings.sample_dir, crs=None, database_url=settings.database_url, if_empty=True)
    typer.echo(f"gridgov on http://{host}:{port}/  (database: {settings.database_url})")
    uvicorn.run(create_app(settings), host=host, port=port)


if __name__ == "__main__":
    app()
