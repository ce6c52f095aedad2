"""Precomputed aggregate cells, kept in step with the letters loaded.

Counting a million letters' items at query time takes minutes; the aggregate
named queries (``outcomes-by-specialty``, ``denial-reasons``, ...) read
precomputed counts instead. The counts are exact, not estimates, because every
item belongs to exactly one letter: a count of distinct items grouped by some
keys, over the whole store, is the sum over the letters of the same count on
each letter alone. So each aggregate has a *cell query*
(``queries/cells/NAME.rq``) that counts, over whatever letter graphs it is
given, the named query's measures grouped by the named query's keys and, where
the named query can be narrowed to a treatment, by the item's treatment
concept.

**Slices.** A named query reads one *slice* of its aggregate: the cells of
all items, or, narrowed to a treatment, the cells of the items of that
treatment or a narrower one. So that it reads no more cells than its answer has
rows, the items of each treatment concept are counted into the slice of that
concept and of every broader one (``skos:broader*`` in the vocabulary), as
well as into the slice of all items. The named query finds the slice of all
items by its IRI (``id/aggregate/NAME/all``) and a treatment's slice by the
treatment (``imr:forTreatment``), and each cell states its key columns with one
property each (``imr:bySpecialty``, ``imr:byYear``...). On disk, Oxigraph
answers a join with one index lookup per row, some 20 microseconds: the first
layouts tried, which read a whole aggregate and filtered it by treatment, or
gave cells key nodes that the planner started from, took seconds to minutes on
a few hundred thousand cells; this one reads about 0.15 ms per row returned.

The cells live in one reserved named graph, :data:`AGGREGATE_GRAPH`, named by
their slice and a hash of their key, so that the same letters always give the
same triples. A build keeps them in step:

* :func:`begin` recounts the cells unless :func:`is_current` (they carry a
  digest of what they were counted with, the vocabulary and the cell queries,
  and their letter total must match the letter graphs), then takes the digest
  away until :func:`end`, so that a build that stops half-way is recounted;
* :class:`ScratchStore` counts the cells of a batch before it is loaded (in a
  build worker), :func:`stored_cells` those of letters in the store (the old
  versions of letters about to be replaced or removed), in place on the local
  store (:func:`cells_of`) and on Oxigraph for any other;
* :func:`apply` adds the delta (:func:`difference`: the new cells minus the
  old) to the stored cells, in one write; :func:`refresh` counts every letter
  afresh.

>>> sorted(AGGREGATES)[:3]
['ca-vs-imr-citations', 'co-diagnoses', 'denial-reasons']
>>> cell = Cell("outcomes-by-year", (Literal("2017"),), None, "items")
>>> graph = aggregate_graph(Counter({cell: 3}))
>>> sorted(str(o) for s, p, o in graph if p in (IMR.byYear, IMR.itemCount, IMR.upheldCount))
['0', '2017', '3']
>>> print(slice_iri("outcomes-by-year", None))
https://w3id.org/imr-kg/id/aggregate/outcomes-by-year/all
>>> aggregate_graph(Counter({cell: 0})).__len__()  # empty cells are left out
0
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple, Protocol, cast

import pyoxigraph as ox
import rdflib
from rdflib import RDF, XSD, Literal, URIRef
from rdflib.term import Node

from imrkg.errors import ResourceError
from imrkg.graph import ID, IMR, VOCAB
from imrkg.queries import parse_query_file
from imrkg.resources import ontology_dir, queries_dir, vocab_files
from imrkg.results import Answer, Solutions
from imrkg.store import AGGREGATE_GRAPH as AGGREGATE_GRAPH  # the store reserves it
from imrkg.store import (
    ONTOLOGY_GRAPH,
    VOCABULARY_GRAPH,
    KnowledgeStore,
    Queryable,
    StoreError,
    quads_of,
    to_rdflib,
    vocabulary_digest,
)

CELL_BASE = ID + "aggregate/"
# The graphs a cell query reads as its default graph; the letters are its named graphs.
VOCABULARIES = (VOCABULARY_GRAPH, ONTOLOGY_GRAPH)
# Letters counted per cell query in a refresh: enough to spread a query's fixed cost thin,
# few enough that memory stays flat.
REFRESH_BATCH = 1024
# Triples written per SPARQL Update request when a refresh writes through update().
WRITE_BATCH = 200_000
# Bumped when the cells' triples change shape, so that stores holding the old shape are
# counted afresh (it goes into the digest that is_current compares).
CELL_FORMAT = "1"

# measure -> the property that states it on a cell
MEASURES = {
    "letters": IMR.letterCount,
    "items": IMR.itemCount,
    "upheld": IMR.upheldCount,
    "overturned": IMR.overturnedCount,
}
TREATMENT_COLUMN = "treatment_concept"
LETTER_COLUMN = "letter"
_OUTCOMES = ("items", "upheld", "overturned")


@cache
def key_property(column: str) -> URIRef:
    """The property that states a key column on a cell: ``imr:by`` and the column in camel case.

    >>> key_property("age_band").n3()
    '<https://w3id.org/imr-kg/ontology#byAgeBand>'
    """
    return IMR["by" + "".join(part.capitalize() for part in column.split("_"))]


@dataclass(frozen=True)
class Aggregate:
    """One aggregate: its cell query's key columns (in order), measures, and whether it is
    split by treatment (for a named query with a ``treatment`` parameter). The cell query is
    ``queries/cells/NAME.rq``; its columns are the keys, then ``treatment_concept`` (the
    item's own treatment) if split by treatment, then ``letter`` if it also counts letters
    (see :attr:`names_letters`), then the other measures."""

    name: str
    keys: tuple[str, ...]
    measures: tuple[str, ...]
    by_treatment: bool

    @property
    def names_letters(self) -> bool:
        """Whether the cell query names each row's letter (column ``letter``) instead of
        counting letters: so it does where letters are counted by treatment. A letter whose
        items have two concepts under one broader concept counts once in that concept's slice,
        so letter counts per concept do not add up to the slice's; :func:`cells_of` counts the
        distinct letters of each slice instead."""
        return self.by_treatment and "letters" in self.measures

    @property
    def columns(self) -> list[str]:
        counted = [m for m in self.measures if not (self.names_letters and m == "letters")]
        return [
            *self.keys,
            *([TREATMENT_COLUMN] if self.by_treatment else []),
            *([LETTER_COLUMN] if self.names_letters else []),
            *counted,
        ]

    @property
    def query(self) -> str:
        return cell_query_text(self.name)


AGGREGATES: dict[str, Aggregate] = {
    a.name: a
    for a in (
        # internal totals: the denominator of denial-reasons, the letter count of is_current
        Aggregate("items", (), _OUTCOMES, by_treatment=True),
        Aggregate("letters", (), ("letters",), by_treatment=False),
        # one per named query served (queries/NAME.rq)
        Aggregate("outcomes-by-treatment-category", ("category", "subcategory"), _OUTCOMES, True),
        Aggregate("outcomes-by-treatment", ("treatment",), _OUTCOMES, False),
        Aggregate("outcomes-by-specialty", ("specialty",), _OUTCOMES, True),
        Aggregate(
            "outcomes-by-guideline", ("guideline", "edition", "chapter", "section"), _OUTCOMES, True
        ),
        Aggregate("outcomes-by-age-sex", ("age_band", "sex"), _OUTCOMES, False),
        Aggregate("outcomes-by-year", ("year",), ("letters", *_OUTCOMES), False),
        Aggregate("denial-reasons", ("reason",), ("items",), True),
        Aggregate(
            "ca-vs-imr-citations", ("ca_guideline", "imr_guideline", "same"), ("items",), False
        ),
        Aggregate(
            "treatment-guideline-citations",
            ("treatment", "guideline_id", "guideline", "edition", "chapter", "section"),
            _OUTCOMES,
            True,
        ),
        Aggregate("time-to-decision", ("category", "days"), ("letters",), False),
        Aggregate(
            "diagnoses-for-treatment",
            ("diagnosis", "icd10"),
            ("letters", "items", "overturned"),
            True,
        ),
        Aggregate(
            "co-diagnoses",
            ("diagnosis", "icd10", "other_diagnosis", "other_icd10"),
            ("letters",),
            False,
        ),
        # internal total: the letters naming each diagnosis, the weights of co-diagnoses' pairs
        Aggregate("diagnoses", ("diagnosis",), ("letters",), False),
        # internal total: the items per similarity key, from which similar-cases picks the
        # sampling level to read each key at
        Aggregate("similarity-keys", ("similarity_key",), ("items",), False),
    )
}
KEY_PROPERTIES = {
    key_property(column): column for aggregate in AGGREGATES.values() for column in aggregate.keys
}
_PROPERTY_MEASURES = {p: m for m, p in MEASURES.items()}
_MEASURE_PROPERTIES = ", ".join(p.n3() for p in MEASURES.values())


class Cell(NamedTuple):
    """One measure of one cell; a :class:`~collections.Counter` of cells maps each to its count.

    ``key`` holds the values of the aggregate's key columns, in order (None where unbound).
    ``treatment`` is the slice: None for all items, a treatment concept for the items of that
    treatment or a narrower one.
    """

    aggregate: str
    key: tuple[Literal | None, ...]
    treatment: URIRef | None
    measure: str


# (aggregate, key, slice treatment): one cell, whatever its measures
CellId = tuple[str, tuple[Literal | None, ...], URIRef | None]
Triple = tuple[URIRef, URIRef, Node]


class CellStore(Queryable, Protocol):
    """What keeping the cells needs of a store; the local store and the remote one have it."""

    def replace_graph(self, graph: rdflib.Graph) -> int: ...
    def letter_graphs(self) -> list[str]: ...
    def graph(self, iri: str) -> rdflib.Graph: ...


class Updatable(Protocol):
    """A store that runs SPARQL Update. :func:`apply` then rewrites only the cells a delta
    touches, and :func:`refresh` writes the cells in parts, instead of rewriting the whole
    aggregate graph through :meth:`CellStore.replace_graph` (one rdflib graph, which takes
    minutes and gigabytes for a few hundred thousand cells)."""

    def update(self, sparql: str) -> None: ...


def updatable(store: object) -> Updatable | None:
    """The store, if it runs SPARQL Update (a callable ``update``); None otherwise."""
    return cast(Updatable, store) if callable(getattr(store, "update", None)) else None


class BulkLoadable(Protocol):
    """A store that bulk-loads N-Quads outside a transaction (the local store)."""

    def bulk_load(self, nquads: bytes) -> None: ...


def bulk_loadable(store: object) -> BulkLoadable | None:
    """The store, if it bulk-loads (a callable ``bulk_load``); None otherwise."""
    return cast(BulkLoadable, store) if callable(getattr(store, "bulk_load", None)) else None


# ------------------------------------------------------------------ the cell queries


def cell_query_text(name: str) -> str:
    """The text of the cell query of an aggregate (``queries/cells/NAME.rq``)."""
    return _cell_query_texts()[name]


@cache
def _cell_query_texts() -> dict[str, str]:
    folder = queries_dir() / "cells"
    texts = {path.stem: parse_query_file(path).text for path in sorted(folder.glob("*.rq"))}
    if set(texts) != set(AGGREGATES):
        raise ResourceError(
            f"{folder}: the cell queries ({', '.join(sorted(texts))}) are not those of the"
            f" aggregates ({', '.join(sorted(AGGREGATES))})"
        )
    return texts


def definitions_digest() -> str:
    """A digest of the cell queries and of the cells' shape: what the cells are counted with,
    the vocabulary aside."""
    digest = hashlib.sha256(CELL_FORMAT.encode())
    for name in sorted(AGGREGATES):
        digest.update(f"\n{name}\n{cell_query_text(name)}".encode())
    return digest.hexdigest()


# ------------------------------------------------------------------------- counting


def cells_of(store: Queryable, graphs: Sequence[str]) -> Counter[Cell]:
    """The cells of the letters in the given named graphs of a store, counted afresh.

    The letters are the cell queries' named graphs and the vocabularies their default graph:
    they read letter facts inside ``GRAPH ?graph``. (Listing the letter graphs as the default
    graph instead makes Oxigraph probe every listed graph for each triple it looks up: ten
    times slower for 64 letters, and worse for more.) Each cell query keeps only the facts every
    row needs in its ``GRAPH`` block and reads each optional one in an ``OPTIONAL { GRAPH ...
    }`` of its own: an ``OPTIONAL`` inside the block followed by a vocabulary join made Oxigraph
    choose a plan quadratic in the letters (3.3 s instead of 38 ms for 64 letters).
    """
    cells: Counter[Cell] = Counter()
    if not graphs:
        return cells  # no named graphs would mean every named graph of the store
    rows: dict[str, list[tuple[Node | None, ...]]] = {}
    for aggregate in AGGREGATES.values():
        answer = store.query(
            aggregate.query, default_graphs=list(VOCABULARIES), named_graphs=list(graphs)
        )
        if not isinstance(answer, Solutions) or answer.variables != aggregate.columns:
            raise ResourceError(
                f"the cell query {aggregate.name} must answer the columns {aggregate.columns}"
            )
        rows[aggregate.name] = answer.rows
    slices = _slices(store, rows)
    for name, found in rows.items():
        aggregate = AGGREGATES[name]
        width = len(aggregate.keys)
        start = width + int(aggregate.by_treatment) + int(aggregate.names_letters)
        counted = aggregate.columns[start:]  # the measures the query counts itself
        letters: set[tuple[Cell, Node | None]] = set()  # (cell, letter) of names_letters
        for row in found:
            key = tuple(_literal(term) for term in row[:width])
            treatment = _iri(row[width]) if aggregate.by_treatment else None
            counts = row[start:]
            # Each item has one treatment (the shapes allow no more), so its own treatment's
            # count goes, once, to that concept's slice, each broader concept's, and all's.
            for scope in slices.get(treatment, (None,)):
                for measure, count in zip(counted, counts, strict=True):
                    cells[Cell(name, key, scope, measure)] += _count(count)
                if aggregate.names_letters:
                    letters.add((Cell(name, key, scope, "letters"), row[width + 1]))
        cells.update(cell for cell, _ in letters)
    return +cells  # zero counts (no upheld items in a cell) are not kept


def stored_cells(store: CellStore, graphs: Sequence[str]) -> Counter[Cell]:
    """The cells of letters a store holds, counted afresh: the local store counts them in
    place (:func:`cells_of`); the letters of any other store are fetched and counted here, on
    Oxigraph, as a build counts letters before loading them. A server's engine may answer the
    cell queries otherwise (Virtuoso 7.2 refuses outcomes-by-year's over several graphs and
    miscounts co-diagnoses'), and the cells a build subtracts must be those it added."""
    if isinstance(store, KnowledgeStore):
        return cells_of(store, graphs)
    return ScratchStore().cells(store.graph(iri) for iri in graphs)


def _slices(
    store: Queryable, rows: Mapping[str, list[tuple[Node | None, ...]]]
) -> dict[URIRef | None, tuple[URIRef | None, ...]]:
    """The slices the items of each treatment concept count in: all items', the concept's own
    and each broader concept's (``skos:broader*`` in the vocabulary)."""
    # The vocabulary's broader links, closed here rather than by a property path: some stores
    # (Virtuoso) refuse skos:broader* from a start given by VALUES.
    answer = store.query(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?concept ?broader WHERE { ?concept skos:broader ?broader }",
        default_graphs=[VOCABULARY_GRAPH],
    )
    assert isinstance(answer, Solutions)
    parents: dict[URIRef, set[URIRef]] = defaultdict(set)
    for concept, parent in answer.rows:
        if isinstance(concept, URIRef) and isinstance(parent, URIRef):
            parents[concept].add(parent)
    slices: dict[URIRef | None, tuple[URIRef | None, ...]] = {None: (None,)}
    for name, found in rows.items():
        if not AGGREGATES[name].by_treatment:
            continue
        for row in found:
            concept = _iri(row[len(AGGREGATES[name].keys)])
            if concept is None or concept in slices:
                continue
            broader = [concept]
            for scope in broader:  # grows as it goes: every broader concept, once each
                broader += sorted(p for p in parents.get(scope, ()) if p not in broader)
            slices[concept] = (None, *broader)
    return slices


class ScratchStore:
    """An in-memory store of the ontology and the vocabularies, to count the cells of letter
    graphs before they are loaded: a build worker counts its batch here, so that the process
    writing the store only adds the counts up.

    >>> from imrkg.graph import GRAPH
    >>> letter = rdflib.Graph(identifier=URIRef(GRAPH + "CM00-00001"))
    >>> _ = letter.add((URIRef(ID + "letter/CM00-00001"), RDF.type, IMR.DeterminationLetter))
    >>> ScratchStore().cells([letter])
    Counter({Cell(aggregate='letters', key=(), treatment=None, measure='letters'): 1})
    """

    def __init__(self) -> None:
        vocabularies = ox.Store()
        sources = [
            (ONTOLOGY_GRAPH, [ontology_dir() / "imr.ttl"]),
            (VOCABULARY_GRAPH, vocab_files()),
        ]
        for iri, paths in sources:
            for path in paths:
                vocabularies.load(
                    path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(iri)
                )
        # Each count gets a new store, loaded from these N-Quads: Oxigraph's in-memory store
        # keeps what is removed from it (a build worker reusing one grew by 18 MB a batch).
        self._vocabularies = vocabularies.dump(format=ox.RdfFormat.N_QUADS) or b""
        self._store = ox.Store()

    def cells(self, graphs: Iterable[rdflib.Graph]) -> Counter[Cell]:
        """The cells of these letter graphs."""
        self._fresh()
        for graph in graphs:
            self._store.extend(quads_of(graph))
        return self._count()

    def cells_of_nquads(self, nquads: bytes) -> Counter[Cell]:
        """The cells of the letter graphs in this N-Quads text (a build worker's batch, as it
        hands it over): loading it is much faster than converting rdflib graphs."""
        self._fresh()
        self._store.load(nquads, format=ox.RdfFormat.N_QUADS)
        return self._count()

    def _fresh(self) -> None:
        self._store = ox.Store()
        self._store.load(self._vocabularies, format=ox.RdfFormat.N_QUADS)

    def _count(self) -> Counter[Cell]:
        names = [
            g.value
            for g in self._store.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value not in VOCABULARIES
        ]
        try:
            return cells_of(self, names)
        finally:
            self._store = ox.Store()  # the letters' memory goes with it

    def query(
        self, sparql: str, *, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()
    ) -> Answer:
        """A SELECT query's answer (the only kind cell queries are)."""
        answer = self._store.query(
            sparql,
            default_graph=[ox.NamedNode(iri) for iri in default_graphs] or None,
            named_graphs=[ox.NamedNode(iri) for iri in named_graphs] or None,
        )
        if not isinstance(answer, ox.QuerySolutions):
            raise ResourceError("a cell query must be a SELECT query")
        variables = [v.value for v in answer.variables]
        rows = [tuple(None if s[v] is None else to_rdflib(s[v]) for v in variables) for s in answer]
        return Solutions(variables, rows)


# ------------------------------------------------------------------------ the graph


def slice_iri(aggregate: str, treatment: URIRef | None) -> URIRef:
    """The IRI of a slice of an aggregate: ``.../NAME/all`` for all items (the named queries
    name it), ``.../NAME/`` and the concept's IRI after ``vocab/`` for a treatment's items."""
    if treatment is None:
        return URIRef(f"{CELL_BASE}{aggregate}/all")
    if not treatment.startswith(VOCAB):
        raise ResourceError(f"a slice's treatment must be a vocabulary concept, not {treatment}")
    return URIRef(f"{CELL_BASE}{aggregate}/{treatment.removeprefix(VOCAB)}")


@lru_cache(maxsize=1 << 17)  # a build names the same cells batch after batch
def cell_iri(aggregate: str, key: tuple[Literal | None, ...], treatment: URIRef | None) -> URIRef:
    """The IRI of a cell: its slice's and a hash of its key, so that a cell always has it."""
    parts = [aggregate, *("" if v is None else v.n3() for v in key)]
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    return URIRef(f"{slice_iri(aggregate, treatment)}/{digest}")


def aggregate_graph(cells: Mapping[Cell, int], digest: str | None = None) -> rdflib.Graph:
    """The aggregate graph holding these cells; ``digest`` is what they were counted with
    (see :func:`is_current`). A cell is written, with every measure of its aggregate (zero
    where it has none), if any of its counts is positive."""
    graph = rdflib.Graph(identifier=URIRef(AGGREGATE_GRAPH))
    for triple in _graph_triples(cells, digest):
        graph.add(triple)
    return graph


def _graph_triples(cells: Mapping[Cell, int], digest: str | None) -> Iterator[Triple]:
    slices: set[tuple[str, URIRef | None]] = set()
    for (name, key, treatment), counts in _grouped(cells).items():
        triples = _cell_triples(name, key, treatment, counts)
        if triples and (name, treatment) not in slices:
            slices.add((name, treatment))
            yield from _slice_triples(name, treatment)
        yield from triples
    if digest is not None:
        yield URIRef(AGGREGATE_GRAPH), IMR.aggregatesSha256, Literal(digest)


def _grouped(cells: Mapping[Cell, int]) -> dict[CellId, dict[str, int]]:
    grouped: dict[CellId, dict[str, int]] = defaultdict(dict)
    for cell, count in cells.items():
        if cell.aggregate in AGGREGATES:  # cells of another version's aggregates are dropped
            grouped[cell.aggregate, cell.key, cell.treatment][cell.measure] = count
    return grouped


def _cell_triples(
    name: str, key: tuple[Literal | None, ...], treatment: URIRef | None, counts: Mapping[str, int]
) -> list[Triple]:
    """The triples of one cell; none if it counts nothing. (A negative count, which only
    subtracting cells never added could leave, counts as nothing.)"""
    aggregate = AGGREGATES[name]
    if not any(counts.get(m, 0) > 0 for m in aggregate.measures):
        return []
    cell = cell_iri(name, key, treatment)
    triples: list[Triple] = [
        (cell, RDF.type, IMR.AggregateCell),
        (cell, IMR.slice, slice_iri(name, treatment)),
    ]
    for column, value in zip(aggregate.keys, key, strict=True):
        if value is not None:  # an unbound key (a citation without an edition) is left out
            triples.append((cell, key_property(column), value))
    for measure in aggregate.measures:
        count = max(counts.get(measure, 0), 0)
        triples.append((cell, MEASURES[measure], Literal(count, datatype=XSD.integer)))
    return triples


def _slice_triples(name: str, treatment: URIRef | None) -> list[Triple]:
    """The triples of a slice: which aggregate, and which treatment (none for all items). A
    named query finds a treatment's slice by these (and the slice of all items by its IRI)."""
    node = slice_iri(name, treatment)
    triples: list[Triple] = [
        (node, RDF.type, IMR.AggregateSlice),
        (node, IMR.aggregate, Literal(name)),
    ]
    if treatment is not None:
        triples.append((node, IMR.forTreatment, treatment))
    return triples


_READ_SLICES = f"""PREFIX imr: <{IMR}>
SELECT ?slice ?aggregate ?treatment WHERE {{
  ?slice imr:aggregate ?aggregate .
  OPTIONAL {{ ?slice imr:forTreatment ?treatment }}
}}"""
_READ_CELLS = f"""PREFIX imr: <{IMR}>
SELECT ?cell ?slice ?property ?value WHERE {{ ?cell imr:slice ?slice ; ?property ?value }}"""


def read_cells(store: Queryable) -> Counter[Cell]:
    """The cells stored in the aggregate graph (positive counts only)."""
    slices: dict[Node | None, tuple[str, URIRef | None]] = {}
    answer = store.query(_READ_SLICES, default_graphs=[AGGREGATE_GRAPH])
    assert isinstance(answer, Solutions)
    for node, name, treatment in answer.rows:
        slices[node] = (str(name), _iri(treatment))
    answer = store.query(_READ_CELLS, default_graphs=[AGGREGATE_GRAPH])
    assert isinstance(answer, Solutions)
    if answer.truncated:  # Virtuoso cuts an answer at its ResultSetMaxRows, silently
        raise StoreError("the server cut the aggregate cells at its row cap: raise the cap")
    found: dict[Node | None, tuple[Node | None, dict[URIRef, Node | None]]] = {}
    for cell, node, prop, value in answer.rows:
        found.setdefault(cell, (node, {}))[1][URIRef(str(prop))] = value
    cells: Counter[Cell] = Counter()
    for node, values in found.values():
        aggregate, treatment = slices.get(node, ("", None))
        if aggregate not in AGGREGATES:
            continue  # cells of another version's aggregates are dropped
        key = tuple(_literal(values.get(key_property(c))) for c in AGGREGATES[aggregate].keys)
        for measure, prop in MEASURES.items():
            if prop in values:
                cells[Cell(aggregate, key, treatment, measure)] += _count(values[prop])
    return +cells


def _read_counts(store: Queryable, cells: Iterable[URIRef]) -> dict[URIRef, dict[str, int]]:
    """The counts of these stored cells, looked up one by one (those absent are left out)."""
    values = " ".join(cell.n3() for cell in cells)
    answer = store.query(
        f"SELECT ?cell ?property ?count WHERE {{ VALUES ?cell {{ {values} }} ?cell ?property ?count"
        f" FILTER (?property IN ({_MEASURE_PROPERTIES})) }}",
        default_graphs=[AGGREGATE_GRAPH],
    )
    assert isinstance(answer, Solutions)
    counts: dict[URIRef, dict[str, int]] = defaultdict(dict)
    for cell, prop, count in answer.rows:
        if (measure := _PROPERTY_MEASURES.get(URIRef(str(prop)))) is not None:
            counts[URIRef(str(cell))][measure] = _count(count)
    return counts


# ------------------------------------------------------------------------- keeping


def stored_digest(store: Queryable) -> str | None:
    """The digest the stored cells were counted with (None: no cells, or no digest)."""
    answer = store.query(
        f"SELECT ?d WHERE {{ <{AGGREGATE_GRAPH}> <{IMR.aggregatesSha256}> ?d }}",
        default_graphs=[AGGREGATE_GRAPH],
    )
    assert isinstance(answer, Solutions)
    return next((str(row[0]) for row in answer.rows), None)


def current_digest(store: Queryable) -> str:
    """The digest cells counted now would carry: of the store's vocabulary (the digest of its
    files that the vocabulary graph states) and of the installed cell queries."""
    vocabulary = vocabulary_digest(store) or ""
    return hashlib.sha256(f"{vocabulary}\n{definitions_digest()}".encode()).hexdigest()


def letter_graphs(store: CellStore) -> list[str]:
    """The store's letter graphs, the aggregate graph aside (whether or not the store lists it)."""
    return [g for g in store.letter_graphs() if g != AGGREGATE_GRAPH]


def is_current(store: CellStore) -> bool:
    """Whether the stored cells are those of the store's letters: counted with this vocabulary
    and these cell queries, and counting as many letters as there are letter graphs. False for
    a store built before there were cells, after a vocabulary change, and after a build that
    stopped between loading letters and adding their cells."""
    if stored_digest(store) != current_digest(store):
        return False
    answer = store.query(
        f"SELECT ?n WHERE {{ ?cell <{IMR.slice}> {slice_iri('letters', None).n3()} ;"
        f" <{IMR.letterCount}> ?n }}",
        default_graphs=[AGGREGATE_GRAPH],
    )
    assert isinstance(answer, Solutions)
    counted = sum(_count(row[0]) for row in answer.rows)
    return counted == len(letter_graphs(store))


def begin(store: CellStore) -> bool:
    """Get the cells ready for a build to keep in step: count them afresh unless they are
    current, then take their digest away until :func:`end`, so that a build that stops half-way
    (letters loaded, their cells not yet added) leaves cells that :func:`is_current` rejects.
    Returns whether it counted afresh."""
    fresh = not is_current(store)
    if fresh:
        refresh(store)
    _set_digest(store, None)
    return fresh


def end(store: CellStore) -> None:
    """Mark the cells as those of the store's letters again, once a build has applied every
    delta (see :func:`begin`)."""
    _set_digest(store, current_digest(store))


def _set_digest(store: CellStore, digest: str | None) -> None:
    graph = URIRef(AGGREGATE_GRAPH).n3()
    writer = updatable(store)
    if writer is None:
        store.replace_graph(aggregate_graph(read_cells(store), digest))
        return
    update = f"DELETE WHERE {{ GRAPH {graph} {{ {graph} <{IMR.aggregatesSha256}> ?d }} }}"
    if digest is not None:
        stamp = f"{graph} <{IMR.aggregatesSha256}> {Literal(digest).n3()}"
        update += f" ;\nINSERT DATA {{ GRAPH {graph} {{ {stamp} }} }}"
    writer.update(update)


def refresh(store: CellStore, *, batch: int = REFRESH_BATCH) -> int:
    """Count every letter's cells afresh and write them in place of the stored ones; returns the
    number of cells. Memory holds the cells and one batch of letters' rows, never the letters.

    A store that runs SPARQL Update gets the cells in parts, the digest last, so that a refresh
    stopped half-way leaves cells that :func:`is_current` rejects; any other store gets the
    aggregate graph in one write.
    """
    graphs = letter_graphs(store)
    cells: Counter[Cell] = Counter()
    for start in range(0, len(graphs), batch):
        cells.update(stored_cells(store, graphs[start : start + batch]))
    digest = current_digest(store)
    written = 0
    writer = updatable(store)
    if writer is None:
        graph = aggregate_graph(cells, digest)
        store.replace_graph(graph)
        return sum(1 for _ in graph.subjects(RDF.type, IMR.AggregateCell))
    writer.update(f"DROP SILENT GRAPH <{AGGREGATE_GRAPH}>")
    part: list[Triple] = []
    for triple in _graph_triples(cells, digest):  # the digest comes last
        part.append(triple)
        written += triple[1:] == (RDF.type, IMR.AggregateCell)
        if len(part) >= WRITE_BATCH:
            writer.update(_insert(part))
            part = []
    writer.update(_insert(part))
    return written


def difference(new: Mapping[Cell, int], old: Mapping[Cell, int]) -> Counter[Cell]:
    """``new`` minus ``old``, negative counts kept (``Counter``'s ``-`` drops them): the delta
    that replacing letters whose cells are ``old`` by letters whose cells are ``new`` makes."""
    delta = Counter(new)
    delta.subtract(old)
    return Counter({cell: n for cell, n in delta.items() if n})


def apply(store: CellStore, delta: Mapping[Cell, int], *, bulk: bool = False) -> None:
    """Add a delta (see :func:`difference`) to the stored cells, in one write. A store that
    runs SPARQL Update (:class:`Updatable`) rewrites only the cells the delta touches; any
    other store gets the whole aggregate graph rewritten. With ``bulk``, a store that
    bulk-loads (:class:`BulkLoadable`) gets the new triples that way, between two updates:
    three writes, not one, for a build whose cells are not current until it ends
    (:func:`begin`). Adding a thousand letters' cells (187k triples) in one update took 9.3 s
    in a build; the same triples took 2.6 s to insert into a fresh store, 1.4 s to bulk-load."""
    delta = {cell: n for cell, n in delta.items() if n}
    if not delta:
        return
    writer = updatable(store)
    if writer is None:
        cells = read_cells(store)
        cells.update(delta)
        store.replace_graph(aggregate_graph(cells, stored_digest(store)))
        return
    touched = {(c.aggregate, c.key, c.treatment) for c in delta}
    stored = _read_counts(store, sorted(cell_iri(*t) for t in touched))
    old = {t: stored[cell_iri(*t)] for t in touched if cell_iri(*t) in stored}
    new = {t: dict(old.get(t, {})) for t in touched}
    for cell, count in delta.items():
        counts = new[cell.aggregate, cell.key, cell.treatment]
        counts[cell.measure] = counts.get(cell.measure, 0) + count
    before = {triple for t, counts in old.items() for triple in _cell_triples(*t, counts)}
    after: set[Triple] = set()
    for (name, key, treatment), counts in new.items():
        if triples := _cell_triples(name, key, treatment, counts):
            after.update(_slice_triples(name, treatment) + triples)  # a slice there is kept
    slices = " ".join(sorted({slice_iri(name, t).n3() for name, _, t in touched}))
    # One request, so one transaction: of the touched cells, the triples that change (mostly
    # their counts), then the touched slices that no cell is left in.
    graph = URIRef(AGGREGATE_GRAPH).n3()
    deleted = f"DELETE DATA {{ GRAPH {graph} {{\n{_data(before - after)}\n}} }}"
    emptied = (
        f"DELETE {{ GRAPH {graph} {{ ?slice ?p ?o }} }} WHERE {{ GRAPH {graph} {{\n"
        f"  VALUES ?slice {{ {slices} }} ?slice ?p ?o .\n"
        f"  FILTER NOT EXISTS {{ ?cell <{IMR.slice}> ?slice }} }} }}"
    )
    loader = bulk_loadable(store) if bulk else None
    if loader is not None:
        writer.update(deleted)
        loader.bulk_load(_nquads(after - before).encode("utf-8"))
        writer.update(emptied)
        return
    writer.update(f"{deleted} ;\n{_insert(after - before)} ;\n{emptied}")


def _data(triples: Iterable[Triple]) -> str:
    return "\n".join(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in triples)


def _nquads(triples: Iterable[Triple]) -> str:
    graph = URIRef(AGGREGATE_GRAPH).n3()
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} {graph} .\n" for s, p, o in triples)


def _insert(triples: Iterable[Triple]) -> str:
    return f"INSERT DATA {{ GRAPH {URIRef(AGGREGATE_GRAPH).n3()} {{\n{_data(triples)}\n}} }}"


# --------------------------------------------------------------------------- terms


def _literal(term: Node | None) -> Literal | None:
    if term is None:
        return None
    if not isinstance(term, Literal):
        raise ResourceError(f"a cell key must be a literal, not {term!r}")
    return term


def _iri(term: Node | None) -> URIRef | None:
    if term is None:
        return None
    if not isinstance(term, URIRef):
        raise ResourceError(f"a treatment concept must be an IRI, not {term!r}")
    return term


def _count(term: Node | None) -> int:
    value = term.toPython() if isinstance(term, Literal) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ResourceError(f"a count must be an integer, not {term!r}")
    return value
