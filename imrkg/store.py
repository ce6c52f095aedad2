"""The knowledge graph on disk: an Oxigraph store of one named graph per letter.

A store is a folder holding the Oxigraph database (``oxigraph/``) and the
quarantine report (``quarantine.jsonl``: the letters that failed the shapes,
with the shapes' messages). Without ``--store`` every command uses the same
folder, ``$IMRKG_STORE`` if set, else ``$XDG_DATA_HOME/imr-kg/store``
(``~/.local/share/imr-kg/store``), so that ``imrkg query`` works right after
``imrkg build`` with no flags.

Each letter lives in its own named graph (``https://w3id.org/imr-kg/graph/KEY``)
and is replaced whole: the old graph is dropped, the new one written in one
transaction (or bulk-loaded, see :meth:`KnowledgeStore.add_letters`). The
ontology and the vocabularies sit in two more named graphs, ``graph/ontology``
and ``graph/vocabulary``, reloaded on every build so that queries can join
letters to concept labels, categories and hierarchies.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef

from imrkg.errors import ImrKgError, QueryError
from imrkg.graph import GRAPH
from imrkg.resources import ontology_dir, vocab_files
from imrkg.results import Answer, Boolean, Solutions, Triples

ONTOLOGY_GRAPH = GRAPH + "ontology"
VOCABULARY_GRAPH = GRAPH + "vocabulary"
# The precomputed aggregate cells (imrkg.aggregates), kept in step with the letters.
AGGREGATE_GRAPH = GRAPH + "aggregates"
_RESERVED = {ONTOLOGY_GRAPH, VOCABULARY_GRAPH, AGGREGATE_GRAPH}
# Which files the vocabulary graph was loaded from: a hash of their bytes.
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_SOURCE_DIGEST = ox.NamedNode("https://w3id.org/imr-kg/ontology#sourceSha256")
# Which files a letter graph was read from: ``<graph> imr:sourceFileSha256 "hex"`` in the graph.
SOURCE_FILE_DIGEST = ox.NamedNode("https://w3id.org/imr-kg/ontology#sourceFileSha256")


class StoreError(ImrKgError):
    """The store cannot be opened or written."""


class Queryable(Protocol):
    """What reading a store needs of it: SPARQL with chosen default and named graphs. The
    local store and the remote one have it, and so does the cells' scratch store."""

    def query(
        self, sparql: str, *, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()
    ) -> Answer: ...


_VOCABULARY_DIGEST = (
    f"SELECT ?digest WHERE {{ <{VOCABULARY_GRAPH}> <{_SOURCE_DIGEST.value}> ?digest }}"
)


def vocabulary_digest(store: Queryable) -> str | None:
    """The digest of the vocabulary files that a store's vocabulary graph states it was loaded
    from (see :meth:`KnowledgeStore.load_vocabularies`), or None where it states none.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     store = KnowledgeStore(Path(folder))
    ...     before = vocabulary_digest(store)
    ...     _ = store.load_vocabularies()
    ...     (before, len(vocabulary_digest(store) or ""))
    (None, 64)
    """
    answer = store.query(_VOCABULARY_DIGEST, default_graphs=[VOCABULARY_GRAPH])
    if not isinstance(answer, Solutions):
        raise StoreError("the vocabulary's digest was not answered with a table")
    return next((str(row[0]) for row in answer.rows if row[0] is not None), None)


def default_store_path() -> Path:
    """Where the store lives when no ``--store`` is given."""
    explicit = os.environ.get("IMRKG_STORE")
    if explicit:
        return Path(explicit)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "imr-kg" / "store"


def to_oxigraph(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def to_rdflib(term: Any) -> rdflib.term.Node:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(
                term.value
            )  # RDF 1.1: a simple literal is an xsd:string; rdflib writes it bare
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"not an RDF term: {term!r}")


def quads_of(graph: rdflib.Graph) -> Iterator[ox.Quad]:
    """The triples of an rdflib graph as quads in the graph named by its identifier."""
    name = ox.NamedNode(str(graph.identifier))
    for s, p, o in graph:
        yield ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), name)  # type: ignore[arg-type]


