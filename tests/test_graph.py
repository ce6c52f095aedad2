"""Letter records as RDF: the golden graph, deterministic IRIs, provenance and spans."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
import rdflib
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import PROV, RDF, XSD

from imrkg.graph import GRAPH, IMR, OA, letter_graph, letter_key
from imrkg.loader.extract import extract_letter
from tests.conftest import CASES, EXAMPLES, SAMPLE_NAMES

GOLDEN = CASES / "golden" / "header-lumbar-partial.ttl"


def _decimals_canonical(graph: rdflib.Graph) -> rdflib.Graph:
    """The graph with xsd:decimal literals in their shortest form: Turtle writes 2 as 2.0."""
    out = rdflib.Graph()
    for s, p, o in graph:
        if isinstance(o, rdflib.Literal) and o.datatype == XSD.decimal:
            o = rdflib.Literal(format(Decimal(str(o)).normalize(), "f"), datatype=XSD.decimal)
        out.add((s, p, o))
    return out


def test_golden_graph() -> None:
    """The sample letter maps to the golden graph, triple for triple (set IMRKG_UPDATE_GOLDEN=1
    to rewrite the golden file after an intended change, and review the diff)."""
    graph = letter_graph(extract_letter(EXAMPLES / "letters" / "header-lumbar-partial.txt"))
    if os.environ.get("IMRKG_UPDATE_GOLDEN"):
        graph.serialize(GOLDEN, format="turtle")
    golden = _decimals_canonical(rdflib.Graph().parse(GOLDEN, format="turtle"))
    if not isomorphic(graph, golden):
        _, only_new, only_golden = graph_diff(to_isomorphic(graph), to_isomorphic(golden))
        pytest.fail(
            f"{len(only_new)} triples not in the golden graph, {len(only_golden)} missing, e.g. "
            f"{sorted(only_new)[:3]} / {sorted(only_golden)[:3]}"
        )


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_mapping_is_deterministic(name: str) -> None:
    first = letter_graph(extract_letter(EXAMPLES / "letters" / f"{name}.txt"))
    second = letter_graph(extract_letter(EXAMPLES / "letters" / f"{name}.txt"))
    assert first.identifier == second.identifier
    assert set(first) == set(second)
    assert not any(isinstance(t, rdflib.BNode) for triple in first for t in triple)


def test_graph_names() -> None:
    with_case = extract_letter(EXAMPLES / "letters" / "header-lumbar-partial.pdf")
    assert letter_graph(with_case).identifier == rdflib.URIRef(GRAPH + "CM17-0029641")
    text = extract_letter(EXAMPLES / "letters" / "headerless-opioids.txt")
    pdf = extract_letter(EXAMPLES / "letters" / "headerless-opioids.pdf")
    assert letter_key(text).startswith("sha256-")
    assert letter_key(text) == letter_key(pdf)  # the same letter, from its text or its PDF


def test_every_fact_comes_from_its_letter() -> None:
    graph = letter_graph(extract_letter(EXAMPLES / "letters" / "header-multimodality.pdf"))
    letter = rdflib.URIRef("https://w3id.org/imr-kg/id/letter/CM16-0251873")
    for cls in (
        IMR.DisputedItem,
        IMR.Diagnosis,
        IMR.GuidelineCitation,
        IMR.ReasonStatement,
        IMR.IMRCase,
    ):
        nodes = set(graph.subjects(RDF.type, cls))
        assert nodes, cls
        assert all((node, PROV.wasDerivedFrom, letter) in graph for node in nodes), cls
    (extraction,) = graph.subjects(RDF.type, IMR.Extraction)
    assert (graph.identifier, PROV.wasGeneratedBy, extraction) in graph
    assert (extraction, PROV.used, letter) in graph


def test_spans_quote_the_letter() -> None:
    record = extract_letter(EXAMPLES / "letters" / "header-multimodality.pdf")
    graph = letter_graph(record)
    spans = set(graph.subjects(RDF.type, OA.SpecificResource))
    fields = {str(graph.value(span, IMR.evidenceField)) for span in spans}
    assert {"diagnosis", "item", "outcome", "citation", "reason"} <= fields
    for span in spans:
        position, quote = sorted(graph.objects(span, OA.hasSelector), key=str)
        start, end = int(graph.value(position, OA.start)), int(graph.value(position, OA.end))
        assert str(graph.value(quote, OA.exact)) == record.text[start:end]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_nquads_are_the_graph(name: str) -> None:
    """A build writes a letter's own N-Quads, not rdflib's: read back by Oxigraph they are
    the letter's graph, quad for quad, quotes, line breaks and all."""
    import pyoxigraph as ox

    from imrkg.graph import letter_triples
    from imrkg.store import quads_of

    record = extract_letter(EXAMPLES / "letters" / f"{name}.txt")
    record.items[0].rationale = 'a "quoted" word\\ and a line\nbreak\r, café \u2014 done'
    triples = letter_triples(record)
    written = set(ox.parse(triples.nquads(), format=ox.RdfFormat.N_QUADS))
    assert written == set(quads_of(triples.graph()))
    assert written == set(quads_of(letter_graph(record)))
    assert triples.nquads() == letter_triples(record).nquads()  # the same bytes every time
