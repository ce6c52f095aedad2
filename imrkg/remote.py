"""A SPARQL 1.1 server as the store: ``--endpoint URL`` (Virtuoso, Jena Fuseki, GraphDB, Neptune).

:class:`RemoteStore` offers the methods of :class:`imrkg.store.KnowledgeStore`
that the build, the query library and the command line call, so that they run
unchanged against a triple store that others share and that scales past one
disk. It speaks only the W3C protocols, with the standard library's urllib,
and sends nothing to any host but the one the URL names.

Reading: the SPARQL 1.1 Protocol, a form-encoded POST to the endpoint (POST
because the bound queries are long; ``Accept`` SPARQL JSON results for SELECT
and ASK, N-Triples for CONSTRUCT and DESCRIBE). The answers are the same
:mod:`imrkg.results` types the local store gives.

The default graph: the local store queries the union of all its graphs, so the
named queries join a letter's facts to the vocabularies without naming graphs.
A server's default graph is its own business. Virtuoso, GraphDB and Neptune
make it the union of all graphs when a query names none, and Fuseki does with
``tdb2:unionDefaultGraph true``; there the store sends no dataset and relies
on that (``union="server"``, the default). That union includes every graph the
server holds (Virtuoso keeps a few system graphs of its own), which the named
queries never match, since they ask for imr-kg's classes and properties; an
ad-hoc ``COUNT`` over ``?s ?p ?o`` does see them. With ``union="listed"``
(``IMRKG_ENDPOINT_UNION=listed``) each query names imr-kg's graphs themselves,
every one of them as ``default-graph-uri`` and as ``named-graph-uri``: right on
a server whose default graph is not the union (Fuseki as shipped) or that holds
other data too, at the cost of listing the graphs once per store object and a
longer request. (Virtuoso needs it not, and does not always honour it.)

Virtuoso 7.2 (Debian's) departs from SPARQL 1.1 in ways a query can meet: an
integer divided by an integer is an integer (write ``1000.0 * a / b``), and a
``FILTER (!BOUND(?_p) || EXISTS { … skos:broader* ?_p })`` in a group that also
has a BIND keeps no row. ``tests/test_remote.py`` lists the named queries these
touch; the store passes queries through as they are.

Writing replaces a letter's graph whole, as the local store does:

* the SPARQL 1.1 Graph Store HTTP Protocol when the store knows a graph store
  URL: ``PUT URL?graph=IRI`` with the graph as N-Triples replaces it in one
  request, ``DELETE`` removes it. A build's batch of letters goes one graph per
  request (a letter is written whole or not at all, with its files' digests, so
  a build stopped part-way resumes right); on Virtuoso that is about three times
  as fast as SPARQL Update, and sending graphs in parallel gains nothing. Virtuoso's is found without being named: for
  an endpoint ``…/sparql`` on a server that says it is Virtuoso, it is
  ``…/sparql-graph-crud`` (which needs the ``SPARQL_UPDATE`` role granted to
  the ``SPARQL`` user) or, when credentials are given, ``…/sparql-graph-crud-auth``
  (HTTP Digest, any SQL user with that role). Others are named with
  ``IMRKG_GRAPH_STORE`` (Fuseki ``…/ds/data``, GraphDB
  ``…/repositories/NAME/rdf-graphs/service``).
* otherwise SPARQL 1.1 Update, one request per graph (``DROP SILENT GRAPH`` then
  ``INSERT DATA``), POSTed to ``IMRKG_UPDATE_ENDPOINT`` or to the endpoint
  itself (Neptune, Fuseki's dataset URL, Virtuoso's ``/sparql``).

Credentials (HTTP Basic or Digest, whichever the server asks for) come from
``IMRKG_ENDPOINT_USER`` and ``IMRKG_ENDPOINT_PASSWORD`` or from the URL's
``user:password@``; error messages never show the password.

The quarantine report cannot live on the server: it is a local file, in the
folder ``state_dir`` names, by default ``$XDG_STATE_HOME/imr-kg/endpoints/HOST_PORT_PATH``
(``~/.local/state/…``), one folder per endpoint, written as the local store
writes its own.

Every failure is one line naming the URL and the reason: a :class:`StoreError`
when the server cannot be reached or refuses, a :class:`QueryError` when it
rejects a query as malformed (HTTP 400).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import pyoxigraph as ox
import rdflib
from rdflib import BNode, URIRef
from rdflib.term import Node

from imrkg import __version__
from imrkg.errors import QueryError
from imrkg.graph import GRAPH
from imrkg.queries import is_update
from imrkg.resources import ontology_dir, vocab_files
from imrkg.results import Answer, Boolean, Solutions, Triples
from imrkg.store import (
    ONTOLOGY_GRAPH,
    SOURCE_FILE_DIGEST,
    VOCABULARY_GRAPH,
    StoreError,
    to_oxigraph,
)

SOURCE_SHA256 = "https://w3id.org/imr-kg/ontology#sourceSha256"
SOURCE_FILE_SHA256 = SOURCE_FILE_DIGEST.value
PAGE = 5000
"""Rows per page when listing graphs: below Virtuoso's usual cap on result rows
(``ResultSetMaxRows``, 10000 in Debian's configuration), which cuts answers silently."""

_RESERVED = {ONTOLOGY_GRAPH, VOCABULARY_GRAPH}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_JSON_RESULTS = "application/sparql-results+json"
_RDF_ACCEPT = "application/n-triples, text/turtle;q=0.9"
_FORM = re.compile(
    r"(?:\s|#[^\n]*|PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s+<[^>]*>)*(SELECT|ASK|CONSTRUCT|DESCRIBE)\b",
    re.IGNORECASE,
)
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_RDF_FORMATS = {
    "application/n-triples": "nt",
    "text/plain": "nt",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
}


@dataclass
class _Response:
    status: int
    reason: str
    headers: Message
    body: bytes

    @property
    def media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def display_url(url: str) -> str:
    """The URL without its credentials, for messages.

    >>> display_url("http://dba:secret@localhost:8890/sparql")
    'http://localhost:8890/sparql'
    """
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def default_state_dir(url: str) -> Path:
    """Where the quarantine report of an endpoint lives when no folder is named: one
    folder per endpoint under ``$XDG_STATE_HOME/imr-kg/endpoints``.

    >>> default_state_dir("http://127.0.0.1:8890/sparql").name
    '127.0.0.1_8890_sparql'
    """
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.hostname}_{port}_{parts.path}").strip("_")
    return Path(state_home) / "imr-kg" / "endpoints" / slug


