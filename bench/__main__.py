"""Run the benchmarks one after another: ``python -m bench --quick``, as CI does.

Each benchmark runs as ``python -m bench.NAME`` (with ``--quick`` when given)
in a process of its own, so that one run's memory, threads, servers and browser
do not weigh on the next, and its output is passed through as it comes.  The
report ends with a table: a line per benchmark with its result, its wall time
and its ``ratios:`` line (gridgov against its baseline).

The exit status is 1 when any benchmark failed: a check found gridgov and its
baseline disagreeing, or the benchmark broke.  Times are printed, never
judged.  A benchmark skipped because a service it needs is missing (exit
status 77: PostgreSQL with PostGIS, Chromium, the map assets) does not fail
the run, except under ``GRIDGOV_STRICT=1``, where the benchmark itself fails::

    python -m bench --quick                   # every benchmark in quick mode
    python -m bench --quick lookup dispatch   # some of them
    python -m bench                           # full runs: many minutes
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench._scaffold import RATIOS, ROOT, SKIPPED, STRICT_VARIABLE, section, strict
from bench._timing import column_table, fmt_seconds

# cheapest first, so that a broken check shows up early
BENCHMARKS = (
    "lookup",
    "communities",
    "dispatch",
    "coverage",
    "stats",
    "lists",
    "intake",
    "pagerate",
    "photos",
    "exports",
    "durability",
    "workers",
    "mappage",
    "reportpage",
)


@dataclass(frozen=True)
class Outcome:
    """How one benchmark's run ended."""

    name: str
    status: int  # the process's exit status (negative: killed by that signal)
    seconds: float  # wall time of the process, start to exit
    ratios: str  # its ratios: line, without the prefix ("" when it printed none)
    last: str  # its last line of output: why it failed or was skipped, when it did

    @property
    def passed(self) -> bool:
        return self.status == 0

    @property
    def skipped(self) -> bool:
        return self.status == SKIPPED and not strict()

    @property
    def result(self) -> str:
        if self.passed:
            return "passed"
        if self.skipped:
            return "skipped"
        return f"FAILED (exit status {self.status})"


def run_benchmark(name: str, quick: bool) -> Outcome:
    """Run ``python -m bench.<name>``, echoing its output; note its ``ratios:`` line."""
    argv = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if quick else [])]
    print(f"\n=== bench.{name}: python {' '.join(argv[1:])}\n", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines in the order they were written
    headline = last = ""
    started = time.perf_counter()
    with subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.startswith(RATIOS):
                headline = line[len(RATIOS) :].strip()
            if line.strip():
                last = line.strip()
    return Outcome(name, child.returncode, time.perf_counter() - started, headline, last)


def summary(outcomes: Sequence[Outcome], seconds: float) -> str:
    """The closing table, a line per benchmark, and the count of results."""
    table = column_table(
        outcomes,
        {
            "benchmark": lambda o: f"bench.{o.name}",
            "result": lambda o: o.result,
            "wall time": lambda o: fmt_seconds(o.seconds),
            "ratios against the baseline (printed, not judged)": lambda o: o.ratios or "-",
        },
    )
    why = [f"- bench.{o.name}: {shorten(o.last, 300)}" for o in outcomes if not o.passed]
    passed = sum(o.passed for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    failed = len(outcomes) - passed - skipped
    return "\n".join(
        [
            table,
            *(["", *why] if why else []),
            "",
            f"{passed} passed, {failed} failed, {skipped} skipped; "
            f"total wall time {fmt_seconds(seconds)}",
        ]
    )


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, marked when it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run the benchmarks one after another; exit 1 if any fails.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="each in its quick mode (the CI smoke run)"
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run, in this order (default: all of {', '.join(BENCHMARKS)})",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = args.names or list(BENCHMARKS)
    print(
        f"# Benchmarks, {'quick' if args.quick else 'full'} mode: {', '.join(names)}\n\n"
        + (
            f"{STRICT_VARIABLE}=1: a missing service (PostGIS, Chromium, map assets) is a failure"
            if strict()
            else f"a benchmark missing a service is skipped ({STRICT_VARIABLE}=1 makes it fail)"
        ),
        flush=True,
    )
    started = time.perf_counter()
    outcomes = [run_benchmark(name, args.quick) for name in names]
    section("Summary", summary(outcomes, time.perf_counter() - started))
    return 0 if all(o.passed or o.skipped for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
