"""A remote SPARQL server as the store (``--endpoint``), against a real Virtuoso.

The session starts a private Virtuoso (Debian's ``virtuoso-opensource``) in a
temporary folder, on free ports of 127.0.0.1, grants the anonymous ``SPARQL``
user the ``SPARQL_UPDATE`` role so that its Graph Store endpoint takes writes,
and stops it at the end. The sample letters are built into it through the
build, and into a local store beside it: the two must hold the same graphs and
answer every named query alike, but where Virtuoso 7.2's own SPARQL defects
(listed in :data:`VIRTUOSO_DEFECTS`) explain a difference.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import rdflib
from click.testing import CliRunner
from rdflib import Literal, URIRef

from imrkg.aggregates import (
    AGGREGATE_GRAPH,
    is_current,
    letter_graphs,
    read_cells,
    refresh,
    stored_cells,
)
from imrkg.build import BuildSummary, build
from imrkg.cli import main
from imrkg.errors import QueryError
from imrkg.graph import GRAPH
from imrkg.queries import library, run_named, run_sparql
from imrkg.remote import RemoteStore, default_state_dir
from imrkg.results import Answer, Boolean, Solutions, Triples
from imrkg.store import KnowledgeStore, StoreError
from tests.conftest import EXAMPLES

LETTERS = sorted((EXAMPLES / "letters").glob("*.txt"))
CASE = "CM17-0029641"  # the header-lumbar-partial sample
PARAMS = {"case": CASE, "treatment": "physical therapy", "item": "1"}
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}/www
ServerThreads = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 10000
MaxQueryExecutionTime = 60
"""