class KnowledgeStore:
    """An imr-kg store folder: the Oxigraph database and the quarantine report.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     store = KnowledgeStore(Path(folder))
    ...     store.letter_graphs()
    []
    """

    def __init__(self, path: Path, *, read_only: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        database = self.path / "oxigraph"
        if (read_only or not create) and not database.is_dir():
            raise StoreError(f"{self.path}: no imr-kg store here (run 'imrkg build' first)")
        try:
            if read_only:
                self.store = ox.Store.read_only(str(database))
            else:
                database.mkdir(parents=True, exist_ok=True)
                self.store = ox.Store(str(database))
        except (OSError, RuntimeError) as exc:  # RuntimeError: a store still being created
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from None

    @property
    def quarantine_file(self) -> Path:
        return self.path / "quarantine.jsonl"

    # ------------------------------------------------------------ writing

    def replace_graph(self, graph: rdflib.Graph) -> int:
        """Put a graph in the store in place of the one of the same name; returns its size."""
        name = ox.NamedNode(str(graph.identifier))
        quads = list(quads_of(graph))
        if self.store.contains_named_graph(name):
            self.store.remove_graph(name)
        self.store.extend(quads)  # one transaction: the graph is written whole or not at all
        return len(quads)

    def add_letters(self, letters: bytes, digests: bytes, *, bulk: bool = False) -> None:
        r"""Add letter graphs given as N-Quads, with the digests of the files they were
        read from (N-Quads in the same graphs), in one transaction: a reader, or a store
        reopened after a crash, sees all of them or none.

        With ``bulk``, the letters go in with Oxigraph's bulk loader, which writes the
        indexes' files directly (a transaction checks every quad against the store: four
        times slower, and the largest part of a build), and the digests follow in a
        transaction of their own: a letter counts as loaded once its digest is in. A
        build stopped in between leaves graphs without a digest, which the next build
        removes; a reader during the build may see the batch in part.

        >>> with tempfile.TemporaryDirectory() as folder:
        ...     store = KnowledgeStore(Path(folder))
        ...     graph = "<https://w3id.org/imr-kg/graph/K1>"
        ...     letter = f'<urn:a> <urn:b> "c" {graph} .\n'.encode()
        ...     digest = f'{graph} <{SOURCE_FILE_DIGEST.value}> "ab12" {graph} .\n'.encode()
        ...     store.add_letters(letter, digest, bulk=True)
        ...     store.letter_digests(), store.triple_count()
        ...     del store  # closed before its folder goes
        ({'ab12': 'https://w3id.org/imr-kg/graph/K1'}, 2)
        """
        try:
            if bulk:
                self.bulk_load(letters)
                self.store.load(input=digests, format=ox.RdfFormat.N_QUADS)
            else:
                self.store.load(input=letters + digests, format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"{self.path}: cannot write the letters ({exc})") from None

    def bulk_load(self, nquads: bytes) -> None:
        """Add N-Quads with Oxigraph's bulk loader: no transaction (see :meth:`add_letters`).
        The build writes the aggregate cells this way in a bulk build."""
        try:
            self.store.bulk_load(input=nquads, format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"{self.path}: cannot write ({exc})") from None

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update in one transaction. Only the build writes this way (its
        aggregate cells); queries from users never reach it."""
        try:
            self.store.update(sparql)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"{self.path}: cannot update the store ({exc})") from None

    def has_graph(self, iri: str) -> bool:
        return self.store.contains_named_graph(ox.NamedNode(iri))

    def remove_graph(self, iri: str) -> None:
        name = ox.NamedNode(iri)
        if self.store.contains_named_graph(name):
            self.store.remove_graph(name)

    def load_vocabularies(self) -> bool:
        """Load the ontology and the vocabularies into their named graphs, unless
        the store already holds these very files; returns whether it loaded them.

        Reloading identical files would still change the store, since their
        blank nodes (guideline limits, OWL axioms) get new labels each time.
        """
        sources = [
            (ONTOLOGY_GRAPH, [ontology_dir() / "imr.ttl"]),
            (VOCABULARY_GRAPH, vocab_files()),
        ]
        digest = hashlib.sha256()
        for _, paths in sources:
            for path in paths:
                digest.update(path.read_bytes())
        stamp = ox.Quad(
            ox.NamedNode(VOCABULARY_GRAPH),
            _SOURCE_DIGEST,
            ox.Literal(digest.hexdigest()),
            ox.NamedNode(VOCABULARY_GRAPH),
        )
        if stamp in self.store:
            return False
        for iri, paths in sources:
            name = ox.NamedNode(iri)
            if self.store.contains_named_graph(name):
                self.store.remove_graph(name)
            for path in paths:
                try:
                    self.store.load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=name)
                except (OSError, SyntaxError) as exc:
                    raise StoreError(f"{path}: cannot be loaded ({exc})") from None
        self.store.add(stamp)
        return True

    def flush(self) -> None:
        self.store.flush()

    # ------------------------------------------------------------ reading

    def letter_graphs(self) -> list[str]:
        """The IRIs of the letters' named graphs, sorted."""
        names = (g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))
        return sorted(n for n in names if n.startswith(GRAPH) and n not in _RESERVED)

    def letter_digests(self) -> dict[str, str]:
        """The digest of every file a letter graph was read from, with that graph."""
        return {
            quad.object.value: quad.graph_name.value
            for quad in self.store.quads_for_pattern(None, SOURCE_FILE_DIGEST, None, None)
            if isinstance(quad.graph_name, ox.NamedNode)
            and isinstance(quad.object, ox.Literal)
            and quad.subject == quad.graph_name
        }

    def graph(self, iri: str) -> rdflib.Graph:
        """One named graph as an rdflib graph."""
        graph = rdflib.Graph(identifier=URIRef(iri))
        for quad in self.store.quads_for_pattern(None, None, None, ox.NamedNode(iri)):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        return graph

    def quads(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        for iri in graphs:
            yield from self.store.quads_for_pattern(None, None, None, ox.NamedNode(iri))

    def count(self, sparql: str) -> int:
        """The single integer a ``SELECT (COUNT(...) AS ?n)`` query returns, over all graphs."""
        solutions = self.store.query(sparql, use_default_graph_as_union=True)
        for solution in solutions:  # type: ignore[union-attr]
            value = solution[0]
            return int(value.value) if value is not None else 0
        return 0

    def triple_count(self) -> int:
        return len(self.store)

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        row_limit: int | None = None,
        own_dataset: bool = False,
    ) -> Answer:
        """Answer a SPARQL 1.1 query. Without ``default_graphs`` the default graph is the
        union of every graph (letters, ontology, vocabularies), so that a query joins a
        letter's facts to concept labels without naming graphs, unless ``own_dataset``
        says the query names its own (``FROM``); ``row_limit`` caps the rows (or
        triples) read, and the answer says when it cut.

        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     KnowledgeStore(Path(folder)).query("ASK { ?s ?p ?o }")
        Boolean(value=False)
        """
        options: dict[str, Any] = {}
        if default_graphs:
            options["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
        elif not own_dataset:
            options["use_default_graph_as_union"] = True
        if named_graphs:
            options["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
        try:
            answer = self.store.query(sparql, **options)
            if isinstance(answer, ox.QueryBoolean):
                return Boolean(bool(answer))
            if isinstance(answer, ox.QueryTriples):
                graph = rdflib.Graph()
                for count, triple in enumerate(answer):
                    if row_limit is not None and count >= row_limit:
                        return Triples(graph, truncated=True)
                    graph.add(
                        (
                            to_rdflib(triple.subject),
                            to_rdflib(triple.predicate),
                            to_rdflib(triple.object),
                        )
                    )
                return Triples(graph)
            variables = [v.value for v in answer.variables]
            rows: list[tuple[rdflib.term.Node | None, ...]] = []
            for solution in answer:
                if row_limit is not None and len(rows) >= row_limit:
                    return Solutions(variables, rows, truncated=True)
                rows.append(
                    tuple(
                        to_rdflib(solution[v]) if solution[v] is not None else None
                        for v in variables
                    )
                )
            return Solutions(variables, rows)
        except SyntaxError as exc:
            raise QueryError(f"the query does not parse: {' '.join(str(exc).split())}") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: the query could not read the store ({exc})") from None

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
        self.path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=self.path, prefix=".quarantine.", delete=False
        ) as out:
            for key in sorted(entries):
                out.write(json.dumps(entries[key], ensure_ascii=False) + "\n")
        Path(out.name).replace(self.quarantine_file)
