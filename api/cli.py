"""The ``gridgov`` command: validate and load community data, run the service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis.boundaries import load_boundaries, validate_boundaries
from gis.io import LayerReadError, read_layer_file
from gis.validate import SPECS, Report, validate_layer
from service.admin import add_staff, demo, has_grids, session_on
from service.errors import ServiceError
from service.schemas import MAX_ID
from service.settings import Settings
from service.startup import configure
from store.db import create_schema, make_engine
from store.load import LoadResult, load_folder, load_street

app = typer.Typer(
    help="gridgov: grid-governance map service.", no_args_is_help=True, add_completion=False
)
console = Console(stderr=True)


@app.callback()
def _startup() -> None:
    """Apply the settings every command shares (the working-day file) before it runs."""
    configure(Settings())


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
    frame = read_layer_file(path, crs)
    if layer != "grids":
        report = Report()
        report.extend(validate_layer(layer, frame))
        return report
    if community is None:
        sibling = [p for p in path.parent.glob("community.*") if p.suffix != ".md"]
        community = sibling[0] if sibling else None
    outline = read_layer_file(community, crs) if community else None
    return validate_boundaries(frame, outline)


@app.command()
def load(
    folder: Annotated[
        Path, typer.Argument(help="A community's folder of layers, or a street's (street.json)")
    ],
    crs: CrsOption = None,
    database_url: Annotated[str | None, typer.Option(help="Overrides GRIDGOV_DATABASE_URL")] = None,
    if_empty: Annotated[bool, typer.Option(help="Skip if the database already has grids")] = False,
    community: Annotated[
        str | None,
        typer.Option(help="The community a folder without boundaries is for (12 digits)"),
    ] = None,
) -> None:
    """Validate one community's folder of layers and import it, or refuse what is wrong.

    The community is added, or replaced by its code; every other community stays
    as it was.  A street's folder (with ``street.json``) loads each of its
    communities, then the street's own teams."""
    engine = make_engine(database_url or Settings().database_url)
    create_schema(engine)
    if if_empty and has_grids(engine):
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

        if (folder / "street.json").exists():
            street = load_street(engine, folder, crs, start)
            results = [*street.communities.values(), street.teams]
        else:
            results = [load_folder(engine, folder, crs, start, community)]
    for result in results:
        _report_load(result)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _report_load(result: LoadResult) -> None:
    if result.community and result.ok:
        typer.echo(f"community {result.community}")
    for layer, n in result.loaded.items():
        typer.echo(f"loaded {layer}: {n}")
    for warning in result.warnings:
        typer.echo(f"warning: [{warning.kind}] {warning}")
    for layer, problems in result.refused.items():
        typer.echo(f"REFUSED {layer}: {len(problems)} problem(s)")
        for problem in problems[:20]:
            typer.echo(f"  [{problem.kind}] {problem}")
        if len(problems) > 20:
            typer.echo(f"  … and {len(problems) - 20} more")


@app.command("communities")
def communities_list(database_url: UrlOption = None) -> None:
    """List the loaded communities with their counts."""
    from service.deployment import communities

    engine = make_engine(database_url or Settings().database_url)
    create_schema(engine)
    rows = communities(engine)
    if not rows:
        typer.echo("no community is loaded; gridgov load FOLDER adds one")
        return
    typer.echo(
        f"{'code':<13}{'grids':>6}{'features':>9}{'members':>8}{'cases':>7}{'open':>6}  name"
    )
    for r in rows:
        typer.echo(
            f"{r.code:<13}{r.grids:>6}{r.features:>9}{r.members:>8}{r.cases:>7}"
            f"{r.open_cases:>6}  {r.name}"
        )


@app.command()
def unload(
    code: Annotated[str, typer.Argument(help="The community's 12-digit code")],
    force: Annotated[
        bool, typer.Option(help="Remove it even with open cases (they and their history go too)")
    ] = False,
    database_url: UrlOption = None,
) -> None:
    """Remove one community: its layers, members and cases; refused while cases are open."""
    from service.deployment import unload as unload_one

    settings = Settings()
    engine = make_engine(database_url or settings.database_url)
    create_schema(engine)
    try:
        gone = unload_one(engine, settings, code, force)
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}")
        raise typer.Exit(2) from exc
    typer.echo(
        f"removed community {code}: {gone.features} features, {gone.members} members, "
        f"{gone.cases} cases"
    )


