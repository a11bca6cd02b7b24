"""The OGC API – Features at ``/ogc`` judged by the test tools a package registry offers.

Not a benchmark (``python -m bench`` does not run it): ``make ogc-conformance``
runs ``python -m bench.ogc_conformance``.  It

1. makes the tools' own virtualenvs under ``.venv-ogc/`` (git-ignored), once per
   pinned version: ogctests (its pytest suites ``features/core`` and
   ``features/filtering``) and ogcapi-registry (a static check of the API
   document against the declared classes); their pins conflict (httpx below
   0.28 for one, 0.28.1 or later for the other), hence two;
2. serves the Lingxiao sample with its demo cases (``gridgov serve
   --sample-if-empty``) on a free loopback port, on SQLite and then on a
   temporary PostGIS database (``GRIDGOV_BENCH_PG_URL``, as the benchmarks;
   skipped with a notice when no server answers, a failure under
   ``GRIDGOV_STRICT=1``);
3. runs every suite against it: ogctests core; ogctests filtering as
   published; ogctests filtering again with its ``Link`` header parser repaired
   (``bench/_ogctests_plugin.py`` says exactly what is changed, and why), so
   that its queryables tests can judge gridgov at all; ogcapi-registry;
4. prints, per backend, each declared conformance class with its results and
   the classes no tool here judges.

A failure is gridgov's unless :data:`TOOL_BUGS` names it, with the tool's line
and the clause it contradicts.  The exit status is 1 when any failure is
gridgov's (or a suite could not run), else 0.

The OGC's own executable test suite (TEAM Engine, ets-ogcapi-features10, with
the Part 2 CRS tests) is published through Maven and Docker registries, which
this project's machines do not reach, so it is not run here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench import _scaffold as scaffold

TOOLS = scaffold.ROOT / ".venv-ogc"
OGCTESTS = "ogctests==0.1.15"
REGISTRY = "ogcapi-registry==0.4.0"
STARTUP_TIMEOUT_S = 300.0  # serving an empty database first loads the sample and demo cases

P1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
P2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
P3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"

# an abstract test's id (the first word of an ogctests docstring) → its class
TEST_CLASSES = {
    "/ats/core/": P1 + "core",
    "/ats/geojson/": P1 + "geojson",
    "/ats/html/": P1 + "html",
    "/ats/oas30/": P1 + "oas30",
    "/conf/queryables/": P3 + "queryables",
    "/conf/queryables-query-parameters/": P3 + "queryables-query-parameters",
    "/conf/filter/": P3 + "filter",
    "/conf/features-filter/": P3 + "features-filter",
}

# the tools' failures that are the tool's own: (suite, test) → the line and the clause
_CT2 = (
    "ogctests/features/filtering/utils.py:16-18 (parse_link_header) keeps the target as `iri` "
    'with its angle brackets and, by `k, v = part.split("=")`, the quotes of rel="…", while '
    'test_queryables.py:64-67 reads link.get("href") and compares link.get("rel") with the '
    "bare URI. A relation type that is a URI must be sent as a quoted-string (RFC 8288 s. 3: "
    "link-param = token BWS [ \"=\" BWS ( token / quoted-string ) ]; ':' and '/' are no "
    "token characters), so no server can pass /conf/queryables/get-queryables-uris"
)
_AFTER_CT2 = (
    "follows from test_ct2's failure: it reads what test_ct2 stores in the shared "
    "filterable_resources fixture (queryables_uri, then queryable, spatial_queryable, "
    "additional_properties from test_ct3), a KeyError or None when test_ct2 failed"
)
_CT5 = (
    "test_queryables_query_parameters.py:92-101 sends the literal 'valid-value' as the valid "
    "value and '[invalid-value]' as the invalid one, whatever the queryable (the last "
    "non-spatial property test_ct3 saw). The ATS takes 'a valid value for each queryable', "
    "and /req/queryables-query-parameters/parameters C gives each parameter 'the same schema "
    "as the schema of the queryable': 'valid-value' is no integer or date-time, so gridgov's "
    "400 is right; '[invalid-value]' is a valid string"
)
_CT7 = (
    "test_filter.py:105 sends as filter-lang the whole dict {'name': 'cql2-text', 'default': "
    "True} of its filter_langs fixture, so a server that checks filter-lang must answer 400 "
    "(/req/filter/filter-lang-param: the values are the filter languages it supports); the "
    "'valid' filter `{queryable}=valid` also compares with a property named `valid`, which "
    "additionalProperties false makes a 400 (/req/queryables/get-queryables-response G)"
)
_CT8 = (
    "test_filter.py:154 indexes the sample queryable, a str, with ['key']: TypeError before "
    "any request, for any server"
)
_CT10 = (
    "test_filter.py:235-242 calls str.format on a CQL2 JSON template whose own braces it does "
    "not double: KeyError ' \"property\"' before any request, for any server (and line 244 "
    "names CQL2_FILTER_LANG, which ogctests defines nowhere)"
)
TOOL_BUGS: dict[tuple[str, str], str] = {
    ("filtering", "test_ct2"): _CT2,
    ("filtering", "test_ct3"): _AFTER_CT2,
    ("filtering", "test_ct5"): _AFTER_CT2,
    ("filtering", "test_ct7"): _AFTER_CT2,
    ("filtering", "test_ct8"): _AFTER_CT2,
    ("filtering", "test_ct9"): _AFTER_CT2,
    ("filtering", "test_ct10"): _AFTER_CT2,
    ("filtering-repaired", "test_ct5"): _CT5,
    ("filtering-repaired", "test_ct7"): _CT7,
    ("filtering-repaired", "test_ct8"): _CT8,
    ("filtering-repaired", "test_ct10"): _CT10,
}

# passes that judge (almost) nothing, so that nobody counts them as more
HOLLOW = {
    ("core", "test_ast15"): (
        "/ats/core/fc-bbox-response asks for bbox=5,48,20,70 (central Europe): the sample "
        "lies in China, so no feature comes back and none is checked"
    ),
    ("filtering-repaired", "test_ct9"): (
        "test_filter.py:185-190 keeps the resources whose additionalProperties is true, the "
        "ATS those where it is false; gridgov's are all false, so nothing is requested"
    ),
}


@dataclass(frozen=True)
class Suite:
    """One pytest run of ogctests: its key, its folder and whether the parser is repaired."""

    key: str
    scope: str
    repair: bool
    title: str


SUITES = (
    Suite("core", "features/core", False, "ogctests features/core"),
    Suite("filtering", "features/filtering", False, "ogctests features/filtering"),
    Suite(
        "filtering-repaired",
        "features/filtering",
        True,
        "ogctests features/filtering, Link parser repaired",
    ),
)


@dataclass(frozen=True)
class Result:
    """One test's outcome."""

    suite: str
    name: str
    test_id: str
    outcome: str  # passed, failed, skipped
    message: str = ""

    @property
    def conf_class(self) -> str:
        for prefix, uri in TEST_CLASSES.items():
            if self.test_id.startswith(prefix):
                return uri
        return "(no class: " + (self.test_id or self.name) + ")"

    @property
    def tool_bug(self) -> str | None:
        return TOOL_BUGS.get((self.suite, self.name)) if self.outcome == "failed" else None


