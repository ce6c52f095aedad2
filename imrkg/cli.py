"""The ``imrkg`` command line.

Thin by design: each command parses its options, calls the library and
reports. Errors are one line on stderr naming the file and the reason; exit
status 0 means every input succeeded, 1 that some input failed, 2 a usage
error.
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import click

from imrkg import __version__
from imrkg.errors import ImrKgError, LetterError

if TYPE_CHECKING:
    from imrkg.store import KnowledgeStore
    from imrkg.validate import Engine

LETTER_SUFFIXES = (".pdf", ".txt", ".text")


def letter_paths(paths: tuple[str, ...]) -> Iterator[Path]:
    """Every letter named: files as given, folders searched recursively for .pdf and .txt files."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LETTER_SUFFIXES
            )
            if not found:
                raise LetterError(path, "folder holds no .pdf or .txt letters")
            yield from found
        else:
            yield path


def _progress(items: list[Path], label: str) -> Iterator[Path]:
    """Iterate with a progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty() or len(items) < 2:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc=label, unit="letter", file=sys.stderr, leave=False)


def _error(message: str) -> None:
    click.echo(f"imrkg: error: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="imrkg")
def main() -> None:
    """imr-kg: a knowledge graph of California workers' compensation IMR determination letters."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the records to FILE (JSON Lines) instead of standard output.",
)
@click.option(
    "--no-text", is_flag=True, help="Leave each letter's normalized text out of its record."
)
def extract(paths: tuple[str, ...], output: Path | None, no_text: bool) -> None:
    """Extract one letter record (JSON Lines) from each letter in PATHS (files or folders)."""
    from imrkg.loader.extract import extract_letter
    from imrkg.record import record_to_json

    failed = 0
    letters: list[Path] = []
    for raw in paths:
        try:
            letters.extend(letter_paths((raw,)))
        except LetterError as exc:
            _error(str(exc))
            failed += 1
    sink: IO[str]
    temp_name: str | None = None
    if output is None:
        sink = sys.stdout
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        # written beside the target and renamed over it at the end, so that a failed
        # run never leaves half a file behind
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w", encoding="utf-8", dir=output.parent, prefix=f".{output.name}.", delete=False
        )
        sink, temp_name = handle, handle.name
    extracted = 0
    try:
        for path in _progress(letters, "extract"):
            try:
                record = extract_letter(path)
            except ImrKgError as exc:
                _error(str(exc))
                failed += 1
                continue
            except Exception as exc:  # a bug must not cost the other letters
                _error(f"{path}: internal error ({type(exc).__name__}: {exc})")
                failed += 1
                continue
            data = record_to_json(record)
            if no_text:
                data.pop("text", None)
            sink.write(json.dumps(data, ensure_ascii=False) + "\n")
            extracted += 1
        if temp_name is not None:
            sink.close()
            Path(temp_name).replace(output)  # type: ignore[arg-type]
            temp_name = None
    finally:
        if temp_name is not None:
            sink.close()
            Path(temp_name).unlink(missing_ok=True)
    summary = f"imrkg extract: {extracted + failed} letters: {extracted} extracted, {failed} failed"
    click.echo(summary, err=output is None)
    sys.exit(1 if failed else 0)


def _store_option(command: Any) -> Any:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The store folder (default: $IMRKG_STORE, else ~/.local/share/imr-kg/store).",
    )(command)


def _endpoint_option(command: Any) -> Any:
    return click.option(
        "--endpoint",
        metavar="URL",
        default=None,
        help="A SPARQL 1.1 endpoint (Virtuoso, Fuseki, GraphDB, Neptune) to use as the store,"
        " instead of a store folder; credentials from $IMRKG_ENDPOINT_USER and"
        " $IMRKG_ENDPOINT_PASSWORD.",
    )(command)