assets = typer.Typer(
    help="The map pages' scripts and styles, from the npm registry.", no_args_is_help=True
)
app.add_typer(assets, name="assets")


@assets.command("install")
def assets_install(
    folder: Annotated[
        Path | None, typer.Option(help="Default: GRIDGOV_VENDOR_DIR or var/vendor")
    ] = None,
    if_missing: Annotated[bool, typer.Option(help="Skip when every file is there")] = False,
) -> None:
    """Install Leaflet and its plugins with npm, for pages that work without internet."""
    from layers.assets import AssetError, check, install

    target = folder or Settings().vendor_dir
    try:
        if if_missing:
            try:
                check(target / "node_modules")
                typer.echo(f"map assets already in {target}")
                return
            except AssetError:
                pass
        modules = install(target)
    except AssetError as exc:
        typer.echo(f"error: {exc}")
        raise typer.Exit(2) from exc
    typer.echo(f"map assets installed in {modules}")


def _installed_assets(settings: Settings) -> Path:
    """The installed map assets a self-contained page is made from, or exit 2 saying how."""
    from layers.assets import AssetError, check

    modules = settings.vendor_dir / "node_modules"
    try:
        check(modules)
    except AssetError as exc:
        typer.echo(f"error: {exc}")
        raise typer.Exit(2) from exc
    return modules


