"""Hand the graph to other RDF tools: the store's letters as Turtle, TriG,
N-Quads, N-Triples or JSON-LD.

TriG, N-Quads and JSON-LD keep each letter in its named graph; Turtle and
N-Triples, which have no named graphs, hold the union of the letters' triples.
JSON-LD is compacted with the context that ships with imr-kg
(``ontology/context.jsonld``), given to the serializer as data: no remote
context is ever fetched.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import IO

import pyoxigraph as ox
import rdflib

from imrkg.errors import ImrKgError
from imrkg.graph import GRAPH, PREFIXES
from imrkg.results import jsonld_context
from imrkg.store import ONTOLOGY_GRAPH, VOCABULARY_GRAPH, KnowledgeStore, to_rdflib

FORMATS: dict[str, ox.RdfFormat | None] = {
    "turtle": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": None,
}
DATASET_FORMATS = {"trig", "nquads", "jsonld"}


def select_graphs(
    store: KnowledgeStore, cases: Iterable[str] = (), with_vocabulary: bool = False
) -> list[str]:
    """The named graphs to export: every letter's, or those of the given case numbers."""
    letters = store.letter_graphs()
    wanted = [GRAPH + case for case in cases]
    missing = [iri[len(GRAPH) :] for iri in wanted if iri not in set(letters)]
    if missing:
        raise ImrKgError(f"no letter in the store for case {', '.join(missing)}")
    graphs = wanted or letters
    if with_vocabulary:
        graphs = [*graphs, ONTOLOGY_GRAPH, VOCABULARY_GRAPH]
    return graphs


def export(store: KnowledgeStore, fmt: str, output: IO[bytes], graphs: list[str]) -> int:
    """Write the graphs in a format; returns how many quads were read from the store."""
    if fmt not in FORMATS:
        raise ImrKgError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    quads = list(store.quads(graphs))
    target = FORMATS[fmt]
    if target is None:
        dataset = rdflib.Dataset()
        for quad in quads:
            name = quad.graph_name
            graph = (
                dataset.graph(rdflib.URIRef(name.value))
                if isinstance(name, ox.NamedNode)
                else dataset.default_graph
            )
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
        with warnings.catch_warnings():
            # rdflib's JSON-LD writer calls its own deprecated Dataset.contexts()
            warnings.simplefilter("ignore", DeprecationWarning)
            text = dataset.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
        output.write(text.encode("utf-8"))
    elif fmt in DATASET_FORMATS:
        ox.serialize(quads, output, target, prefixes=PREFIXES)
    else:
        triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
        ox.serialize(sorted(triples, key=str), output, target, prefixes=PREFIXES)
    return len(quads)