@dataclass
class Run:
    """What one backend got: the tests' outcomes, the static check, the broken suites."""

    backend: str
    declared: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    registry: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)  # a suite that left no report

    @property
    def gridgov_failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome == "failed" and r.tool_bug is None]


# --------------------------------------------------------------------------- the tools


def _python(name: str) -> Path:
    return TOOLS / name / "bin" / "python"


def tool_venv(name: str, requirement: str) -> Path:
    """``.venv-ogc/<name>`` with ``requirement`` installed (once per pin); its python."""
    python, stamp = _python(name), TOOLS / name / ".installed"
    if stamp.exists() and stamp.read_text() == requirement:
        return python
    print(f"- installing {requirement} into {python.parent.parent} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(python.parent.parent)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, requirement], check=True)
    stamp.write_text(requirement)
    return python


def tool_version(python: Path, *dists: str) -> str:
    code = "import sys; from importlib.metadata import version as v; print(*map(v, sys.argv[1:]))"
    done = subprocess.run([str(python), "-c", code, *dists], capture_output=True, text=True)
    return ", ".join(f"{d} {v}" for d, v in zip(dists, done.stdout.split(), strict=False))


def _package_dir(python: Path, package: str) -> Path:
    code = f"import {package}, os; print(os.path.dirname({package}.__file__))"
    return Path(subprocess.check_output([str(python), "-c", code], text=True).strip())


# --------------------------------------------------------------------------- the runs


def run_suite(python: Path, suite: Suite, base: str, work: Path) -> list[Result] | None:
    """One ogctests suite against ``base``; None when it left no JUnit report."""
    package = _package_dir(python, "ogctests")
    report = work / f"{suite.key}.xml"
    ini = work / "pytest.ini"  # no ini of gridgov's (its pyproject.toml) reaches the tool
    ini.write_text("[pytest]\n")
    argv = [
        str(python),
        "-m",
        "pytest",
        str(package / suite.scope),
        "-c",
        str(ini),
        "--rootdir",
        str(package),
        "-p",
        "no:cacheprovider",
        "-p",
        "bench._ogctests_plugin",
        f"--junitxml={report}",
        "-q",
        "--tb=line",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    env = {
        **os.environ,
        "INSTANCE_URL": base,
        "PYTHONPATH": str(scaffold.ROOT),
        "OGC_REPAIR_LINK_HEADER": "1" if suite.repair else "0",
    }
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    (work / f"{suite.key}.log").write_text(done.stdout + done.stderr)
    if not report.exists():
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
        return None
    return list(_junit(report, suite.key))


def _junit(report: Path, suite: str) -> Iterator[Result]:
    for case in ET.parse(report).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") or "" for p in case.iter("property")}
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = "skipped" if tag == "skipped" else "failed"
                message = (node.get("message") or node.text or "").strip().splitlines()[0][:300]
        yield Result(suite, case.get("name", ""), props.get("test_id", ""), outcome, message)


REGISTRY_CHECK = """
import json, sys, httpx
from ogcapi_registry import parse_conformance_classes, validate_ogc_api
base = sys.argv[1]
doc = httpx.get(base + "/api", headers={"Accept": "application/vnd.oai.openapi+json;version=3.0"})
conf = httpx.get(base + "/conformance", headers={"Accept": "application/json"}).json()
result = validate_ogc_api(doc.json(), parse_conformance_classes(conf["conformsTo"]))
print(json.dumps({"errors": list(result.errors), "warnings": list(result.warnings)}, default=str))
"""


def run_registry(python: Path, base: str) -> dict[str, list[dict[str, str]]] | None:
    """ogcapi-registry's static check of ``base``'s API document; None when it broke."""
    done = subprocess.run(
        [str(python), "-c", REGISTRY_CHECK, base], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-3000:], sep="\n")
        return None
    found: dict[str, list[dict[str, str]]] = json.loads(done.stdout)
    return found


def judge(backend: str, database_url: str, work: Path, tools: dict[str, Path]) -> Run:
    """Serve the sample from ``database_url`` and run every suite against it."""
    port = scaffold.free_port()
    argv = [sys.executable, "-m", "api.cli", "serve", "--sample-if-empty"]
    argv += ["--host", scaffold.HOST, "--port", str(port)]
    env = {
        **os.environ,
        "GRIDGOV_DATABASE_URL": database_url,
        "GRIDGOV_VAR_DIR": str(work / "var"),
    }
    env.pop("GRIDGOV_REDIS_URL", None)
    run = Run(backend)
    log = work / "server.log"
    started = time.perf_counter()
    with scaffold.ServerProcess(argv, env, log, port, startup_timeout=STARTUP_TIMEOUT_S):
        base = f"http://{scaffold.HOST}:{port}/ogc"
        print(f"- {backend}: serving on {base} ({time.perf_counter() - started:.0f} s)", flush=True)
        with urllib_json(base + "/conformance") as conformance:
            run.declared = list(conformance["conformsTo"])
        for suite in SUITES:
            found = run_suite(tools["ogctests"], suite, base, work)
            if found is None:
                run.broken.append(suite.title)
            else:
                run.results += found
        checked = run_registry(tools["ogcapi-registry"], base)
        if checked is None:
            run.broken.append("ogcapi-registry")
        else:
            run.registry = checked
    return run


@contextmanager
def urllib_json(url: str) -> Iterator[dict[str, list[str]]]:
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        yield json.load(answer)


# --------------------------------------------------------------------------- the report


def report(run: Run) -> None:
    """Per declared class: each suite's counts, and every failure with whose it is."""
    rows = []
    tally: dict[tuple[str, str], Counter[str]] = {}
    for r in run.results:
        kind = "tool bug" if r.tool_bug else r.outcome
        tally.setdefault((r.conf_class, r.suite), Counter())[kind] += 1
    registry_classes = Counter(
        e.get("conformance_class", "") for e in run.registry.get("errors", [])
    )
    for uri in run.declared:
        judged = []
        for suite in SUITES:
            counts = tally.get((uri, suite.key))
            if counts:
                kinds = ("passed", "failed", "tool bug", "skipped")
                parts = [f"{counts[k]} {k}" for k in kinds if counts[k]]
                judged.append(f"{suite.key}: " + ", ".join(parts))
        if run.registry and _registry_covers(uri):
            judged.append(f"ogcapi-registry: {registry_classes.get(uri, 0)} errors")
        rows.append(f"| {uri} | {'; '.join(judged) or 'no tool here judges it'} |")
    scaffold.section(
        f"{run.backend}: declared classes",
        "| class | results (gridgov failures count as failed) |\n| --- | --- |\n" + "\n".join(rows),
    )
    lines = []
    for r in run.results:
        if r.outcome == "failed":
            whose = f"TOOL BUG: {r.tool_bug}" if r.tool_bug else "GRIDGOV FAILURE"
            lines.append(f"- {r.suite} {r.name} {r.test_id}: {whose}\n  ({r.message})")
        elif r.outcome == "passed" and (r.suite, r.name) in HOLLOW:
            hollow = HOLLOW[r.suite, r.name]
            lines.append(f"- {r.suite} {r.name} {r.test_id}: passes hollow: {hollow}")
    for e in run.registry.get("errors", []):
        where, what = e.get("path"), e.get("message")
        lines.append(f"- ogcapi-registry error: {where}: {what}: GRIDGOV FAILURE")
    notes = Counter(e.get("message", "") for e in run.registry.get("warnings", []))
    for message, n in notes.items():
        lines.append(f"- ogcapi-registry note ({n} paths): {message}")
    lines += [f"- {title}: left no report: FAILURE" for title in run.broken]
    scaffold.section(f"{run.backend}: failures and notes", "\n".join(lines) or "none")


def _registry_covers(uri: str) -> bool:
    """The classes whose API definition ogcapi-registry checks (paths, operations, the
    items' limit and bbox, Part 2's crs and bbox-crs, Part 3's filter parameters)."""
    return uri in (P1 + "core", P1 + "oas30", P2 + "crs", P3 + "filter")


def main() -> None:
    started = time.perf_counter()
    tools = {
        "ogctests": tool_venv("ogctests", OGCTESTS),
        "ogcapi-registry": tool_venv("ogcapi-registry", REGISTRY),
    }
    scaffold.banner(
        "OGC API – Features conformance of /ogc",
        tool_version(tools["ogctests"], "ogctests", "pytest", "httpx")
        + "; "
        + tool_version(tools["ogcapi-registry"], "ogcapi-registry"),
        "the Lingxiao sample and its demo cases, served by `gridgov serve --sample-if-empty`",
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="gridgov-ogc-") as tmp:
        work = Path(tmp) / "sqlite"
        work.mkdir()
        runs.append(judge("SQLite", scaffold.sqlite_url(work), work, tools))
        try:
            admin = scaffold.postgis_admin()
        except scaffold.Unavailable as missing:
            scaffold.skip_part("PostGIS", missing)
        else:
            try:
                with scaffold.temporary_postgis(admin) as url:
                    work = Path(tmp) / "postgis"
                    work.mkdir()
                    runs.append(judge("PostGIS", url, work, tools))
            finally:
                admin.dispose()
    for run in runs:
        report(run)
    scaffold.footer(started)
    failures = [f"{run.backend}: {r.suite} {r.name}" for run in runs for r in run.gridgov_failures]
    for run in runs:
        failures += [
            f"{run.backend}: ogcapi-registry {e.get('path')}"
            for e in run.registry.get("errors", [])
        ]
    failures += [f"{run.backend}: {title} left no report" for run in runs for title in run.broken]
    if failures:
        raise scaffold.CheckFailed("; ".join(failures))
    print("every failure above is a tool's (see TOOL_BUGS); none is gridgov's", flush=True)


if __name__ == "__main__":
    scaffold.run(main)