@app.command("map")
def export_map(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write")],
    lang: str = "zh",
    database_url: Annotated[str | None, typer.Option(help="Overrides GRIDGOV_DATABASE_URL")] = None,
) -> None:
    """Write the grid managers' map as one self-contained HTML file (no live cases)."""
    from cases.deadlines import utcnow
    from layers.assets import inline
    from layers.manager_map import manager_map
    from layers.page import page_html
    from service.pages import map_layers, with_case_figures

    settings = Settings()
    modules = _installed_assets(settings)
    engine = make_engine(database_url or settings.database_url)
    with session_on(engine) as session:
        layers = with_case_figures(session, map_layers(session), utcnow())
    html = page_html(manager_map(layers, lang=lang, live=False), lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(inline(html, modules), encoding="utf-8")
    typer.echo(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


@app.command("coverage")
def export_coverage(
    out: Annotated[Path, typer.Option("--out", help="The folder to write the report into")],
    radius: Annotated[float, typer.Option("--radius", help="Walking radius in metres")] = 300.0,
    scenario: Annotated[
        str, typer.Option(help="current, or planned (open and planned)")
    ] = "planned",
    mode: Annotated[str, typer.Option(help="walk or straight_line")] = "walk",
    remove: Annotated[str, typer.Option(help="Facility ids to leave out, comma-separated")] = "",
    cars_per_household: Annotated[float, typer.Option(help="Cars per household")] = 1.0,
    suggest: Annotated[int, typer.Option(help="New sites to suggest (MCLP); 0 for none")] = 0,
    lang: str = "zh",
    database_url: Annotated[str | None, typer.Option(help="Overrides GRIDGOV_DATABASE_URL")] = None,
) -> None:
    """Write a parking coverage report: map (HTML), figures (CSV, JSON), chart (PNG)."""
    import json

    import pandas as pd

    from layers.assets import inline
    from layers.coverage_chart import coverage_chart
    from layers.page import page_html
    from layers.parking_map import parking_map
    from service.community import SnapshotCache
    from service.errors import ServiceError
    from service.pages import planning_layers
    from service.parking import CoverageQuery, coverage_report

    settings = Settings()
    modules = _installed_assets(settings)
    steps = ["read layers", "coverage", "map", "figures", "chart"]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("coverage report", total=len(steps))

        def step(name: str) -> None:
            progress.update(task, description=name)

        step("reading layers")
        engine = make_engine(database_url or settings.database_url)
        query = CoverageQuery(
            radius, mode, scenario, remove, (), "wgs84", cars_per_household, suggest
        )
        try:
            with session_on(engine) as session:
                snapshot = SnapshotCache().require(session)
                layers = planning_layers(session)
                progress.advance(task)
                step("computing coverage" + (" and choosing sites" if suggest else ""))
                report = coverage_report(session, snapshot, query)
        except ServiceError as exc:
            typer.echo(f"error: {exc.message}")
            raise typer.Exit(1) from exc
        finally:
            engine.dispose()
        answer, view = report.answer, report.view
        progress.advance(task)
        out.mkdir(parents=True, exist_ok=True)
        step("writing the map")
        fmap = parking_map(layers, lang, answer=view)
        html = page_html(fmap, lang)
        (out / "coverage.html").write_text(inline(html, modules), encoding="utf-8")
        progress.advance(task)
        step("writing figures")
        figures = pd.DataFrame({"current": answer.before.figures, "proposed": answer.after.figures})
        figures.index.name = "figure"
        figures.to_csv(out / "figures.csv")
        answer.curve.to_csv(out / "curve.csv", index=False)
        answer.after.facilities.drop(columns="geometry").to_csv(out / "facilities.csv", index=False)
        summary = {k: v for k, v in view.items() if k != "layers"}
        (out / "figures.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        progress.advance(task)
        step("drawing the chart")
        coverage_chart(answer.curve, out / "coverage.png", lang, radius)
        progress.advance(task)
    f = answer.after.figures
    typer.echo(
        f"households covered within {radius:g} m: {f['households_covered_share']:.1%} "
        f"(now {answer.before.figures['households_covered_share']:.1%}); "
        f"smart {f['smart_covered_share']:.1%}; spaces per car {f['spaces_per_demand']:.2f}"
    )
    for name in (
        "coverage.html",
        "figures.csv",
        "curve.csv",
        "facilities.csv",
        "figures.json",
        "coverage.png",
    ):
        typer.echo(f"wrote {out / name}")


db = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
users = typer.Typer(help="Staff accounts and their tokens.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(users, name="users")
UrlOption = Annotated[str | None, typer.Option(help="Overrides GRIDGOV_DATABASE_URL")]


@db.command("upgrade")
def db_upgrade(database_url: UrlOption = None, revision: str = "head") -> None:
    """Migrate the schema to the latest revision (or --revision)."""
    from store.migrate import current, upgrade

    engine = make_engine(database_url or Settings().database_url)
    upgrade(engine, revision)
    typer.echo(f"schema at revision {current(engine)}")


@db.command("current")
def db_current(database_url: UrlOption = None) -> None:
    """Print the schema revision of the database."""
    from store.migrate import current, head

    engine = make_engine(database_url or Settings().database_url)
    typer.echo(f"database: {current(engine) or 'empty'}; latest: {head()}")


@users.command("add")
def users_add(
    role: Annotated[str, typer.Option(help="grid_worker, dispatcher, manager, planner or admin")],
    name: Annotated[str, typer.Option(help="Who the token is for")],
    member: Annotated[
        str | None,
        typer.Option(
            help="A squad member's id: the token is that member's phone, which may "
            "post the member's live position"
        ),
    ] = None,
    area: Annotated[
        str,
        typer.Option(
            help="Where the role holds: a community (12 digits), street (9) or district (6); "
            "the whole deployment if not given"
        ),
    ] = "",
    database_url: UrlOption = None,
) -> None:
    """Create a staff user and print its token (shown only this once)."""
    from cases.deadlines import utcnow

    engine = make_engine(database_url or Settings().database_url)
    create_schema(engine)
    try:
        user_id, token = add_staff(engine, name, role, utcnow(), member, area)
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}")
        raise typer.Exit(2) from exc
    typer.echo(f"user {user_id} {name} ({role}, {area or 'whole deployment'}); token:")
    typer.echo(token)


@users.command("list")
def users_list(database_url: UrlOption = None) -> None:
    """List the staff accounts: id, role, area, name, and whether revoked."""
    from service.admin import list_staff

    engine = make_engine(database_url or Settings().database_url)
    create_schema(engine)
    for user in list_staff(engine).accounts:
        state = "active" if user.active else "revoked"
        member = f" member {user.member_id}" if user.member_id else ""
        typer.echo(
            f"{user.id}\t{user.role}\t{user.area or 'whole deployment'}\t{state}\t"
            f"{user.name}{member}"
        )


@users.command("revoke")
def users_revoke(
    user_id: Annotated[
        int, typer.Argument(min=1, max=MAX_ID, help="The account's id (gridgov users list)")
    ],
    database_url: UrlOption = None,
) -> None:
    """Revoke an account's token for good (the account stays listed, revoked)."""
    from service.admin import revoke_staff

    engine = make_engine(database_url or Settings().database_url)
    create_schema(engine)
    try:
        user = revoke_staff(engine, user_id)
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}")
        raise typer.Exit(2) from exc
    typer.echo(f"user {user.id} {user.name}: token revoked")


WORKER_HEALTHCHECK_S = 60


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes on one port; a supervisor replaces any that dies. "
            "More than one needs PostgreSQL with PostGIS (refused on SQLite, the "
            "single-process default) and GRIDGOV_REDIS_URL (one rate limit for all)",
        ),
    ] = 1,
    sample_if_empty: Annotated[
        bool,
        typer.Option(
            help="On an empty database, load the Lingxiao sample, a demo case history and a "
            "demo manager"
        ),
    ] = False,
) -> None:
    """Run the HTTP service (``--workers N``: N processes on one port)."""
    import uvicorn

    from service.serving import WorkersRefused, check_workers, shown_url

    settings = Settings()
    try:
        check_workers(settings, workers)
    except WorkersRefused as exc:
        typer.echo(f"error: {exc.message}")
        raise typer.Exit(2) from exc
    if sample_if_empty:
        sample = _street_sample(settings) if settings.sample == "street" else settings.sample_dir
        load(sample, crs=None, database_url=settings.database_url, if_empty=True)
        _demo(settings)
    settings.secret  # noqa: B018  (made here, once, before any worker reads it)
    typer.echo(
        f"gridgov on http://{host}:{port}/  (database: {shown_url(settings.database_url)}; "
        f"{workers} worker{'s' if workers > 1 else ''})"
    )
    # Each worker builds its own app from the environment (create_app() reads Settings()
    # as this command did, so the same GRIDGOV_* variables reach every worker); a new
    # worker imports the whole geospatial stack before it can answer the supervisor's
    # ping, which takes more than uvicorn's default 5 s on a busy machine.
    # proxy_headers=False: uvicorn would otherwise take the client from X-Forwarded-For
    # whenever the peer is 127.0.0.1 or ::1 (its default FORWARDED_ALLOW_IPS), before the
    # app sees the request. Who the client is behind a proxy is the app's one rule
    # (GRIDGOV_TRUSTED_PROXIES, service/clients.py), so uvicorn must hand over the peer.
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        proxy_headers=False,
    )


def _street_sample(settings: Settings) -> Path:
    """The illustrative street (``GRIDGOV_SAMPLE=street``), written on first use."""
    from data.street import write_street  # numpy, scipy: only when a street is asked for

    folder = settings.var_dir / "street"
    if not (folder / "street.json").exists():
        with console.status("writing the illustrative street of 12 communities (first run only)"):
            write_street(folder, communities=12)
    return folder


def _demo(settings: Settings) -> None:
    """Add the demo case history if there are no cases, and print the demo manager token."""
    from cases.deadlines import utcnow

    engine = make_engine(settings.database_url)
    with console.status("writing the demo case history (first run only)"):
        done = demo(engine, settings, utcnow())
    if done.cases_loaded:
        typer.echo(f"loaded demo cases: {done.cases_loaded}")
    typer.echo(f"demo manager token (for staff endpoints): {done.token}")


if __name__ == "__main__":
    app()