def _open_store(
    store_path: Path | None, endpoint: str | None, *, read_only: bool
) -> KnowledgeStore:
    """The store a command works on: the folder (--store, else the default one) or, with
    --endpoint, a SPARQL server (see imrkg.remote), never both."""
    if endpoint is not None:
        if store_path is not None:
            raise click.UsageError("--store and --endpoint name two stores: give one of them")
        from imrkg.remote import RemoteStore

        # Typed as the local store, whose methods the commands call and it has, until the
        # query library takes a protocol that both stores meet.
        return cast("KnowledgeStore", RemoteStore.from_environment(endpoint, read_only=read_only))
    from imrkg.store import KnowledgeStore, default_store_path

    return KnowledgeStore(store_path or default_store_path(), read_only=read_only)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@_store_option
@_endpoint_option
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes extracting letters (default: one per core).",
)
@click.option(
    "--force", is_flag=True, help="Read every file again, even those the store already holds."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Letters validated together and written to the store in one transaction.",
)
@click.option(
    "--bulk",
    is_flag=True,
    help="Write letters with Oxigraph's bulk loader: faster (10,000 letters here: 405 s "
    "instead of 531 s, less memory), but a reader "
    "during the build may see a batch in part or fail to open the store, and a build "
    "stopped part-way leaves letters in part, which the next build removes. For a first "
    "load of a large corpus; the local store only.",
)
def build(
    paths: tuple[str, ...],
    store_path: Path | None,
    endpoint: str | None,
    jobs: int | None,
    force: bool,
    batch_size: int,
    bulk: bool,
) -> None:
    """Extract, map, validate and load the letters in PATHS into the store.

    A letter whose graph violates a shape is quarantined (listed with the
    shapes' messages in the store's quarantine.jsonl), not loaded. A file the
    store already holds (same bytes) is skipped, so a stopped build resumes
    where it stopped; a changed letter replaces its earlier graph.
    """
    import os

    from imrkg.build import build as build_store

    letters: list[Path] = []
    unreadable = 0
    for raw in paths:
        try:
            letters.extend(letter_paths((raw,)))
        except LetterError as exc:
            _error(str(exc))
            unreadable += 1
    try:
        store = _open_store(store_path, endpoint, read_only=False)
        summary = build_store(
            letters,
            store,
            on_error=_error,
            progress=lambda items: _progress(items, "build"),
            jobs=jobs or os.cpu_count() or 1,
            force=force,
            batch_size=batch_size,
            bulk=bulk,
        )
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)
    summary.read += unreadable
    summary.failed += unreadable
    for line in summary.quarantine:
        _error(f"quarantined: {line}")
    click.echo(f"imrkg build: {summary.line()} ({store.path})")
    sys.exit(1 if summary.failed or summary.quarantined else 0)


def _short(iri: str | None) -> str:
    from rdflib import URIRef

    from imrkg.results import short

    return short(URIRef(iri)) if iri is not None else ""


