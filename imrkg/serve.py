"""A read-only SPARQL endpoint on a store, with the named queries and a browser page.

``imrkg serve`` answers:

- ``/sparql``: the SPARQL 1.1 Protocol, GET (``?query=``) and POST (a form with
  ``query=``, or an ``application/sparql-query`` body), with ``default-graph-uri``
  and ``named-graph-uri``. Tables and booleans come as SPARQL JSON, XML, CSV or TSV,
  graphs as Turtle, N-Triples or JSON-LD, by the Accept header (or ``format=``).
  Without a query, ``/sparql`` describes the service (SPARQL 1.1 Service
  Description, Turtle). Updates are refused with 403: the graph is read-only.
- ``/queries``: the named queries with their descriptions and parameters (JSON);
  ``/queries/NAME?param=value``: one of them answered, negotiated the same way;
  ``/queries/NAME.rq``: its text.
- ``/``: a page that lists the named queries, runs one with its parameters and
  shows the answer as a table, with a box for free SPARQL. Its script and style
  are served from the package: nothing is fetched from elsewhere.

Queries run in worker processes that open the store read-only. A query that
runs past the timeout is stopped (its worker is killed and replaced) and
answered 503; a row cap bounds every answer, and an answer cut by it carries
the header ``X-IMRKG-Truncated: true``.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from imrkg import __version__
from imrkg.errors import ImrKgError, QueryError
from imrkg.queries import FEDERATION_REFUSED, is_federated, is_update, library
from imrkg.resources import web_dir
from imrkg.results import (
    GRAPH_FORMATS,
    MEDIA_TYPES,
    TABLE_FORMATS,
    Answer,
    Solutions,
    Triples,
    write,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_ROW_CAP = 10_000
MAX_BODY = 1 << 20
# media types a client may ask for, and the format each names
_ACCEPTED = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/plain": "table",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
}
_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}


@dataclass
class Reply:
    """An HTTP answer: status, media type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, message: str) -> Reply:
        return cls(status, "text/plain; charset=utf-8", (message + "\n").encode("utf-8"))


def negotiate(accept: str | None, answer: Answer) -> str | None:
    """The format to write an answer in, from an Accept header (None when nothing fits).

    >>> from imrkg.results import Boolean
    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", Boolean(True))
    'xml'
    >>> negotiate("*/*", Triples()), negotiate("text/csv", Triples())
    ('turtle', None)
    """
    allowed = GRAPH_FORMATS if isinstance(answer, Triples) else TABLE_FORMATS
    default = "turtle" if isinstance(answer, Triples) else "json"
    if not accept:
        return default
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, *options = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        ranked.append((-weight, index, media.lower()))
    for weight, _, media in sorted(ranked):
        if weight == 0:
            continue
        if media in ("*/*", "application/*", "text/*"):
            return default
        fmt = _ACCEPTED.get(media)
        if fmt in allowed:
            return fmt
    return None


# ------------------------------------------------------------------ workers


