"""Shared fixtures: the repository's sample letters and the real corpus beside the checkout."""

from __future__ import annotations

import contextlib
import json
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib

from imrkg.loader.extract import extract_letter
from imrkg.record import LetterRecord

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
CASES = Path(__file__).resolve().parent / "cases"

SAMPLE_NAMES = sorted(p.stem for p in (EXAMPLES / "expected").glob("*.json"))


def expected(name: str) -> dict[str, Any]:
    """The hand-written expectation of a sample letter."""
    return json.loads((EXAMPLES / "expected" / f"{name}.json").read_text(encoding="utf-8"))


_RECORDS: dict[Path, LetterRecord] = {}


def sample_record(name: str, suffix: str) -> LetterRecord:
    """The record of a sample letter (.txt or .pdf), extracted once per test session."""
    path = EXAMPLES / "letters" / f"{name}.{suffix}"
    if path not in _RECORDS:
        _RECORDS[path] = extract_letter(path)
    return _RECORDS[path]


requires_shared = pytest.mark.skipif(
    not (SHARED / "corpus").is_dir(),
    reason=f"the real-letter corpus is not here ({SHARED / 'corpus'} is absent)",
)


def parse_rdf(fmt: str, data: bytes) -> rdflib.Dataset:
    """Read RDF written by imr-kg back with rdflib (whose JSON-LD reader trips over its own
    deprecations); formats without named graphs land in the default graph."""
    dataset = rdflib.Dataset()
    rdflib_format = {
        "turtle": "turtle",
        "trig": "trig",
        "nquads": "nquads",
        "ntriples": "nt",
        "jsonld": "json-ld",
    }[fmt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if fmt in ("turtle", "ntriples"):
            dataset.default_graph.parse(data=data, format=rdflib_format)
        else:
            dataset.parse(data=data, format=rdflib_format)
    return dataset


@pytest.fixture(scope="session")
def sample_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the sample letters (their text versions) and the vocabularies."""
    from imrkg.aggregates import refresh
    from imrkg.graph import letter_graph
    from imrkg.store import KnowledgeStore

    path = tmp_path_factory.mktemp("samples") / "store"
    store = KnowledgeStore(path)
    store.load_vocabularies()
    for name in SAMPLE_NAMES:
        store.replace_graph(letter_graph(sample_record(name, "txt")))
    refresh(store)  # the aggregate cells that the aggregate queries read
    store.flush()
    del store
    return path


@contextlib.contextmanager
def running_endpoint(store: Path, **options: Any) -> Iterator[str]:
    """An endpoint on the store, listening on a free local port, for the block's duration;
    yields its base URL."""
    from imrkg.serve import QueryService, make_server

    service = QueryService(store, **options)
    server = make_server(service, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        service.close()


@contextlib.contextmanager
def listening_trap() -> Iterator[tuple[str, list[bytes]]]:
    """A local HTTP listener that records every request it gets, for the block's duration:
    yields its URL and the list of requests (empty when nothing was fetched)."""
    import http.server

    seen: list[bytes] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.requestline.encode())
            self.send_response(500)
            self.end_headers()

        def do_POST(self) -> None:
            self.do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", seen
    finally:
        server.shutdown()
        server.server_close()