@main.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "turtle", "json"]),
    default="table",
    show_default=True,
    help="A readable table of violations, or the SHACL report as Turtle or JSON.",
)
@click.option(
    "--engine",
    type=click.Choice(["oxigraph", "pyshacl"]),
    default="oxigraph",
    show_default=True,
    help="The shapes compiled to SPARQL on Oxigraph, or pySHACL; the results are the same.",
)
def validate_command(
    files: tuple[Path, ...], store_path: Path | None, fmt: str, engine: Engine
) -> None:
    """Check the store's letters (or RDF FILES) against the shapes.

    Exit status: 0 conforms, 1 violations, 2 error.
    """
    import rdflib

    from imrkg.store import KnowledgeStore, default_store_path
    from imrkg.validate import validate, validate_letters

    try:
        if files:
            dataset = rdflib.Dataset()
            for path in files:
                try:
                    dataset.parse(path)
                except Exception as exc:  # rdflib raises many types for bad input
                    raise ImrKgError(
                        f"{path}: not readable RDF ({' '.join(str(exc).split())[:200]})"
                    ) from None
            reports = [validate(dataset, engine=engine)]
        else:
            store = KnowledgeStore(store_path or default_store_path(), read_only=True)
            graphs = store.letter_graphs()
            reports = []
            for start in range(0, len(graphs), 64):
                batch = [store.graph(iri) for iri in graphs[start : start + 64]]
                reports.extend(validate_letters(batch, engine=engine).values())
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)
    results = sorted(
        {r for report in reports for r in report.results}, key=lambda r: (r.letter or "", r.focus)
    )
    conforms = all(report.conforms for report in reports)
    if fmt == "json":
        click.echo(
            json.dumps({"conforms": conforms, "results": [r.__dict__ for r in results]}, indent=2)
        )
    elif fmt == "turtle":
        merged = rdflib.Graph()
        for report in reports:
            merged += report.graph
        click.echo(merged.serialize(format="turtle"))
    else:
        rows = [
            (r.letter or "", _short(r.focus), _short(r.path), f"{r.severity}: {r.message}")
            for r in results
        ]
        if rows:
            widths = [
                max(len(row[i]) for row in [("letter", "focus node", "path", "message"), *rows])
                for i in range(3)
            ]
            for row in [("letter", "focus node", "path", "message"), *rows]:
                click.echo(
                    "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3]))
                    + "  "
                    + row[3]
                )
        letters = {r.letter for r in results if r.severity == "Violation"}
        click.echo(
            f"imrkg validate: {'conforms' if conforms else 'does not conform'}; "
            f"{sum(r.severity == 'Violation' for r in results)} violations in {len(letters)} letters, "
            f"{sum(r.severity != 'Violation' for r in results)} warnings",
            err=not conforms,
        )
    sys.exit(0 if conforms else 1)


@main.command("export")
@_store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["turtle", "trig", "nquads", "ntriples", "jsonld"]),
    default="trig",
    show_default=True,
    help="The RDF format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE, not standard output.",
)
@click.option("--case", "cases", multiple=True, help="Only this case's letter (repeatable).")
@click.option("--with-vocabulary", is_flag=True, help="Add the ontology and vocabulary graphs.")
def export_command(
    store_path: Path | None,
    fmt: str,
    output: Path | None,
    cases: tuple[str, ...],
    with_vocabulary: bool,
) -> None:
    """Export the store's letters (all, or --case) in an RDF format."""
    from imrkg.export import export, select_graphs
    from imrkg.store import KnowledgeStore, default_store_path

    try:
        store = KnowledgeStore(store_path or default_store_path(), read_only=True)
        graphs = select_graphs(store, cases, with_vocabulary)
        if output is None:
            count = export(store, fmt, sys.stdout.buffer, graphs)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=output.parent, prefix=f".{output.name}.", delete=False
            ) as out:
                count = export(store, fmt, out, graphs)
            Path(out.name).replace(output)
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)
    click.echo(f"imrkg export: {len(graphs)} graphs, {count} quads as {fmt}", err=output is None)


_ANSWER_FORMATS = ["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "jsonld"]


def _format_option(command: Any) -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(_ANSWER_FORMATS),
        default=None,
        help="For tables: table (default), csv, tsv, json, xml (the SPARQL 1.1 result formats);"
        " for graphs: turtle (default), ntriples, jsonld.",
    )(command)


def _output_option(command: Any) -> Any:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to FILE, not standard output.",
    )(command)


def _emit(answer: Any, fmt: str | None, output: Path | None, label: str) -> None:
    """Write an answer to stdout or, whole or not at all, to a file; report its size on stderr."""
    from imrkg.results import Solutions, Triples, write

    chosen = fmt or ("turtle" if isinstance(answer, Triples) else "table")
    data = write(answer, chosen)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=output.parent, prefix=f".{output.name}.", delete=False
        ) as out:
            out.write(data)
        Path(out.name).replace(output)
    if isinstance(answer, Solutions):
        size = f"{len(answer.rows)} rows" + (" (cut at the row cap)" if answer.truncated else "")
    elif isinstance(answer, Triples):
        size = f"{len(answer.graph)} triples"
    else:
        size = "yes" if answer.value else "no"
    click.echo(f"imrkg {label}: {size}", err=True)


