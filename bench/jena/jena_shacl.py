"""Apache Jena SHACL (Debian's ``libapache-jena-java``) on a data file, timed.

A thin wrapper over ``bench/jena/shacl.sh``, which builds the class path, works
around the Debian packaging fault that stops Jena 4.5.0 from starting (see the
script's header and ``README.md``), compiles ``JenaShaclBench.java`` on first use
and runs it::

    from jena_shacl import jena_validate
    run = jena_validate("data.nt", "shapes/imr.shapes.ttl")
    run["conforms"], run["violations"], run["validation_seconds"], run["total_seconds"]

or from the shell::

    python bench/jena/jena_shacl.py DATA [--shapes SHAPES] [--repeat N] [--results TSV]

``conforms`` follows ``imrkg.validate``: true when no result is a violation
(warnings allowed, as pySHACL's ``allow_warnings=True``); ``conforms_strict`` is
Jena's own verdict (no results at all).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "shacl.sh"
DEFAULT_SHAPES = HERE.parent.parent / "shapes" / "imr.shapes.ttl"


class JenaUnavailableError(RuntimeError):
    """Jena could not be run (no Java, no ``libapache-jena-java``, a failed run)."""


class JenaRun(TypedDict):
    """What one run of Jena SHACL found and how long it took (seconds)."""

    conforms: bool
    conforms_strict: bool
    violations: int
    warnings: int
    infos: int
    results: int
    triples: int
    validation_seconds: float
    validation_seconds_runs: list[float]
    init_seconds: float
    load_seconds: float
    shapes_seconds: float
    total_seconds: float
    jena_version: str
    java_version: str


def jena_validate(
    data: str | Path,
    shapes: str | Path | None = None,
    *,
    repeat: int = 1,
    results_file: str | Path | None = None,
    report_file: str | Path | None = None,
    timeout: float | None = None,
) -> JenaRun:
    """Validate ``data`` (N-Triples, Turtle, ...) against ``shapes`` with Jena SHACL.

    ``validation_seconds`` is ``ShaclValidator.validate`` alone, measured in the
    JVM (the first of ``repeat`` runs; all are in ``validation_seconds_runs``);
    ``total_seconds`` is the wall time of the whole ``java`` process: JVM start,
    Jena initialisation, parsing data and shapes, validation. ``results_file``
    receives one tab-separated line per result (severity, focus, path, source
    shape, constraint component, value, message); ``report_file`` the SHACL
    report in Turtle.
    """
    command = [
        str(SCRIPT),
        "--shapes",
        str(shapes if shapes is not None else DEFAULT_SHAPES),
        "--data",
        str(data),
        "--repeat",
        str(repeat),
    ]
    if results_file is not None:
        command += ["--results", str(results_file)]
    if report_file is not None:
        command += ["--report", str(report_file)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JenaUnavailableError(f"Jena SHACL did not run: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise JenaUnavailableError(f"Jena SHACL failed (exit {done.returncode}): {tail}")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return JenaRun(
        conforms=bool(raw["conforms"]),
        conforms_strict=bool(raw["conforms_strict"]),
        violations=int(raw["violations"]),
        warnings=int(raw["warnings"]),
        infos=int(raw["infos"]),
        results=int(raw["results"]),
        triples=int(raw["triples"]),
        validation_seconds=float(raw["validate_ms"]) / 1000,
        validation_seconds_runs=[float(ms) / 1000 for ms in raw["validate_ms_runs"]],
        init_seconds=float(raw["init_ms"]) / 1000,
        load_seconds=float(raw["load_data_ms"]) / 1000,
        shapes_seconds=float(raw["parse_shapes_ms"]) / 1000,
        total_seconds=float(raw["wall_ms"]) / 1000,
        jena_version=str(raw["jena_version"]),
        java_version=str(raw["java_version"]),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate a data file with Jena SHACL, timed.")
    parser.add_argument("data", type=Path)
    parser.add_argument("--shapes", type=Path, default=DEFAULT_SHAPES)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--results", type=Path, default=None, help="write results as TSV")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        run = jena_validate(args.data, args.shapes, repeat=args.repeat, results_file=args.results)
    except JenaUnavailableError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps({**run, "caller_seconds": time.perf_counter() - started}, indent=2))
    return 0 if run["conforms"] else 1


if __name__ == "__main__":
    sys.exit(main())