def _answer_request(store: Any, request: Mapping[str, Any]) -> Reply:
    """Run one request in a worker: the query, then the format the client accepts."""
    from imrkg.queries import names_dataset, run_named

    try:
        if request["kind"] == "named":
            answer = run_named(
                store, request["name"], request["params"], row_limit=request["row_cap"]
            )
        else:
            answer = store.query(
                request["text"],
                default_graphs=request["default_graphs"],
                named_graphs=request["named_graphs"],
                row_limit=request["row_cap"],
                own_dataset=names_dataset(request["text"]),
            )
    except QueryError as exc:
        return Reply.text(HTTPStatus.BAD_REQUEST, str(exc))
    except ImrKgError as exc:
        return Reply.text(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
    fmt = request["format"] or negotiate(request["accept"], answer)
    if fmt is None or fmt not in (GRAPH_FORMATS if isinstance(answer, Triples) else TABLE_FORMATS):
        kind = "a graph" if isinstance(answer, Triples) else "a table"
        offered = GRAPH_FORMATS if isinstance(answer, Triples) else TABLE_FORMATS
        return Reply.text(
            HTTPStatus.NOT_ACCEPTABLE,
            f"the answer is {kind}; it can be sent as "
            + ", ".join(MEDIA_TYPES[f].split(";")[0] for f in offered),
        )
    headers = {}
    if isinstance(answer, Solutions | Triples) and answer.truncated:
        headers["X-IMRKG-Truncated"] = "true"
    if isinstance(answer, Solutions):
        headers["X-IMRKG-Rows"] = str(len(answer.rows))
    return Reply(HTTPStatus.OK, MEDIA_TYPES[fmt], write(answer, fmt), headers)


def _worker_main(store_path: str, connection: Connection) -> None:
    from imrkg.store import KnowledgeStore

    try:
        store = KnowledgeStore(Path(store_path), read_only=True)
    except ImrKgError as exc:
        connection.send(("failed", str(exc)))
        return
    connection.send(("ready", ""))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        reply = _answer_request(store, request)
        connection.send((reply.status, reply.content_type, reply.body, reply.headers))


class _Worker:
    def __init__(self, context: Any, store_path: Path) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(str(store_path), child), daemon=True
        )
        self.process.start()
        child.close()
        try:
            status, message = self.connection.recv()
        except EOFError:
            status, message = "failed", "a query worker could not start"
        if status != "ready":
            self.process.join()
            raise ImrKgError(message)

    def stop(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()


class QueryService:
    """Answers queries on a store in worker processes, each run under a timeout and a row cap."""

    def __init__(
        self,
        store_path: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        row_cap: int = DEFAULT_ROW_CAP,
        workers: int = 2,
    ) -> None:
        self.store_path = Path(store_path)
        self.timeout = timeout
        self.row_cap = row_cap
        # spawned, not forked: the server's threads must not be copied into a worker
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(max(1, workers)):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker(self._context, self.store_path)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._all.remove(worker)
        try:
            self._add_worker()
        except ImrKgError as exc:
            print(f"imrkg serve: error: cannot restart a query worker: {exc}", file=sys.stderr)

    def run(self, request: dict[str, Any]) -> Reply:
        """Answer one request (see :func:`_answer_request` for its keys)."""
        request = {"row_cap": self.row_cap, **request}
        started = time.monotonic()
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            return Reply.text(
                HTTPStatus.SERVICE_UNAVAILABLE, "every query worker is busy; try again"
            )
        remaining = max(0.0, self.timeout - (time.monotonic() - started))
        try:
            worker.connection.send(request)
            if worker.connection.poll(remaining):
                status, content_type, body, headers = worker.connection.recv()
                self._idle.put(worker)
                return Reply(status, content_type, body, headers)
        except (EOFError, OSError, BrokenPipeError):
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            return Reply.text(HTTPStatus.INTERNAL_SERVER_ERROR, "the query worker failed")
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
        return Reply.text(
            HTTPStatus.SERVICE_UNAVAILABLE,
            f"the query ran longer than the timeout ({self.timeout:g} s) and was stopped",
        )

    def close(self) -> None:
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()


# --------------------------------------------------------------------- HTTP


def _service_description(base: str) -> bytes:
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{base}sparql> a sd:Service ;
    rdfs:label "imr-kg {__version__} SPARQL endpoint (read-only)" ;
    sd:endpoint <{base}sparql> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>,
        <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
        <http://www.w3.org/ns/formats/SPARQL_Results_CSV>,
        <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
        <http://www.w3.org/ns/formats/Turtle>,
        <http://www.w3.org/ns/formats/N-Triples>,
        <http://www.w3.org/ns/formats/JSON-LD> .
""".encode()


def _query_catalog() -> bytes:
    return json.dumps(
        [
            {
                "name": q.name,
                "summary": q.summary,
                "description": q.description,
                "parameters": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "required": p.required,
                        "default": p.default,
                        "description": p.description,
                    }
                    for p in q.parameters
                ],
            }
            for q in library().values()
        ],
        indent=1,
    ).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    server_version = f"imr-kg/{__version__}"
    service: QueryService  # set on the subclass made for each server
    quiet = False

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            sys.stderr.write(f"imrkg serve: {self.address_string()} {format % args}\n")

    def _send(self, reply: Reply, *, head_only: bool = False) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "X-IMRKG-Truncated, X-IMRKG-Rows")
        self.send_header("Vary", "Accept")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(reply.body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query, keep_blank_values=True)
        self._send(self._route(url.path, params, body=None))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(
                Reply.text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the request body is too large")
            )
            return
        raw = self.rfile.read(length)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params = parse_qs(url.query, keep_blank_values=True)
        if content_type == "application/x-www-form-urlencoded":
            for key, values in parse_qs(
                raw.decode("utf-8", "replace"), keep_blank_values=True
            ).items():
                params.setdefault(key, []).extend(values)
            body = None
        elif content_type == "application/sparql-update":
            self._send(
                Reply.text(
                    HTTPStatus.FORBIDDEN,
                    "SPARQL Update is not accepted: this endpoint is read-only",
                )
            )
            return
        elif content_type == "application/sparql-query":
            body = raw.decode("utf-8", "replace")
        else:
            self._send(
                Reply.text(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "POST a form (application/x-www-form-urlencoded) or a query (application/sparql-query)",
                )
            )
            return
        if url.path != "/sparql":
            self._send(Reply.text(HTTPStatus.METHOD_NOT_ALLOWED, "POST goes to /sparql"))
            return
        self._send(self._route(url.path, params, body=body))

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
        self.end_headers()

    def do_PUT(self) -> None:
        self._send(Reply.text(HTTPStatus.METHOD_NOT_ALLOWED, "this endpoint is read-only"))

    def do_DELETE(self) -> None:
        self.do_PUT()

    def do_PATCH(self) -> None:
        self.do_PUT()

    def _route(self, path: str, params: dict[str, list[str]], body: str | None) -> Reply:
        accept = self.headers.get("Accept")
        fmt = params.pop("format", [None])[-1] or None
        if fmt is not None and fmt not in (*TABLE_FORMATS, *GRAPH_FORMATS):
            return Reply.text(HTTPStatus.BAD_REQUEST, f"unknown format {fmt!r}")
        if path in _STATIC:
            name, media = _STATIC[path]
            return Reply(HTTPStatus.OK, media, (web_dir() / name).read_bytes())
        if path == "/sparql":
            return self._sparql(params, body, accept, fmt)
        if path in ("/queries", "/queries/"):
            return Reply(HTTPStatus.OK, "application/json", _query_catalog())
        if path.startswith("/queries/"):
            name = path[len("/queries/") :]
            if name.endswith(".rq") and name[:-3] in library():
                return Reply(
                    HTTPStatus.OK,
                    "application/sparql-query; charset=utf-8",
                    library()[name[:-3]].text.encode("utf-8"),
                )
            if name not in library():
                return Reply.text(HTTPStatus.NOT_FOUND, f"no query named {name!r}")
            values = {key: vals[-1] for key, vals in params.items()}
            return self.service.run(
                {"kind": "named", "name": name, "params": values, "accept": accept, "format": fmt}
            )
        return Reply.text(HTTPStatus.NOT_FOUND, f"nothing at {path}")

    def _sparql(
        self, params: dict[str, list[str]], body: str | None, accept: str | None, fmt: str | None
    ) -> Reply:
        if "update" in params:
            return Reply.text(
                HTTPStatus.FORBIDDEN, "SPARQL Update is not accepted: this endpoint is read-only"
            )
        queries = params.get("query", [])
        text = body if body is not None else (queries[-1] if queries else None)
        if text is None:
            host = self.headers.get("Host") or "localhost"
            return Reply(
                HTTPStatus.OK, MEDIA_TYPES["turtle"], _service_description(f"http://{host}/")
            )
        if is_update(text):
            return Reply.text(
                HTTPStatus.FORBIDDEN, "SPARQL Update is not accepted: this endpoint is read-only"
            )
        if is_federated(text):
            return Reply.text(HTTPStatus.FORBIDDEN, FEDERATION_REFUSED)
        return self.service.run(
            {
                "kind": "sparql",
                "text": text,
                "default_graphs": params.get("default-graph-uri", []),
                "named_graphs": params.get("named-graph-uri", []),
                "accept": accept,
                "format": fmt,
            }
        )


def make_server(
    service: QueryService, host: str = "127.0.0.1", port: int = 8000, *, quiet: bool = False
) -> ThreadingHTTPServer:
    """An HTTP server answering with ``service``; ``port=0`` picks a free port."""
    handler = type("Handler", (_Handler,), {"service": service, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