def _param_option(command: Any) -> Any:
    return click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="NAME=VALUE",
        help="A parameter (repeatable), e.g. -p treatment=acupuncture or -p case=CM16-0213037.",
    )(command)


def _parse_params(params: tuple[str, ...]) -> dict[str, str]:
    from imrkg.errors import QueryError

    values: dict[str, str] = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise QueryError(f"--param {item!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


@main.command("query")
@click.argument("name", required=False)
@_param_option
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and exit.")
@click.option("--describe", is_flag=True, help="Show what the query answers and its parameters.")
@_format_option
@_output_option
@_store_option
@_endpoint_option
def query_command(
    name: str | None,
    params: tuple[str, ...],
    list_queries: bool,
    describe: bool,
    fmt: str | None,
    output: Path | None,
    store_path: Path | None,
    endpoint: str | None,
) -> None:
    """Run the named query NAME of the library (queries/*.rq) on the store.

    Exit status: 0 answered, 2 an unknown query, a bad parameter or no store.
    """
    from imrkg.queries import library, named_query, run_named

    try:
        if list_queries:
            queries = library()
            width = max(len(q) for q in queries)
            for query in queries.values():
                click.echo(f"{query.name.ljust(width)}  {query.summary}")
                for p in query.parameters:
                    default = (
                        f" = {p.default}" if p.default else "" if p.required else " (optional)"
                    )
                    click.echo(f"{'':{width}}    --param {p.name}=<{p.type}>{default}")
            return
        if name is None:
            raise click.UsageError("name a query, or use --list")
        query = named_query(name)
        if describe:
            click.echo(f"{query.name}: {query.summary}\n\n{query.description}\n")
            for p in query.parameters:
                need = (
                    "required"
                    if p.required
                    else f"default {p.default}"
                    if p.default
                    else "optional"
                )
                click.echo(f"  {p.name} ({p.type}, {need}): {p.description}")
            return
        values = _parse_params(params)
        store = _open_store(store_path, endpoint, read_only=True)
        answer = run_named(store, query.name, values)
        _emit(answer, fmt, output, f"query {query.name}")
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)


@main.command("sparql")
@click.argument("query")
@_format_option
@_output_option
@_store_option
@_endpoint_option
def sparql_command(
    query: str, fmt: str | None, output: Path | None, store_path: Path | None, endpoint: str | None
) -> None:
    """Run an ad-hoc SPARQL query on the store: QUERY is the query text, a .rq file, or - for stdin.

    The default graph is the union of all graphs (letters, ontology,
    vocabularies). Updates are refused. Exit status: 0 answered, 2 error.
    """
    from imrkg.queries import run_sparql

    try:
        if query == "-":
            text = sys.stdin.read()
        elif query.endswith(".rq") or (len(query) < 4096 and Path(query).is_file()):
            path = Path(query)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ImrKgError(
                    f"{path}: cannot read the query ({exc.__class__.__name__})"
                ) from None
        else:
            text = query
        store = _open_store(store_path, endpoint, read_only=True)
        answer = run_sparql(store, text)
        _emit(answer, fmt, output, "sparql")
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)