def query_form(sparql: str) -> str | None:
    """The query's form (SELECT, ASK, CONSTRUCT, DESCRIBE) after its prologue, which
    says what to ``Accept``; None when the text starts otherwise.

    >>> query_form("PREFIX ex: <urn:x#> # a comment\\nconstruct { ?s ?p ?o } WHERE { ?s ?p ?o }")
    'CONSTRUCT'
    >>> query_form("INSERT DATA { <urn:a> <urn:b> <urn:c> }") is None
    True
    """
    match = _FORM.match(sparql)
    return match.group(1).upper() if match else None


def _iri(iri: str) -> str:
    """An IRI written for SPARQL, refused if it could break out of its brackets."""
    if not iri or _BAD_IRI.search(iri):
        raise StoreError(f"not a graph IRI: {iri!r}")
    return f"<{iri}>"


def _string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid SPARQL string literal


class _Text(HTMLParser):
    """The text of an HTML error page, without its head."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.chunks.extend(line.strip() for line in data.splitlines() if line.strip())


def server_message(body: bytes, media_type: str) -> str:
    """The first line of what the server said about a failure (its text, not its markup).

    >>> server_message(b"<html><head><title>Failed</title></head><body><h1>HTTP/1.1 500 Failed</h1>"
    ...                b"<h3>Error 22023</h3><xmp>The PUT request is rejected</xmp></body></html>",
    ...                "text/html")
    'Error 22023: The PUT request is rejected'
    >>> server_message(b"\\nVirtuoso 37000 Error SP030: syntax error\\n\\nSPARQL query:\\nSELEC", "text/plain")
    'Virtuoso 37000 Error SP030: syntax error'
    """
    text = body.decode("utf-8", errors="replace")
    if media_type in ("text/html", "application/xhtml+xml") or text.lstrip().startswith("<"):
        parser = _Text()
        parser.feed(text)
        parser.close()
        lines = [c for c in parser.chunks if not c.startswith("HTTP/")]
        message = ": ".join(lines[:2])
    else:
        message = next((line.strip() for line in text.splitlines() if line.strip()), "")
    message = " ".join(message.split())
    return message if len(message) <= 300 else message[:297] + "..."


def _term(value: Mapping[str, str]) -> Node:
    """A term of SPARQL JSON results (with the ``typed-literal`` of the 2007 note, which
    Virtuoso still writes) as an rdflib term."""
    kind = value.get("type")
    text = value.get("value", "")
    if kind == "uri":
        return URIRef(text)
    if kind == "bnode":
        return BNode(text)
    if kind in ("literal", "typed-literal"):
        language = value.get("xml:lang")
        datatype = value.get("datatype")
        if language:
            return rdflib.Literal(text, lang=language)
        if datatype and datatype != _XSD_STRING:
            return rdflib.Literal(text, datatype=URIRef(datatype))
        return rdflib.Literal(text)
    raise ValueError(f"a term of unknown type {kind!r}")


class RemoteStore:
    """A SPARQL 1.1 server holding an imr-kg graph; see the module docstring.

    The constructor sends nothing: the first query or write finds out whether the
    server answers.

    >>> store = RemoteStore("http://127.0.0.1:9/sparql", state_dir=Path("/nonexistent"))
    >>> store.path
    'http://127.0.0.1:9/sparql'
    """

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        graph_store: str | None = None,
        update_endpoint: str | None = None,
        user: str | None = None,
        password: str | None = None,
        union: Literal["server", "listed"] = "server",
        state_dir: Path | None = None,
        timeout: float = 300.0,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"{display_url(url)}: not an http(s) URL of a SPARQL endpoint")
        if union not in ("server", "listed"):
            raise StoreError(f"union must be 'server' or 'listed', not {union!r}")
        user = user if user is not None else _unquote(parts.username)
        password = password if password is not None else _unquote(parts.password)
        self.url = display_url(url)
        self.read_only = read_only
        self.union = union
        self.timeout = timeout
        self.state_dir = state_dir if state_dir is not None else default_state_dir(self.url)
        self._graph_store = display_url(graph_store) if graph_store else None
        self._update_endpoint = display_url(update_endpoint) if update_endpoint else None
        self._has_credentials = bool(user)
        self._server: str | None = None
        self._listed: list[str] | None = None
        handlers: list[urllib.request.BaseHandler] = []
        if user:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for target in (self.url, self._graph_store, self._update_endpoint):
                if target:
                    passwords.add_password(None, target, user, password or "")
            if not self._graph_store:
                passwords.add_password(
                    None, _sibling(self.url, "sparql-graph-crud-auth"), user, password or ""
                )
            handlers += [
                urllib.request.HTTPBasicAuthHandler(passwords),
                urllib.request.HTTPDigestAuthHandler(passwords),
            ]
        self._opener = urllib.request.build_opener(*handlers)

    @classmethod
    def from_environment(cls, url: str, *, read_only: bool = False) -> RemoteStore:
        """A store configured as the command line configures it: the URL, and the
        ``IMRKG_ENDPOINT_*``, ``IMRKG_GRAPH_STORE`` and ``IMRKG_UPDATE_ENDPOINT``
        variables (credentials stay out of the command line, where ``ps`` shows them)."""
        union = os.environ.get("IMRKG_ENDPOINT_UNION") or "server"
        if union not in ("server", "listed"):
            raise StoreError(f"IMRKG_ENDPOINT_UNION must be 'server' or 'listed', not {union!r}")
        return cls(
            url,
            read_only=read_only,
            graph_store=os.environ.get("IMRKG_GRAPH_STORE") or None,
            update_endpoint=os.environ.get("IMRKG_UPDATE_ENDPOINT") or None,
            user=os.environ.get("IMRKG_ENDPOINT_USER") or None,
            password=os.environ.get("IMRKG_ENDPOINT_PASSWORD"),
            union="listed" if union == "listed" else "server",
        )

    @property
    def path(self) -> str:
        """The endpoint's URL: what messages name where the local store names its folder."""
        return self.url

    @property
    def quarantine_file(self) -> Path:
        return self.state_dir / "quarantine.jsonl"

    # ------------------------------------------------------------ HTTP

    def _send(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Response:
        """One request; an HTTP error status comes back as a response, for the caller to
        judge (a missing graph is no error when removing it), anything else is a StoreError."""
        request = urllib.request.Request(
            url,
            data=body,
            method=method,
            headers={"User-Agent": f"imr-kg/{__version__}", **(headers or {})},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                response = _Response(answer.status, answer.reason, answer.headers, answer.read())
        except urllib.error.HTTPError as exc:
            try:
                response = _Response(exc.code, exc.reason, exc.headers, exc.read())
            except (OSError, http.client.HTTPException):
                response = _Response(exc.code, exc.reason, exc.headers, b"")
            finally:
                exc.close()
        except urllib.error.URLError as exc:
            raise StoreError(f"{url}: cannot reach the endpoint ({_reason(exc.reason)})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise StoreError(f"{url}: the connection failed ({_reason(exc)})") from None
        except ValueError as exc:  # urllib's word for a challenge it cannot answer
            raise StoreError(f"{url}: {' '.join(str(exc).split())}") from None
        self._server = response.headers.get("Server") or self._server or ""
        return response

    def _fail(self, url: str, response: _Response, doing: str) -> StoreError:
        message = server_message(response.body, response.media_type)
        return StoreError(
            f"{url}: {doing} failed: HTTP {response.status} {response.reason}"
            + (f": {message}" if message else "")
        )

    # ------------------------------------------------------------ reading

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        row_limit: int | None = None,
        own_dataset: bool = False,
    ) -> Answer:
        """Answer a SPARQL 1.1 query on the server; the dataset as the module docstring says,
        unless ``default_graphs`` or ``named_graphs`` name one or ``own_dataset`` says the
        query does (``FROM``). ``row_limit`` caps the rows (or triples) kept; an answer the
        server cut at its own cap says it was cut too. Updates are refused here as by the
        local store, whatever the server would allow."""
        if query_form(sparql) is None and is_update(sparql):
            raise QueryError("SPARQL Update is not accepted: queries read the store only")
        if not (default_graphs or named_graphs or own_dataset) and self.union == "listed":
            default_graphs = named_graphs = self._dataset()
        return self._run(sparql, default_graphs, named_graphs, row_limit)

    def _run(
        self,
        sparql: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        row_limit: int | None = None,
    ) -> Answer:
        """Send a query with the dataset as given (none: the server's own default graph,
        which the store's own queries never read, since they name their graphs)."""
        form = query_form(sparql)
        fields: list[tuple[str, str]] = [("query", sparql)]
        fields += [("default-graph-uri", iri) for iri in default_graphs]
        fields += [("named-graph-uri", iri) for iri in named_graphs]
        accept = _RDF_ACCEPT if form in ("CONSTRUCT", "DESCRIBE") else _JSON_RESULTS
        response = self._send(
            "POST",
            self.url,
            urllib.parse.urlencode(fields).encode("utf-8"),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
        )
        if response.status == 400:
            message = server_message(response.body, response.media_type)
            raise QueryError(f"{self.url}: the server rejected the query: {message}")
        if response.status != 200:
            raise self._fail(self.url, response, "the query")
        cut = bool(response.headers.get("X-SPARQL-MaxRows"))  # Virtuoso's ResultSetMaxRows
        try:
            return self._answer(response, row_limit, cut)
        except (ValueError, KeyError, TypeError, SyntaxError) as exc:
            raise StoreError(
                f"{self.url}: the answer ({response.media_type or 'no type'}) is not readable"
                f" ({' '.join(str(exc).split())[:200]})"
            ) from None

    def _answer(self, response: _Response, row_limit: int | None, cut: bool) -> Answer:
        media = response.media_type
        if media in (_JSON_RESULTS, "application/json"):
            data = json.loads(response.body.decode("utf-8"))
            if "boolean" in data:
                return Boolean(bool(data["boolean"]))
            variables = [str(v) for v in data["head"].get("vars", [])]
            bindings = data["results"]["bindings"]
            truncated = cut
            if row_limit is not None and len(bindings) > row_limit:
                bindings, truncated = bindings[:row_limit], True
            rows = [tuple(_term(b[v]) if v in b else None for v in variables) for b in bindings]
            return Solutions(variables, rows, truncated=truncated)
        if media in _RDF_FORMATS:
            parsed = rdflib.Graph()
            parsed.parse(data=response.body, format=_RDF_FORMATS[media])
            if row_limit is None or len(parsed) <= row_limit:
                return Triples(parsed, truncated=cut)
            kept = rdflib.Graph()
            for count, triple in enumerate(parsed):
                if count >= row_limit:
                    break
                kept.add(triple)
            return Triples(kept, truncated=True)
        raise ValueError(f"unexpected content type {media!r}")

    def _select(self, sparql: str) -> Solutions:
        answer = self._run(sparql)
        if not isinstance(answer, Solutions):
            raise StoreError(f"{self.url}: a SELECT query was not answered with a table")
        return answer

    def _pages(self, pattern: str, key: str | None = None) -> Iterator[tuple[str, str]]:
        """The distinct (graph, key) pairs that ``pattern`` binds to ``?g`` and ``?key``, for
        imr-kg's graphs (key "" when there is none), in order, a page at a time; each page
        starts after the last pair seen. Virtuoso cuts an answer at its ``ResultSetMaxRows``
        without an error, and an OFFSET past that cap fails, where a start key does neither."""
        after = ("", "")
        key_expression = f"STR(?{key})" if key else '""'
        while True:
            answer = self._select(
                f"SELECT DISTINCT ?name ?key WHERE {{ {pattern}"
                f" BIND (STR(?g) AS ?name) BIND ({key_expression} AS ?key)"
                f" FILTER (STRSTARTS(?name, {_string(GRAPH)}) && (?name > {_string(after[0])}"
                f" || (?name = {_string(after[0])} && ?key > {_string(after[1])}))) }}"
                f" ORDER BY ?name ?key LIMIT {PAGE}"
            )
            rows = [(str(n), str(k) if k is not None else "") for n, k in answer.rows if n]
            yield from rows
            if not rows or (len(answer.rows) < PAGE and not answer.truncated):
                return
            after = rows[-1]

    def has_graph(self, iri: str) -> bool:
        answer = self._run(f"ASK {{ GRAPH {_iri(iri)} {{ ?s ?p ?o }} }}")
        if not isinstance(answer, Boolean):
            raise StoreError(f"{self.url}: an ASK query was not answered yes or no")
        return answer.value

    def letter_graphs(self) -> list[str]:
        """The IRIs of the letters' named graphs, sorted: the graphs holding a letter, found
        through the type index rather than by a scan of every quad on the server."""
        pattern = "GRAPH ?g { ?letter a <https://w3id.org/imr-kg/ontology#DeterminationLetter> }"
        return sorted({name for name, _ in self._pages(pattern)} - _RESERVED)

    def letter_digests(self) -> dict[str, str]:
        """The digest of every file a letter graph was read from, with that graph: the build
        records them in the graph (``<graph> imr:sourceFileSha256 "hex"``) to skip files it has."""
        pattern = f"GRAPH ?g {{ ?g <{SOURCE_FILE_SHA256}> ?digest }}"
        return {digest: name for name, digest in self._pages(pattern, "digest")}

    def _dataset(self) -> list[str]:
        """imr-kg's graphs, for a query that names them (``union="listed"``)."""
        if self._listed is None:
            self._listed = sorted({name for name, _ in self._pages("GRAPH ?g { ?s ?p ?o }")})
        return self._listed

    def graph(self, iri: str) -> rdflib.Graph:
        """One named graph as an rdflib graph."""
        answer = self._run(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {_iri(iri)} {{ ?s ?p ?o }} }}")
        if not isinstance(answer, Triples):
            raise StoreError(f"{self.url}: a CONSTRUCT query was not answered with triples")
        if answer.truncated:
            raise StoreError(f"{self.url}: the server cut graph {iri} at its row cap")
        graph = rdflib.Graph(identifier=URIRef(iri))
        for triple in answer.graph:
            graph.add(triple)
        return graph

    def count(self, sparql: str) -> int:
        """The single integer a ``SELECT (COUNT(...) AS ?n)`` query returns."""
        answer = self.query(sparql)
        if not isinstance(answer, Solutions):
            raise QueryError("a count needs a SELECT query")
        for row in answer.rows:
            return int(str(row[0])) if row[0] is not None else 0
        return 0

    def triple_count(self) -> int:
        """The triples in imr-kg's graphs (letters, ontology, vocabularies): what the local
        store counts, leaving out whatever else the server holds."""
        answer = self._select(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }"
            f" FILTER (STRSTARTS(STR(?g), {_string(GRAPH)})) }}"
        )
        return int(str(answer.rows[0][0])) if answer.rows and answer.rows[0][0] is not None else 0

    # ------------------------------------------------------------ writing

    def _writer(self) -> tuple[Literal["gsp", "update"], str]:
        """Where writes go, and how: see the module docstring."""
        if self._graph_store:
            return "gsp", self._graph_store
        if self._update_endpoint:
            return "update", self._update_endpoint
        if self._server is None:
            self._run("ASK {}")  # its Server header says what the server is
        if "virtuoso" in (self._server or "").lower() and self.url.rstrip("/").endswith("/sparql"):
            name = "sparql-graph-crud-auth" if self._has_credentials else "sparql-graph-crud"
            self._graph_store = _sibling(self.url, name)
            return "gsp", self._graph_store
        return "update", self.url

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.url}: opened read-only")

    def _update(self, url: str, update: str, doing: str) -> None:
        response = self._send(
            "POST",
            url,
            urllib.parse.urlencode({"update": update}).encode("utf-8"),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": _JSON_RESULTS},
        )
        if response.status not in (200, 201, 204):
            raise self._fail(url, response, doing)

    def replace_graph(self, graph: rdflib.Graph) -> int:
        """Put a graph on the server in place of the one of the same name, in one request
        (the server writes it whole or not at all); returns its size."""
        triples = [
            ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))  # type: ignore[arg-type]
            for s, p, o in graph
        ]
        self._put(str(graph.identifier), triples)
        return len(triples)

    def add_letters(self, letters: bytes, digests: bytes, *, bulk: bool = False) -> None:
        """Add letter graphs given as N-Quads (graphs the build has just removed), with the
        digests of the files they came from (N-Quads in the same graphs): each graph, its
        digests inside, in one request, so that a reader, or a build resumed after a crash,
        sees a letter whole or not at all, and with it its digests. (The batch is not one
        transaction: the protocols write one graph per request.) ``bulk`` changes nothing
        here: the server decides how it writes."""
        graphs: dict[str, list[ox.Triple]] = {}
        try:
            for quad in ox.parse(letters + digests, format=ox.RdfFormat.N_QUADS):
                if not isinstance(quad.graph_name, ox.NamedNode):
                    raise SyntaxError("a letter's triple outside a named graph")
                graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
        except SyntaxError as exc:
            raise StoreError(f"{self.url}: the letters are not N-Quads ({exc})") from None
        for iri, triples in graphs.items():
            self._put(iri, triples)

    def _put(self, iri: str, triples: list[ox.Triple]) -> None:
        self._check_writable()
        if not triples:
            self.remove_graph(iri)
            return
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        how, url = self._writer()
        doing = f"writing graph {iri}"
        if how == "gsp":
            target = f"{url}?{urllib.parse.urlencode({'graph': iri})}"
            response = self._send(
                "PUT", target, body, {"Content-Type": "application/n-triples; charset=utf-8"}
            )
            if response.status not in (200, 201, 204):
                raise self._fail(url, response, doing)
        else:
            name = _iri(iri)
            self._update(
                url,
                f"DROP SILENT GRAPH {name} ;\nINSERT DATA {{ GRAPH {name} {{\n"
                + body.decode("utf-8")
                + "}}",
                doing,
            )
        self._listed = None

    def remove_graph(self, iri: str) -> None:
        """Remove a graph if the server holds it."""
        self._check_writable()
        how, url = self._writer()
        doing = f"removing graph {iri}"
        if how == "gsp":
            target = f"{url}?{urllib.parse.urlencode({'graph': iri})}"
            response = self._send("DELETE", target)
            if response.status not in (200, 202, 204, 404):
                raise self._fail(url, response, doing)
        else:
            self._update(url, f"DROP SILENT GRAPH {_iri(iri)}", doing)
        self._listed = None

    def load_vocabularies(self) -> bool:
        """Put the ontology and the vocabularies in their named graphs, unless the server
        holds these very files already (the vocabulary graph carries their sha256, as in
        the local store); returns whether it wrote them. They are parsed here and sent as
        N-Triples, so that every server gets the triples Oxigraph reads, and the stamp is
        written with the last graph, so that a load cut short is done again next time."""
        sources = [
            (ONTOLOGY_GRAPH, [ontology_dir() / "imr.ttl"]),
            (VOCABULARY_GRAPH, vocab_files()),
        ]
        digest = hashlib.sha256()
        for _, paths in sources:
            for path in paths:
                digest.update(path.read_bytes())
        stamp = (
            URIRef(VOCABULARY_GRAPH),
            URIRef(SOURCE_SHA256),
            rdflib.Literal(digest.hexdigest()),
        )
        check = self._run(
            f"ASK {{ GRAPH <{VOCABULARY_GRAPH}> {{ <{VOCABULARY_GRAPH}> <{SOURCE_SHA256}>"
            f" {_string(digest.hexdigest())} }} }}"
        )
        if isinstance(check, Boolean) and check.value:
            return False
        self._check_writable()
        for iri, paths in sources:
            graph = rdflib.Graph(identifier=URIRef(iri))
            for path in paths:
                try:
                    graph.parse(path, format="turtle")
                except Exception as exc:  # rdflib raises many types for bad input
                    raise StoreError(
                        f"{path}: cannot be loaded ({' '.join(str(exc).split())[:200]})"
                    ) from None
            if iri == VOCABULARY_GRAPH:
                graph.add(stamp)
            self.replace_graph(graph)
        return True

    def flush(self) -> None:
        """Nothing to do: the server has committed each request when it answers."""

    # --------------------------------------------------------- quarantine

    def read_quarantine(self) -> dict[str, dict[str, Any]]:
        if not self.quarantine_file.exists():
            return {}
        entries = {}
        for line in self.quarantine_file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entries[entry["graph"]] = entry
        return entries

    def write_quarantine(self, entries: dict[str, dict[str, Any]]) -> None:
        """Rewrite the quarantine report whole (written aside, then renamed over the old one)."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.state_dir, prefix=".quarantine.", delete=False
            ) as out:
                for key in sorted(entries):
                    out.write(json.dumps(entries[key], ensure_ascii=False) + "\n")
            Path(out.name).replace(self.quarantine_file)
        except OSError as exc:
            raise StoreError(
                f"{self.state_dir}: cannot write the quarantine report ({exc})"
            ) from None


def _sibling(url: str, name: str) -> str:
    """The URL with its last path segment replaced: Virtuoso's graph store beside its /sparql."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/").rpartition("/")[0] + "/" + name
    return urllib.parse.urlunsplit(parts._replace(path=path, query="", fragment=""))


def _unquote(text: str | None) -> str | None:
    return urllib.parse.unquote(text) if text is not None else None


def _reason(reason: object) -> str:
    """Why a connection failed, in the words a person expects."""
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return " ".join(str(reason).split()) or type(reason).__name__
