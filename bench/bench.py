"""The imr-kg benchmark: synthetic corpora of N letters, measured end to end.

A script, not a test: it measures and writes what it measured; it asserts no time.

    python bench/bench.py --sizes 1000 10000 [--pdf-max 10000] [--work /tmp/imrkg-bench]

For each N it

1. writes N synthetic letters (``imrkg synth N --seed 1``; PDFs too up to ``--pdf-max``);
2. extracts the PDFs' text with pypdfium2 alone, on all cores: the ceiling for ingest;
3. runs ``imrkg build --bulk`` on the text letters and on the PDFs (all cores), timing
   it and sampling the peak resident memory of the whole process tree, and, up to
   ``--transactional-max``, the default build (one transaction per batch) on the text;
4. measures the store's size on disk;
5. validates letter graphs with the project's SHACL front door, both engines
   (the shapes compiled to SPARQL on Oxigraph, and pySHACL), and with Apache
   Jena's SHACL on the same data and shapes (``bench/jena``);
6. runs every named query 5 times on the on-disk store (median), and the same
   SPARQL on rdflib's in-memory graph of the same quads where rdflib loads them
   within ``--rdflib-limit`` seconds, as a ratio measured in the same run;

and writes a markdown table to ``bench/results/`` with the machine's cores and memory.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

# The parameters a named query needs on a synthetic store: filled from the store itself.
LOOKUPS = ("case", "case-graph", "evidence", "similar-cases")


# ------------------------------------------------------------------ measuring


def _children(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in children.split()]
    except OSError:
        return []


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    """Proportional set size: a page shared by n processes (the workers are forked from the
    writer, and share its vocabularies and shapes) counts 1/n in each, so the sum over the
    tree is the memory the build really holds; summing RSS counts shared pages n times."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return _rss_kib(pid)


def _tree_rss_kib(pid: int, measure: Callable[[int], int] = _rss_kib) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += measure(current)
        todo.extend(_children(current))
    return total


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    peak_pss_mib: float = 0.0