@main.command("serve")
@_store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="0: any free port.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a query may run before it is stopped (answered 503).",
)
@click.option(
    "--row-cap",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="The most rows (or triples) an answer carries; a cut answer says so.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Query worker processes.",
)
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def serve_command(
    store_path: Path | None,
    host: str,
    port: int,
    timeout: float,
    row_cap: int,
    workers: int,
    quiet: bool,
) -> None:
    """Serve the store read-only: SPARQL 1.1 Protocol at /sparql, named queries at
    /queries/NAME, and a page at / to run them in a browser. Stop with Ctrl-C."""
    from imrkg.serve import QueryService, make_server
    from imrkg.store import KnowledgeStore, default_store_path

    path = store_path or default_store_path()
    try:
        KnowledgeStore(path, read_only=True)  # fail early, with the reason, if there is no store
        service = QueryService(path, timeout=timeout, row_cap=row_cap, workers=workers)
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)
    try:
        server = make_server(service, host, port, quiet=quiet)
    except OSError as exc:
        service.close()
        _error(f"cannot listen on {host}:{port} ({exc.strerror or exc})")
        sys.exit(2)
    bound_host, bound_port = (str(part) for part in server.server_address[:2])
    click.echo(
        f"imrkg serve: {path} at http://{bound_host}:{bound_port}/ "
        f"(SPARQL at /sparql; timeout {timeout:g} s, row cap {row_cap})",
        err=True,
    )
    # a plain kill stops the server as Ctrl-C does, so that its query workers stop with it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        service.close()


@main.command("plot")
@click.argument("name", required=False)
@_param_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .png, .svg, .pdf, or .html (an interactive page) for networks.",
)
@click.option("--list", "list_plots", is_flag=True, help="List the plots and exit.")
@_store_option
def plot_command(
    name: str | None,
    params: tuple[str, ...],
    output: Path | None,
    list_plots: bool,
    store_path: Path | None,
) -> None:
    """Draw the chart NAME from the store to a file (the notebooks' charts).

    Exit status: 0 drawn, 2 an unknown plot, a bad parameter or no store.
    """
    from imrkg.store import KnowledgeStore, default_store_path
    from imrkg.viz import PLOTS, plot

    try:
        if list_plots:
            width = max(len(p) for p in PLOTS)
            for chart in PLOTS.values():
                click.echo(f"{chart.name.ljust(width)}  {chart.summary}")
                for p, required in chart.parameters.items():
                    click.echo(
                        f"{'':{width}}    --param {p}=...{'' if required else ' (optional)'}"
                    )
            return
        if name is None or output is None:
            raise click.UsageError("name a plot and its file (-o FILE.png), or use --list")
        values = _parse_params(params)
        store = KnowledgeStore(store_path or default_store_path(), read_only=True)
        written = plot(store, name, values, output)
        click.echo(f"imrkg plot {name}: {written}", err=True)
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)


# unknown options are taken as N, so that "synth -4" is a bad N, not a missing option
@main.command("synth", context_settings={"ignore_unknown_options": True})
@click.argument("count", metavar="N")
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The folder to write: DIR/letters/*.txt (and .pdf) and DIR/expected.jsonl.",
)
@click.option(
    "--seed",
    default="0",
    show_default=True,
    metavar="INTEGER",
    help="The same seed gives the same files.",
)
@click.option("--pdf", is_flag=True, help="Also render every letter to PDF (slower).")
def synth_command(count: str, out: Path, seed: str, pdf: bool) -> None:
    """Write N synthetic IMR letters, in all four layouts, with the records they must
    extract to (DIR/expected.jsonl, gold for any number of letters).

    Exit status: 0 written, 2 a bad N or seed, or an output folder that already holds letters.
    """
    from imrkg.synth import synth_corpus

    try:
        n = int(count)
    except ValueError:
        _error(f"N must be a whole number, not {count!r}")
        sys.exit(2)
    try:
        seed_value = int(seed)
    except ValueError:
        _error(f"--seed must be a whole number, not {seed!r}")
        sys.exit(2)
    bar: Any = None
    if sys.stderr.isatty() and n > 1:
        from tqdm import tqdm

        bar = tqdm(total=n, desc="synth", unit="letter", file=sys.stderr, leave=False)
    try:
        summary = synth_corpus(
            n, out, seed=seed_value, pdf=pdf, on_letter=bar.update if bar is not None else None
        )
    except ImrKgError as exc:
        _error(str(exc))
        sys.exit(2)
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"imrkg synth: {summary.line()} ({summary.expected})")