@dataclass
class Virtuoso:
    """A running private Virtuoso: its SPARQL endpoint, and its SQL port for isql."""

    endpoint: str
    sql_port: int
    folder: Path
    process: subprocess.Popen[bytes]
    ready: bool = False

    def wait(self) -> None:
        """Wait until the endpoint answers (the first time), then let the anonymous SPARQL
        user write through the Graph Store endpoint, as the store's writes need."""
        if self.ready:
            return
        deadline = time.monotonic() + 60
        while not _answers(self.endpoint):
            if self.process.poll() is not None or time.monotonic() > deadline:
                console = (self.folder / "console.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"Virtuoso did not start:\n{console}")
            time.sleep(0.2)
        self.isql('GRANT SPARQL_UPDATE TO "SPARQL";')
        self.ready = True

    def isql(self, statement: str) -> str:
        assert ISQL is not None
        run = subprocess.run(
            [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statement}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0 and "Error" not in run.stdout + run.stderr, run
        return run.stdout


def _answers(url: str) -> bool:
    query = urllib.parse.urlencode({"query": "ASK {}"})
    try:
        with urllib.request.urlopen(f"{url}?{query}", timeout=2) as response:
            response.read()
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:
        exc.close()
        return False
    except OSError:
        return False


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    """A private Virtuoso for the session (skipped, saying why, where it is not installed);
    it starts here, and :meth:`Virtuoso.wait` waits for it, so that it boots while the
    local store is built."""
    if VIRTUOSO is None or ISQL is None:
        pytest.skip(
            "Virtuoso is not installed (virtuoso-t and isql-vt: Debian's virtuoso-opensource-7-bin)"
        )
    folder = tmp_path_factory.mktemp("virtuoso")
    (folder / "www").mkdir()
    sql_port, http_port = _free_port(), _free_port()
    while http_port == sql_port:
        http_port = _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_INI.format(folder=folder, sql_port=sql_port, http_port=http_port))
    endpoint = f"http://127.0.0.1:{http_port}/sparql"
    with (folder / "console.log").open("wb") as log:
        process = subprocess.Popen(
            [VIRTUOSO, "+foreground", "+configfile", str(ini)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield Virtuoso(endpoint, sql_port, folder, process)
    finally:
        process.terminate()  # Virtuoso checkpoints and stops on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def state_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's remote stores keep their quarantine reports (never the user's
    own ~/.local/state)."""
    return tmp_path_factory.mktemp("state")


@dataclass
class Built:
    """The sample letters built into the Virtuoso and into a local store."""

    remote: RemoteStore
    local: KnowledgeStore
    summary: BuildSummary
    seconds: float


@pytest.fixture(scope="session")
def built(virtuoso: Virtuoso, state_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The samples built both ways once per session: building is the slow part, and the
    tests after it read more than they write (those that write put things back)."""
    local = KnowledgeStore(tmp_path_factory.mktemp("local") / "store")
    build(LETTERS, local, jobs=1)
    refresh(local)
    virtuoso.wait()
    remote = RemoteStore(virtuoso.endpoint, state_dir=state_home / "endpoint", timeout=30)
    start = time.perf_counter()
    summary = build(LETTERS, remote, jobs=1)
    seconds = time.perf_counter() - start
    # The aggregate queries read precomputed cells, which are counted where the letters
    # are read (a local Oxigraph), not by the server: the same cells go to both stores.
    remote.replace_graph(local.graph(AGGREGATE_GRAPH))
    return Built(remote, local, summary, seconds)


def _value(term: object) -> object:
    """A value as the two stores may both write it: numbers as numbers (Virtuoso writes
    booleans as 1 and 0), the rest as text."""
    if isinstance(term, Literal):
        value = term.toPython()
        if isinstance(value, bool | int | float | Decimal):
            return round(float(value), 6)
        return str(term)
    return None if term is None else str(term)


def _rows(answer: Answer) -> object:
    """An answer's rows as a sorted list of comparable values (ordering aside)."""
    if isinstance(answer, Boolean):
        return answer.value
    if isinstance(answer, Triples):
        return sorted(tuple(str(t) for t in triple) for triple in answer.graph)
    return sorted((tuple(_value(t) for t in row) for row in answer.rows), key=repr)


def _graph_sizes(store: KnowledgeStore | RemoteStore) -> dict[str, int]:
    """The triples in each of imr-kg's graphs."""
    answer = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(answer, Solutions)
    return {str(g): int(str(n)) for g, n in answer.rows if str(g).startswith(GRAPH)}


# ----------------------------------------------------------------- the store


def test_the_build_fills_the_server_as_it_fills_a_local_store(built: Built) -> None:
    remote, local = built.remote, built.local
    assert built.summary.loaded == len(LETTERS) and not built.summary.failed
    assert letter_graphs(remote) == letter_graphs(local)
    assert len(remote.letter_graphs()) == len(LETTERS)
    assert _graph_sizes(remote) == _graph_sizes(local)
    assert remote.triple_count() == local.triple_count()
    assert remote.letter_digests() == local.letter_digests()
    assert len(remote.letter_digests()) == len(LETTERS)
    # how fast letters go to the server, the build's own work aside
    graphs = [local.graph(iri) for iri in remote.letter_graphs()]
    start = time.perf_counter()
    for graph in graphs:
        remote.replace_graph(graph)
    seconds = time.perf_counter() - start
    print(
        f"\nbuild into Virtuoso: {built.seconds:.1f} s for {len(LETTERS)} letters;"
        f" writing their graphs alone: {len(graphs) / seconds:.0f} letters/s"
        f" ({sum(len(g) for g in graphs) / seconds:.0f} triples/s)"
    )
    assert _graph_sizes(remote) == _graph_sizes(local)


# Virtuoso 7.2's departures from SPARQL 1.1 that the named queries can run into. A named
# query whose answers differ is blamed on them only if its text has the construct; the
# portable way to write each is in the reason.
VIRTUOSO_DEFECTS = {
    re.compile(r"ROUND\(\s*\d+\s*\*"): (
        "an integer divided by an integer is an integer, not a decimal"
        " (openlink/virtuoso-opensource#475): write ROUND(1000.0 * ...)"
    ),
    re.compile(r"!BOUND\(\?_\w+\)\s*\|\|.*EXISTS\s*\{[^}\n]*\*"): (
        "FILTER (!BOUND(?_p) || ... EXISTS { ... skos:broader* ?_p }) keeps no row when ?_p"
        " is bound (and wrong rows when not) if the group also binds (BIND) or is a cell"
        " pattern: move the filter into a subquery with no BIND"
    ),
    re.compile(r"IF\([^\n]*\?none\)"): (
        "IF(condition, ?x, ?unbound) in a BIND drops or hangs rows:"
        " write OPTIONAL { ?item imr:outcome outcome:upheld . BIND (?item AS ?upheld_item) }"
    ),
    re.compile(r"BIND \(REGEX\("): (
        "REGEX(...) in a BIND is 0 whatever it matches: write CONTAINS(...) || CONTAINS(...)"
    ),
    re.compile(r"FILTER \(\?\w+ < \?\w+\)"): (
        "< between two computed strings compares them inconsistently"
    ),
}


def _variants() -> Iterator[tuple[str, bool]]:
    for name, query in sorted(library().items()):
        yield name, True
        if any(not p.required and p.name in PARAMS for p in query.parameters):
            yield name, False


@pytest.mark.parametrize(
    ("name", "optional"),
    [
        pytest.param(name, optional, id=name if optional else f"{name}-without-options")
        for name, optional in _variants()
    ],
)
def test_every_named_query_answers_alike(built: Built, name: str, optional: bool) -> None:
    query = library()[name]
    params = {
        p.name: PARAMS[p.name]
        for p in query.parameters
        if p.name in PARAMS and (optional or p.required)
    }
    defects = [reason for pattern, reason in VIRTUOSO_DEFECTS.items() if pattern.search(query.text)]
    here = run_named(built.local, name, params)
    try:
        there = run_named(built.remote, name, params)  # type: ignore[arg-type]
    except StoreError as exc:
        if defects:
            pytest.xfail(f"Virtuoso 7.2 failed ({exc}); {'; '.join(defects)}")
        raise
    assert type(there) is type(here)
    if isinstance(here, Solutions):
        assert isinstance(there, Solutions)
        assert there.variables == here.variables
        assert here.rows, f"{name} has no rows on the samples: the comparison says nothing"
    if _rows(there) != _rows(here) and defects:
        pytest.xfail(f"Virtuoso 7.2 answers differently: {'; '.join(defects)}")
    assert _rows(there) == _rows(here)


def test_the_listed_dataset_gives_the_same_answers(built: Built, state_home: Path) -> None:
    """union="listed" names imr-kg's graphs in every query, for a server whose default graph
    is not the union of its graphs (Fuseki without unionDefaultGraph)."""
    listed = RemoteStore(built.remote.url, union="listed", state_dir=state_home / "listed")
    for name in ("case", "similar-cases", "partial-authorizations"):
        params = {p.name: PARAMS[p.name] for p in library()[name].parameters if p.required}
        here = run_named(built.local, name, params)
        there = run_named(listed, name, params)  # type: ignore[arg-type]
        assert _rows(there) == _rows(here), name
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert listed.count(count) == built.local.count(count)  # no Virtuoso system graphs


def test_building_again_skips_the_letters_it_holds_and_force_replaces_them(
    built: Built,
) -> None:
    remote, local = built.remote, built.local
    sizes = _graph_sizes(remote)
    again = build(LETTERS, remote, jobs=1)
    assert again.unchanged == len(LETTERS) and again.loaded == 0
    forced = build(LETTERS[:3], remote, jobs=1, force=True)
    assert forced.loaded == 3 and not forced.failed
    assert _graph_sizes(remote) == sizes == _graph_sizes(local)
    assert remote.letter_digests() == local.letter_digests()


def _cell_totals(store: KnowledgeStore | RemoteStore) -> set[tuple[str, ...]]:
    """Per aggregate and measure, the cells and the sum of their counts."""
    answer = store.query(
        "PREFIX imr: <https://w3id.org/imr-kg/ontology#>\n"
        "SELECT ?aggregate ?measure (COUNT(?cell) AS ?cells) (SUM(?n) AS ?total) WHERE {"
        f" GRAPH <{AGGREGATE_GRAPH}> {{ ?cell imr:slice/imr:aggregate ?aggregate ; ?measure ?n"
        " FILTER (?measure IN (imr:letterCount, imr:itemCount, imr:upheldCount,"
        " imr:overturnedCount)) } } GROUP BY ?aggregate ?measure"
    )
    assert isinstance(answer, Solutions) and len(answer.rows) > 10
    return {tuple(str(term) for term in row) for row in answer.rows}


def test_a_recount_on_the_server_counts_what_the_local_store_counts(built: Built) -> None:
    """refresh on a server fetches its letters and counts them on Oxigraph (regression:
    run on Virtuoso, the cell queries failed, "Function year needs a datetime", or
    miscounted co-diagnoses' pairs)."""
    remote, local = built.remote, built.local
    assert stored_cells(remote, letter_graphs(remote)) == read_cells(local)
    refresh(remote)
    assert _cell_totals(remote) == _cell_totals(local)
    assert _graph_sizes(remote)[AGGREGATE_GRAPH] == _graph_sizes(local)[AGGREGATE_GRAPH]
    with pytest.raises(StoreError, match="row cap"):
        read_cells(remote)  # more cells than Debian's Virtuoso lets through: not cut silently
    assert is_current(remote)


def test_a_graph_is_removed_whole(built: Built) -> None:
    remote = built.remote
    letter = remote.letter_graphs()[0]
    copy = rdflib.Graph(identifier=URIRef(GRAPH + "test-copy"))
    for triple in remote.graph(letter):
        copy.add(triple)
    try:
        assert remote.replace_graph(copy) == len(copy) > 0
        assert remote.has_graph(str(copy.identifier))
        assert str(copy.identifier) in remote.letter_graphs()
        assert len(remote.graph(str(copy.identifier))) == len(copy)
    finally:
        remote.remove_graph(str(copy.identifier))
    assert not remote.has_graph(str(copy.identifier))
    assert str(copy.identifier) not in remote.letter_graphs()
    remote.remove_graph(str(copy.identifier))  # removing what is not there is no error


def test_the_quarantine_report_is_a_local_file(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry: dict[str, Any] = {
        "graph": GRAPH + "x",
        "source": "x.txt",
        "digests": ["ab"],
        "violations": ["v"],
    }
    store = RemoteStore(built.remote.url, state_dir=tmp_path / "state")
    assert store.read_quarantine() == {}
    store.write_quarantine({entry["graph"]: entry})
    assert store.read_quarantine() == {entry["graph"]: entry}
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["quarantine.jsonl"]
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    default = RemoteStore("http://127.0.0.1:8890/sparql").state_dir
    assert default == tmp_path / "xdg" / "imr-kg" / "endpoints" / "127.0.0.1_8890_sparql"
    assert default == default_state_dir("http://127.0.0.1:8890/sparql")


# ----------------------------------------------------------------- errors


def _closed_port() -> int:
    """A port that nothing listens on: free a moment ago, so a connection is refused."""
    return _free_port()


def test_an_unreachable_endpoint_is_one_line_naming_it() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/sparql"
    store = RemoteStore(url, state_dir=Path("/nonexistent"))
    for call in (store.letter_graphs, store.triple_count, lambda: store.query("ASK {}")):
        with pytest.raises(StoreError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(url) and "connection refused" in message, message
        assert "\n" not in message


def test_server_refusals_are_one_line_with_the_servers_reason(built: Built) -> None:
    with pytest.raises(QueryError) as caught:
        built.remote.query("SELEC ?s WHERE { ?s ?p ?o }")
    message = str(caught.value)
    assert message.startswith(built.remote.url) and "SP030" in message and "\n" not in message
    wrong = built.remote.url.replace("/sparql", "/no-such-service")
    with pytest.raises(StoreError, match=r"HTTP 404") as refused:
        RemoteStore(wrong, state_dir=Path("/nonexistent")).query("ASK {}")
    assert str(refused.value).startswith(wrong) and "\n" not in str(refused.value)
    with pytest.raises(StoreError, match=r"not an http\(s\) URL"):
        RemoteStore("ftp://example.org/sparql")


def test_updates_are_refused_and_a_read_only_store_writes_nothing(built: Built) -> None:
    update = f"INSERT DATA {{ GRAPH <{GRAPH}evil> {{ <urn:a> <urn:b> <urn:c> }} }}"
    with pytest.raises(QueryError, match="Update"):
        built.remote.query(update)
    with pytest.raises(QueryError, match="Update"):
        run_sparql(built.remote, update)  # type: ignore[arg-type]
    reader = RemoteStore(built.remote.url, read_only=True, state_dir=Path("/nonexistent"))
    with pytest.raises(StoreError, match="read-only"):
        reader.remove_graph(built.remote.letter_graphs()[0])
    assert not built.remote.has_graph(f"{GRAPH}evil")


def test_credentials_reach_virtuosos_authenticated_graph_store(built: Built) -> None:
    """With credentials the store writes through /sparql-graph-crud-auth (HTTP Digest)."""
    graph = rdflib.Graph(identifier=URIRef(GRAPH + "test-auth"))
    graph.add((URIRef("urn:a"), URIRef("urn:b"), Literal("c")))
    url = built.remote.url.replace("http://", "http://dba:dba@")
    store = RemoteStore(url, state_dir=Path("/nonexistent"))
    assert store.url == built.remote.url  # the password stays out of messages
    store.replace_graph(graph)
    assert built.remote.has_graph(str(graph.identifier))
    store.remove_graph(str(graph.identifier))
    assert not built.remote.has_graph(str(graph.identifier))
    wrong = RemoteStore(built.remote.url, user="dba", password="wrong", state_dir=Path("/x"))
    with pytest.raises(StoreError, match="HTTP 401") as caught:
        wrong.replace_graph(graph)
    assert "wrong" not in str(caught.value) and "\n" not in str(caught.value)


# ----------------------------------------------------------------- the command line


def _cli(*args: str) -> tuple[int, str, str]:
    """Run the command line in-process: its exit code, standard output and error."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_query_and_sparql_commands_take_an_endpoint(built: Built) -> None:
    url = built.remote.url
    code, out, err = _cli("query", "case", "-p", f"case={CASE}", "--endpoint", url)
    assert code == 0, err
    assert "decision date" in out and "rows" in err
    code, out, err = _cli(
        "sparql",
        "PREFIX imr: <https://w3id.org/imr-kg/ontology#>"
        " SELECT (COUNT(?l) AS ?letters) WHERE { ?l a imr:DeterminationLetter }",
        "--endpoint",
        url,
        "--format",
        "json",
    )
    assert code == 0, err
    answer = json.loads(out)
    assert answer["results"]["bindings"][0]["letters"]["value"] == str(len(LETTERS))
    code, _, err = _cli(
        "sparql",
        f"INSERT DATA {{ GRAPH <{GRAPH}evil> {{ <urn:a> <urn:b> 1 }} }}",
        "--endpoint",
        url,
    )
    assert code == 2 and "Update is not accepted" in err
    code, _, err = _cli(
        "sparql",
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "--endpoint",
        url,
    )
    assert code == 2 and "SERVICE is not accepted" in err
    assert not built.remote.has_graph(f"{GRAPH}evil")
    code, _, err = _cli("query", "case", "-p", "case=CM99-0000001", "--endpoint", url)
    assert code == 2 and f"no letter CM99-0000001 in the store ({url})" in err


def test_commands_name_an_unreachable_endpoint_and_refuse_two_stores(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/sparql"
    for args in (
        ("query", "outcomes-by-year", "--endpoint", url),
        ("sparql", "ASK {}", "--endpoint", url),
    ):
        code, _, err = _cli(*args)
        assert code == 2, err
        assert err.startswith(f"imrkg: error: {url}") and "connection refused" in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    code, _, err = _cli("sparql", "ASK {}", "--endpoint", url, "--store", str(tmp_path))
    assert code == 2 and "--store and --endpoint" in err


def test_build_command_fills_an_endpoint(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last: it builds the letters' PDFs too, whose graphs replace the text versions'."""
    url = built.remote.url
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    code, out, err = _cli("build", str(EXAMPLES / "letters"), "--endpoint", url, "-j", "1")
    assert code == 0, err
    assert out.startswith("imrkg build: 20 letters read:") and f"({url})" in out
    assert "0 failed" in out and "Traceback" not in err
    assert (tmp_path / "state" / "imr-kg" / "endpoints").is_dir()  # the quarantine report's home
    assert len(built.remote.letter_graphs()) == len(LETTERS)