def run_measured(command: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run a command, sampling the resident memory of it and its children every 0.1 s."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    peak = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(process.pid))
            peak_pss = max(peak_pss, _tree_rss_kib(process.pid, _pss_kib))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    return Run(
        time.perf_counter() - started,
        peak / 1024,
        process.returncode,
        stdout,
        stderr,
        peak_pss / 1024,
    )


def du_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / (1024 * 1024)


def compacted_mib(store: Path) -> float:
    """The store's size once RocksDB has compacted it (its write-ahead log folded in)."""
    import pyoxigraph as ox

    database = ox.Store(str(store / "oxigraph"))
    database.optimize()
    database.flush()
    del database
    return du_mib(store)


def _pdf_text(path: str) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return sum(len(page.get_textpage().get_text_range()) for page in document)
    finally:
        document.close()


def bare_extraction(pdfs: list[Path], jobs: int) -> float:
    """Seconds to pull the text out of every PDF with pypdfium2 alone, on ``jobs`` cores."""
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for _ in pool.imap_unordered(_pdf_text, [str(p) for p in pdfs], chunksize=32):
            pass
    return time.perf_counter() - started


# ------------------------------------------------------------------ SHACL


def shacl_comparison(store_path: Path, letters: int, work: Path) -> dict[str, Any]:
    """The project's front door, with each engine, and Jena SHACL on the same letters'
    graphs: all letters as one graph, and (the oxigraph engine) in a build's batches of 64."""
    import rdflib

    from imrkg.build import _Written
    from imrkg.graph import LetterTriples
    from imrkg.shacl_sparql import compile_shapes
    from imrkg.store import KnowledgeStore
    from imrkg.validate import _class_facts, shapes_dir, shapes_graph, validate, validate_letters

    store = KnowledgeStore(store_path, read_only=True)
    graphs = [store.graph(iri) for iri in store.letter_graphs()[:letters]]
    data = rdflib.Graph()
    for graph in graphs:
        for triple in graph:
            data.add(triple)
    del store
    compile_shapes(shapes_graph())  # once per process, as a build's workers do before forking
    started = time.perf_counter()
    report = validate(data, engine="pyshacl")
    pyshacl_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = validate(data, engine="oxigraph")
    oxigraph_seconds = time.perf_counter() - started
    # as a build hands letters to the validator: each letter's triples with their N-Quads,
    # written once for the store and the validator (build._Written), not rdflib graphs
    written = []
    for graph in graphs:
        triples = LetterTriples(graph.identifier)
        triples.update(graph)
        written.append(_Written(triples))
    batches = [written[start : start + 64] for start in range(0, len(written), 64)]
    started = time.perf_counter()
    for batch in batches:
        validate_letters(batch, engine="oxigraph")
    batched_seconds = time.perf_counter() - started
    # the same batches again, loading and checking timed apart: the checks alone are what
    # Jena's validation step does on a graph it has already parsed
    compiled, facts = compile_shapes(shapes_graph()), tuple(_class_facts())
    loading_seconds = checking_seconds = 0.0
    for batch in batches:
        started = time.perf_counter()
        loaded = compiled.load(batch, facts)
        between = time.perf_counter()
        compiled.check(loaded)
        loading_seconds += between - started
        checking_seconds += time.perf_counter() - between
    for triple in _class_facts():
        data.add(triple)
    data_file = work / "shacl-data.nt"
    data.serialize(data_file, format="nt", encoding="utf-8")
    result: dict[str, Any] = {
        "letters": len(graphs),
        "triples": len(data),
        "pyshacl_seconds": pyshacl_seconds,
        "pyshacl_conforms": report.conforms,
        "pyshacl_violations": len(report.violations),
        "oxigraph_seconds": oxigraph_seconds,
        "oxigraph_batched_seconds": batched_seconds,
        "oxigraph_loading_seconds": loading_seconds,
        "oxigraph_checking_seconds": checking_seconds,
        "oxigraph_conforms": ours.conforms,
        "oxigraph_violations": len(ours.violations),
        "engines_same_results": ours.results == report.results,
    }
    try:
        sys.path.insert(0, str(ROOT / "bench" / "jena"))
        from jena_shacl import jena_validate  # type: ignore[import-not-found]

        jena = jena_validate(data_file, shapes_dir() / "imr.shapes.ttl")
        result.update({f"jena_{k}": v for k, v in jena.items()})
    except Exception as exc:  # the comparison is optional where Jena is missing
        result["jena_error"] = f"{type(exc).__name__}: {exc}"
    return result


# ------------------------------------------------------------------ queries


def query_parameters(store: Any) -> dict[str, dict[str, str]]:
    """Parameters for the named queries that need them, taken from the store."""
    from imrkg.queries import library

    answer = store.query(
        "PREFIX imr: <https://w3id.org/imr-kg/ontology#> "
        "PREFIX dcterms: <http://purl.org/dc/terms/> "
        "SELECT ?case WHERE { ?l a imr:DeterminationLetter ; dcterms:identifier ?case } "
        "ORDER BY ?case LIMIT 1"
    )
    case = str(answer.rows[0][0])
    params: dict[str, dict[str, str]] = {}
    for name, query in library().items():
        values = {}
        for parameter in query.parameters:
            if parameter.name == "case":
                values["case"] = case
            elif parameter.name == "treatment" and parameter.required:
                values["treatment"] = "physical therapy"
        params[name] = values
    return params


def time_queries(store_path: Path, repeats: int = 5) -> dict[str, Any]:
    """Median milliseconds of every named query on the on-disk store, and the SPARQL run."""
    from imrkg.queries import bind, bound_values, library, run_named
    from imrkg.store import KnowledgeStore

    store = KnowledgeStore(store_path, read_only=True)
    params = query_parameters(store)
    timings: dict[str, Any] = {}
    for name, query in sorted(library().items()):
        run_named(store, name, params[name])  # warm the caches, as a server would be
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            answer = run_named(store, name, params[name])
            samples.append((time.perf_counter() - started) * 1000)
        values, _ = bound_values(store, query, params[name])
        rows = len(answer.rows) if hasattr(answer, "rows") else None
        timings[name] = {
            "ms": statistics.median(samples),
            "rows": rows,
            "sparql": bind(query.text, values),
        }
    return timings


def time_queries_apart(store_path: Path) -> dict[str, Any]:
    """:func:`time_queries` in a process of its own, so that every query starts the same
    way whatever ran before. Timed in the bench's own process after the SHACL comparison
    (which holds pySHACL's graph of a million triples), the 10k store's lookups were up to
    2.6 times slower than timed minutes later in a fresh process (``evidence`` 33 against
    13 ms); the cause was not pinned down."""
    answer = subprocess.run(
        [sys.executable, __file__, "--time-queries", str(store_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    timings: dict[str, Any] = json.loads(answer.stdout)
    return timings


_RDFLIB_RUNNER = r"""
import json, signal, sys, time, warnings
import rdflib
warnings.simplefilter("ignore")
path, queries = sys.argv[1], json.load(open(sys.argv[2]))
per_query = float(sys.argv[3])
started = time.perf_counter()
dataset = rdflib.Dataset(default_union=True)
dataset.parse(path, format="nquads")
print(json.dumps({"load_seconds": time.perf_counter() - started, "triples": len(dataset)}), flush=True)
def stop(signum, frame):
    raise TimeoutError


signal.signal(signal.SIGALRM, stop)
for name, text in queries.items():
    started = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, per_query)
    try:
        rows = len(list(dataset.query(text)))
    except TimeoutError:
        print(json.dumps({"query": name, "ms": per_query * 1000, "timed_out": True}), flush=True)
        continue
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    print(json.dumps({"query": name, "ms": (time.perf_counter() - started) * 1000, "rows": rows}), flush=True)
"""


def rdflib_queries(
    store_path: Path, timings: dict[str, Any], work: Path, limit: float, per_query: float
) -> dict[str, Any]:
    """The same SPARQL on rdflib's in-memory graph of the store's quads, in a child
    process stopped after ``limit`` seconds (what finished by then is kept). A query
    still running after ``per_query`` seconds is stopped and reported as taking at least
    that long, so that its ratio is a lower bound."""
    import pyoxigraph as ox

    dump = work / "store.nq"
    store = ox.Store.read_only(str(store_path / "oxigraph"))
    store.dump(str(dump), format=ox.RdfFormat.N_QUADS)
    del store
    queries_file = work / "queries.json"
    queries_file.write_text(json.dumps({n: t["sparql"] for n, t in timings.items()}))
    runner = work / "rdflib_runner.py"
    runner.write_text(_RDFLIB_RUNNER)
    out: dict[str, Any] = {"queries": {}}
    process = subprocess.Popen(
        [sys.executable, str(runner), str(dump), str(queries_file), str(per_query)],
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + limit

    def kill_at_deadline() -> None:
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                return
            time.sleep(0.5)

    watchdog = threading.Thread(target=kill_at_deadline, daemon=True)
    watchdog.start()
    assert process.stdout is not None
    for line in process.stdout:
        entry = json.loads(line)
        if "query" in entry:
            out["queries"][entry["query"]] = entry
        else:
            out.update(entry)
    process.wait()
    out["stopped"] = process.returncode != 0
    dump.unlink(missing_ok=True)
    return out


# ------------------------------------------------------------------ one size


@dataclass
class SizeResult:
    n: int
    figures: dict[str, Any] = field(default_factory=dict)


def imrkg(*args: str) -> list[str]:
    return [sys.executable, "-m", "imrkg", *args]


def bench_size(
    n: int,
    work: Path,
    jobs: int,
    pdf_max: int,
    rdflib_limit: float,
    shacl_letters: int,
    rdflib_query_limit: float = 30.0,
    rdflib_max: int | None = None,
    transactional_max: int = 10000,
) -> SizeResult:
    result = SizeResult(n)
    f = result.figures
    folder = work / str(n)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    pdf = n <= pdf_max
    synth = run_measured(
        imrkg(
            "synth",
            str(n),
            "-o",
            str(folder / "corpus"),
            "--seed",
            "1",
            *(["--pdf"] if pdf else []),
        )
    )
    if synth.returncode != 0:
        raise SystemExit(f"bench: imrkg synth {n} failed: {synth.stderr.strip()}")
    f["synth_seconds"] = synth.seconds
    letters = folder / "corpus" / "letters"
    texts = sorted(letters.glob("*.txt"))
    pdfs = sorted(letters.glob("*.pdf"))
    text_dir, pdf_dir = folder / "text", folder / "pdf"
    for target, files in ((text_dir, texts), (pdf_dir, pdfs)):
        target.mkdir()
        for path in files:
            (target / path.name).symlink_to(path)
    if pdfs:
        f["bare_pdf_seconds"] = bare_extraction(pdfs, jobs)
        f["bare_pdf_1core_seconds"] = bare_extraction(pdfs[: max(1, len(pdfs) // 10)], 1) * 10
    env = {**os.environ, "IMRKG_STORE": ""}
    for kind, source in (("text", text_dir), ("pdf", pdf_dir)):
        if kind == "pdf" and not pdfs:
            continue
        store = folder / f"store-{kind}"
        build = run_measured(
            imrkg("build", str(source), "--store", str(store), "--jobs", str(jobs), "--bulk"), env
        )
        f[f"ingest_{kind}_seconds"] = build.seconds
        f[f"ingest_{kind}_peak_rss_mib"] = build.peak_rss_mib
        f[f"ingest_{kind}_peak_pss_mib"] = build.peak_pss_mib
        f[f"ingest_{kind}_exit"] = build.returncode
        f[f"ingest_{kind}_summary"] = build.stdout.strip().splitlines()[-1:] or build.stderr[-300:]
        f[f"store_{kind}_mib"] = du_mib(store)
        f[f"store_{kind}_compacted_mib"] = compacted_mib(store)
        rerun = run_measured(
            imrkg("build", str(source), "--store", str(store), "--jobs", str(jobs)), env
        )
        f[f"rerun_{kind}_seconds"] = rerun.seconds
    if n <= transactional_max:
        # the default build, each batch's letters written in one transaction
        store = folder / "store-transactional"
        build = run_measured(
            imrkg("build", str(text_dir), "--store", str(store), "--jobs", str(jobs)), env
        )
        f["ingest_transactional_seconds"] = build.seconds
        f["ingest_transactional_peak_pss_mib"] = build.peak_pss_mib
        f["ingest_transactional_exit"] = build.returncode
        shutil.rmtree(store)
    store = folder / "store-text"
    f["shacl"] = shacl_comparison(store, min(n, shacl_letters), folder)
    f["queries"] = time_queries_apart(store)
    if rdflib_max is not None and n > rdflib_max:
        # Dumping and parsing this many quads would take far longer than --rdflib-limit
        # (rdflib took 420 s for the 10k store's 10.2M quads here), so it is not started.
        f["rdflib"] = {"queries": {}, "skipped": f"not run above {rdflib_max:,} letters"}
    else:
        f["rdflib"] = rdflib_queries(store, f["queries"], folder, rdflib_limit, rdflib_query_limit)
    return result


# ------------------------------------------------------------------ report


def _machine() -> str:
    kib = int(Path("/proc/meminfo").read_text().split()[1])
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {kib / 1024 / 1024:.1f} GiB memory, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def _memory(figures: dict[str, Any], kind: str) -> str:
    rss = figures.get(f"ingest_{kind}_peak_rss_mib")
    if not rss:
        return "-"
    return f"{figures.get(f'ingest_{kind}_peak_pss_mib', 0):,.0f} ({rss:,.0f})"


def _rate(n: int, seconds: float | None) -> str:
    return f"{n / seconds:,.1f}" if seconds else "-"


def markdown(results: list[SizeResult], jobs: int) -> str:
    lines = [
        "# imr-kg benchmark",
        "",
        f"Machine: {_machine()}; {jobs} worker processes. Written by `bench/bench.py` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "## Ingest",
        "",
        "| letters | bare PDF text (pypdfium2) letters/s | ingest text letters/s (`--bulk`) | ingest PDF letters/s (`--bulk`) | PDF ingest ÷ bare | ingest text, one transaction per batch (default) letters/s | peak memory text / PDF MiB: PSS (RSS summed) | store MiB (text), as built / compacted | rerun (all unchanged) s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        f = r.figures
        bare, pdf = f.get("bare_pdf_seconds"), f.get("ingest_pdf_seconds")
        ratio = f"{pdf / bare:.1f}x" if bare and pdf else "-"
        lines.append(
            f"| {r.n:,} | {_rate(r.n, bare)} | {_rate(r.n, f.get('ingest_text_seconds'))} | "
            f"{_rate(r.n, pdf)} | {ratio} | "
            f"{_rate(r.n, f.get('ingest_transactional_seconds'))} | "
            f"{_memory(f, 'text')} / {_memory(f, 'pdf')} | "
            f"{f.get('store_text_mib', 0):,.0f} / "
            f"{f.get('store_text_compacted_mib', 0):,.0f} | "
            f"{f.get('rerun_text_seconds', 0):.1f} |"
        )
    lines += [
        "",
        "## SHACL validation (the same letters' graphs and shapes)",
        "",
        "| store letters | letters validated | triples | pySHACL s (letters/s) | oxigraph engine s (letters/s) | oxigraph engine as a build runs it, batches of 64 s (letters/s) | of which loading / checks s | Jena SHACL s, validation only (letters/s) | Jena incl. JVM start and parsing s | engines: same results | Jena: same verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        s = r.figures["shacl"]
        jena = s.get("jena_validation_seconds")
        same = (
            "yes"
            if s.get("jena_conforms") == s["pyshacl_conforms"]
            and s.get("jena_violations") == s["pyshacl_violations"]
            else ("-" if "jena_error" in s else "no")
        )
        ours = s.get("oxigraph_seconds")
        batched = s.get("oxigraph_batched_seconds")
        agree = s.get("engines_same_results")
        lines.append(
            f"| {r.n:,} | {s['letters']:,} | {s['triples']:,} | {s['pyshacl_seconds']:.1f} "
            f"({_rate(s['letters'], s['pyshacl_seconds'])}) | "
            + (f"{ours:.1f} ({_rate(s['letters'], ours)})" if ours else "-")
            + " | "
            + (f"{batched:.1f} ({_rate(s['letters'], batched)})" if batched else "-")
            + " | "
            + (
                f"{s['oxigraph_loading_seconds']:.1f} / {s['oxigraph_checking_seconds']:.1f}"
                if "oxigraph_checking_seconds" in s
                else "-"
            )
            + " | "
            + (f"{jena:.1f} ({_rate(s['letters'], jena)})" if jena else s.get("jena_error", "-"))
            + f" | {s.get('jena_total_seconds', 0):.1f} | "
            + ("-" if agree is None else "yes" if agree else "no")
            + f" | {same} |"
        )
    lines += [
        "",
        "## Named queries: median of 5 on the on-disk store (ms), and rdflib in memory",
        "",
    ]
    header = "| query |" + "".join(f" {r.n:,} letters ms | rdflib ms | ratio |" for r in results)
    lines += [header, "| --- |" + " --- | --- | --- |" * len(results)]
    names = sorted(results[0].figures["queries"]) if results else []
    for name in names:
        cells = [f"| {name}{' (lookup)' if name in LOOKUPS else ''} |"]
        for r in results:
            ms = r.figures["queries"][name]["ms"]
            other = r.figures["rdflib"]["queries"].get(name)
            if other:
                bound = "> " if other.get("timed_out") else ""  # a lower bound: rdflib stopped
                ratio = other["ms"] / ms
                shown = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"  # not "0x" below 1
                cells.append(f" {ms:,.1f} | {bound}{other['ms']:,.0f} | {bound}{shown}x |")
            else:
                cells.append(f" {ms:,.1f} | not run | - |")
        lines.append("".join(cells))
    lines.append("")
    for r in results:
        rd = r.figures["rdflib"]
        if "skipped" in rd:
            lines.append(
                f"- {r.n:,} letters: rdflib {rd['skipped']} (--rdflib-max); "
                f"synth {r.figures['synth_seconds']:.0f} s."
            )
            continue
        lines.append(
            f"- {r.n:,} letters: rdflib loaded {rd.get('triples', 0):,} quads in "
            f"{rd.get('load_seconds', 0):.0f} s"
            + ("; stopped at the time limit" if rd.get("stopped") else "")
            + f"; synth {r.figures['synth_seconds']:.0f} s."
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--pdf-max", type=int, default=10000, help="largest N given PDFs too")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rdflib-limit", type=float, default=600.0)
    parser.add_argument(
        "--transactional-max",
        type=int,
        default=10000,
        help="largest N also built without --bulk (one transaction per batch), text only",
    )
    parser.add_argument(
        "--rdflib-max",
        type=int,
        default=None,
        help="largest N whose quads rdflib is asked to load (larger ones are skipped)",
    )
    parser.add_argument(
        "--rdflib-query-limit",
        type=float,
        default=30.0,
        help="seconds one query may run on rdflib; slower ones are reported as lower bounds",
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "imrkg-bench")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--shacl-letters", type=int, default=1000, help="letters validated by both engines"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep today's results for other sizes in the table"
    )
    parser.add_argument("--time-queries", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.time_queries:  # the child process of time_queries_apart
        print(json.dumps(time_queries(args.time_queries)))
        return 0
    stamp = time.strftime("%Y%m%d", time.gmtime())
    results = []
    earlier = args.out / f"{stamp}.json"
    if args.keep and earlier.exists():
        for n, figures in json.loads(earlier.read_text()).items():
            if int(n) not in args.sizes:
                results.append(SizeResult(int(n), figures))
    for n in args.sizes:
        print(f"bench: {n} letters", file=sys.stderr, flush=True)
        result = bench_size(
            n,
            args.work,
            args.jobs,
            args.pdf_max,
            args.rdflib_limit,
            args.shacl_letters,
            args.rdflib_query_limit,
            args.rdflib_max,
            args.transactional_max,
        )
        results.append(result)
        results.sort(key=lambda r: r.n)
        args.out.mkdir(parents=True, exist_ok=True)
        raw = {r.n: dict(r.figures) for r in results}
        for sizes in raw.values():
            for q in sizes["queries"].values():
                if isinstance(q, dict):
                    q.pop("sparql", None)
        (args.out / f"{stamp}.json").write_text(json.dumps(raw, indent=2, default=str))
        (args.out / f"{stamp}.md").write_text(markdown(results, args.jobs))
    print((args.out / f"{stamp}.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
