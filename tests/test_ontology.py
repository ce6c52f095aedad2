"""The OWL ontology and the JSON-LD context: complete, OWL 2 DL, consistent, and able to fail.

- Every ``imr:`` term that the ontology, the vocabularies, ``imrkg/graph.py``
  or the sample letters' graphs use is declared in ``ontology/imr.ttl`` with an
  OWL type, an ``rdfs:label`` and a ``skos:definition``.
- Every property and class those graphs use, in any namespace, has exactly one
  OWL kind, and literals and IRIs go to datatype and object properties
  respectively (what OWL 2 DL asks of RDF data).
- owlready2 loads the ontology with the vocabularies and HermiT finds them
  consistent with no unsatisfiable class; the same reasoner rejects a copy of
  the ontology with an individual in two disjoint classes, so the check can
  fail. HermiT also accepts the sample letters' graphs together with the
  ontology and vocabularies (ranges, disjointness and functional properties
  against real output), and rejects them when an item's outcome is a letter
  outcome.
- The JSON-LD context has the prefixes of :data:`imrkg.graph.PREFIXES` and a
  correctly typed term for every ``imr:`` property; a letter graph compacted
  with it reads back unchanged.

The reasoner tests need Java (HermiT runs on the JVM); they are skipped, with
that reason, when ``java`` is not on the PATH. Nothing is fetched from the
network: the files have no ``owl:imports``, and the JSON-LD context is local.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import owlready2
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, SKOS
from rdflib.term import Node

import imrkg.graph
from imrkg.graph import IMR, OA, PREFIXES, SCHEMA, letter_graph
from imrkg.resources import ontology_dir, vocab_files
from tests.conftest import EXAMPLES, sample_record

ONTOLOGY_IRI = URIRef("https://w3id.org/imr-kg/ontology")
IMR_NS = str(IMR)

# The kinds an OWL 2 DL property or class can be declared as.
PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
TERM_KINDS = (OWL.Class, *PROPERTY_KINDS, OWL.NamedIndividual)
# Annotation properties that OWL 2 has built in: they need no declaration.
BUILTIN_ANNOTATIONS = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo}
# The datatypes of the OWL 2 datatype map that the ontology and the vocabularies may use;
# HermiT refuses any other (xsd:date, xsd:gYear).
OWL2_DATATYPES = {
    RDF.PlainLiteral,
    RDF.langString,
    RDFS.Literal,
    XSD.string,
    XSD.boolean,
    XSD.decimal,
    XSD.integer,
    XSD.nonNegativeInteger,
    XSD.positiveInteger,
    XSD.double,
    XSD.float,
    XSD.anyURI,
    XSD.dateTime,
}

# rdflib's JSON-LD parser itself builds the ConjunctiveGraph that rdflib deprecates.
RDFLIB_JSONLD_DEPRECATION = "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"

requires_java = pytest.mark.skipif(
    shutil.which("java") is None,
    reason="HermiT needs a Java runtime and `java` is not on the PATH (CI installs default-jre-headless)",
)


# ---------------------------------------------------------------- loading


def _parse(paths: Iterable[Path]) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@cache
def ontology() -> Graph:
    """``ontology/imr.ttl``, parsed once."""
    return _parse([ontology_dir() / "imr.ttl"])


@cache
def vocabularies() -> Graph:
    """Every vocabulary file, parsed once into one graph."""
    return _parse(vocab_files())


@cache
def sample_letter_graphs() -> tuple[Graph, ...]:
    """The graphs of the bundled sample letters (``examples/letters/*.txt``)."""
    paths = sorted((EXAMPLES / "letters").glob("*.txt"))
    assert paths, "no sample letters in examples/letters"
    return tuple(letter_graph(sample_record(path.stem, "txt")) for path in paths)


def _letters_union() -> Graph:
    union = Graph()
    for graph in sample_letter_graphs():
        union += graph
    return union


def _graph_py_terms() -> set[URIRef]:
    """The imr: terms that imrkg/graph.py names (``IMR.x`` or ``IMR["x"]``), in every branch."""
    source = Path(imrkg.graph.__file__).read_text(encoding="utf-8")
    names = {a or b for a, b in re.findall(r"\bIMR(?:\.(\w+)|\[\"(\w+)\"\])", source)}
    return {IMR[name] for name in names}


def _imr_terms(graph: Graph) -> set[URIRef]:
    return {
        term
        for triple in graph
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(IMR_NS)
    }


def _kinds(term: Node) -> set[Node]:
    return set(ontology().objects(term, RDF.type)) & set(TERM_KINDS)


# ---------------------------------------------------------------- declarations


def test_the_ontology_header_names_version_licence_and_creators() -> None:
    """The ontology IRI carries owl:versionIRI, owl:versionInfo 0.1.0 and Dublin Core title,
    description, licence and creator, and imports nothing (so no reasoner goes online)."""
    g = ontology()
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in g
    assert g.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef(f"{ONTOLOGY_IRI}/0.1.0")
    assert g.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("0.1.0")
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.license, DCTERMS.creator):
        assert g.value(ONTOLOGY_IRI, prop) is not None, f"the ontology header lacks {prop}"
    for graph in (g, vocabularies()):
        assert not list(graph.triples((None, OWL.imports, None))), (
            "owl:imports would make reasoners fetch"
        )


def test_every_imr_term_is_declared_labelled_and_defined() -> None:
    """Every imr: term of the ontology, the vocabularies, graph.py's source and the sample
    letters' graphs has an OWL type, an rdfs:label and a skos:definition in ontology/imr.ttl."""
    terms = (
        _imr_terms(ontology())
        | _imr_terms(vocabularies())
        | _imr_terms(_letters_union())
        | _graph_py_terms()
    )
    g = ontology()
    problems = []
    for term in sorted(terms):
        missing = [
            what
            for what, ok in (
                ("an OWL type", bool(_kinds(term))),
                ("rdfs:label", g.value(term, RDFS.label) is not None),
                ("skos:definition", g.value(term, SKOS.definition) is not None),
            )
            if not ok
        ]
        if missing:
            problems.append(f"{term.n3(g.namespace_manager)}: no {', '.join(missing)}")
    assert not problems, "\n".join(problems)
    assert len(terms) > 100  # the scan found the terms, not an empty set


def test_required_classes_and_individuals_are_there() -> None:
    """The classes the data model needs exist, and the three individuals graph.py names
    have their classes: the citing parties and the letters' dcterms:type."""
    g = ontology()
    required = [
        "DeterminationLetter",
        "IMRCase",
        "InjuredWorker",
        "Injury",
        "Diagnosis",
        "ICD10Code",
        "DisputedItem",
        "Treatment",
        "DrugTreatment",
        "DeviceTreatment",
        "ProcedureTreatment",
        "TreatmentCategory",
        "BodyRegion",
        "BodyRegionMention",
        "Laterality",
        "Outcome",
        "LetterOutcome",
        "Guideline",
        "GuidelineEdition",
        "GuidelineChapter",
        "GuidelineSection",
        "GuidelineCitation",
        "CitingParty",
        "Reviewer",
        "Specialty",
        "USState",
        "UtilizationReview",
        "UtilizationReviewAction",
        "DecisionReason",
        "ReasonStatement",
        "PriorTreatment",
        "Medication",
        "PainScore",
        "Dosage",
        "PartialAuthorization",
        "ReviewedDocument",
        "LetterText",
        "GuidelineLimit",
    ]
    missing = [name for name in required if (IMR[name], RDF.type, OWL.Class) not in g]
    assert not missing, f"classes missing: {missing}"
    for party in (IMR.claimsAdministrator, IMR.imrReviewer):
        assert (party, RDF.type, IMR.CitingParty) in g
        assert (party, RDF.type, OWL.NamedIndividual) in g
    assert (IMR.FinalDetermination, RDF.type, OWL.NamedIndividual) in g
    kinds = set(g.objects(IMR.FinalDetermination, RDF.type)) - {OWL.NamedIndividual}
    assert kinds, "imr:FinalDetermination has no class"
    supers = {s for kind in kinds for s in g.transitive_objects(kind, RDFS.subClassOf)}
    assert SKOS.Concept in supers, "the letters' dcterms:type is not a skos:Concept"


def test_no_term_has_two_owl_kinds() -> None:
    """OWL 2 DL: no term of the ontology is declared as two of class, object property,
    datatype property and annotation property."""
    g = ontology()
    clashes = []
    for term in set(g.subjects(RDF.type, None)):
        kinds = set(g.objects(term, RDF.type)) & {OWL.Class, *PROPERTY_KINDS}
        if len(kinds) > 1:
            clashes.append(f"{term}: {sorted(str(k) for k in kinds)}")
    assert not clashes, "\n".join(clashes)


def _usage(graphs: Iterable[Graph]) -> tuple[dict[URIRef, set[str]], set[URIRef]]:
    """Per predicate, whether it takes IRIs and/or literals; and every class typed."""
    used: dict[URIRef, set[str]] = {}
    classes: set[URIRef] = set()
    for graph in graphs:
        for _, p, o in graph:
            if p == RDF.type:
                if isinstance(o, URIRef) and not str(o).startswith(str(OWL)):
                    classes.add(o)
                continue
            if str(p).startswith((str(RDF), str(OWL))) or p in {
                RDFS.subClassOf,
                RDFS.subPropertyOf,
                RDFS.domain,
                RDFS.range,
            }:
                continue
            used.setdefault(URIRef(str(p)), set()).add(
                "literal" if isinstance(o, Literal) else "resource"
            )
    return used, classes


def test_data_uses_every_property_as_its_owl_kind() -> None:
    """Every property and class that the vocabularies and the sample letters' graphs use, in
    any namespace (imr, PROV-O, SKOS, Dublin Core, schema.org, Web Annotation), is declared
    in the ontology; object properties take only IRIs and datatype properties only literals.
    A property that takes both must be an annotation property."""
    used, classes = _usage([vocabularies(), *sample_letter_graphs()])
    g = ontology()
    problems = []
    for prop, values in sorted(used.items()):
        if prop in BUILTIN_ANNOTATIONS:
            continue
        kinds = set(g.objects(prop, RDF.type)) & set(PROPERTY_KINDS)
        if len(kinds) != 1:
            problems.append(f"{prop}: declared as {sorted(str(k) for k in kinds) or 'nothing'}")
        elif OWL.ObjectProperty in kinds and "literal" in values:
            problems.append(f"{prop}: an object property with literal values")
        elif OWL.DatatypeProperty in kinds and "resource" in values:
            problems.append(f"{prop}: a datatype property with IRI values")
    for cls in sorted(classes):
        if (cls, RDF.type, OWL.Class) not in g:
            problems.append(f"{cls}: used as a class but not declared owl:Class")
    assert not problems, "\n".join(problems)
    # the letters really exercise each namespace the ontology aligns with
    assert {PROV.wasDerivedFrom, DCTERMS.issued, OA.hasSelector, SCHEMA.codeValue} <= set(used)


def test_only_owl2_datatypes_appear_where_a_reasoner_reads_them() -> None:
    """Ranges in the ontology and literals in the ontology and vocabularies use only datatypes
    of the OWL 2 datatype map (HermiT rejects xsd:date and xsd:gYear); date properties leave the
    range out and name xsd:date in their definition instead."""
    g = ontology()
    ranges = {
        r
        for r in g.objects(None, RDFS.range)
        if isinstance(r, URIRef) and str(r).startswith(str(XSD))
    }
    literal_types = {
        o.datatype
        for graph in (g, vocabularies())
        for o in graph.objects()
        if isinstance(o, Literal) and o.datatype
    }
    assert (ranges | literal_types) <= OWL2_DATATYPES, (ranges | literal_types) - OWL2_DATATYPES
    date_props = {
        p
        for graph in sample_letter_graphs()
        for _, p, o in graph
        if isinstance(o, Literal) and o.datatype == XSD.date and str(p).startswith(IMR_NS)
    }
    assert date_props, "the samples show no imr: date property"
    for prop in date_props:
        assert g.value(prop, RDFS.range) is None
        assert "xsd:date" in str(g.value(prop, SKOS.definition)), prop
    assert set(vocabularies().objects(None, IMR.editionYear)) <= {
        Literal(year, datatype=XSD.integer) for year in range(1990, 2031)
    }


def test_alignment_axioms() -> None:
    """The classes are aligned with PROV-O, schema.org and SKOS (every class of a vocabulary
    concept is a skos:Concept), and text evidence is a Web Annotation specific resource."""
    g = ontology()
    expected = {
        (IMR.DeterminationLetter, PROV.Entity),
        (IMR.Reviewer, PROV.Agent),
        (IMR.UtilizationReview, PROV.Activity),
        (IMR.Diagnosis, SCHEMA.MedicalCondition),
        (IMR.DrugTreatment, SCHEMA.Drug),
        (IMR.ProcedureTreatment, SCHEMA.MedicalProcedure),
        (IMR.DeviceTreatment, SCHEMA.MedicalDevice),
        (IMR.ICD10Code, SCHEMA.MedicalCode),
        (IMR.InjuredWorker, SCHEMA.Patient),
    }
    missing = [pair for pair in expected if (pair[0], RDFS.subClassOf, pair[1]) not in g]
    assert not missing, missing
    concept_classes = {
        o
        for s in vocabularies().subjects(RDF.type, SKOS.Concept)
        for o in vocabularies().objects(s, RDF.type)
        if str(o).startswith(IMR_NS)
    }
    assert len(concept_classes) >= 14
    for cls in concept_classes:
        supers = set(g.transitive_objects(cls, RDFS.subClassOf))
        assert SKOS.Concept in supers, f"{cls} is not a subclass of skos:Concept"
    assert g.value(IMR.textEvidence, RDFS.range) == OA.SpecificResource
    definition = str(g.value(IMR.textEvidence, SKOS.definition))
    assert "oa:TextPositionSelector" in definition and "oa:TextQuoteSelector" in definition
    assert "ECLI" in str(g.value(IMR.DeterminationLetter, SKOS.definition))


# ---------------------------------------------------------------- HermiT


def _to_ntriples(graph: Graph, path: Path) -> Path:
    """Write a graph as N-Triples (which owlready2 reads), without owl:imports."""
    clean = Graph()
    for triple in graph:
        if triple[1] != OWL.imports:
            clean.add(triple)
    clean.serialize(path, format="nt", encoding="utf-8")
    return path


def _owlready_world(graphs: dict[str, Graph], folder: Path) -> owlready2.World:
    """A fresh owlready2 world holding the graphs, each loaded from a local N-Triples file."""
    world = owlready2.World()
    for name, graph in graphs.items():
        path = _to_ntriples(graph, folder / f"{name}.nt")
        world.get_ontology(path.as_uri()).load()
    return world


def _unsatisfiable(world: owlready2.World) -> list[str]:
    """The classes the last reasoning found equivalent to owl:Nothing (owl:Nothing itself aside)."""
    return sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)


def _ontology_and_vocabularies() -> dict[str, Graph]:
    return {"imr": ontology(), **{path.stem: _parse([path]) for path in vocab_files()}}


@requires_java
def test_hermit_finds_the_ontology_with_the_vocabularies_consistent(tmp_path: Path) -> None:
    """owlready2 loads imr.ttl and every vocabulary; HermiT (owlready2.sync_reasoner) finds
    them consistent, and no class is inferred equivalent to owl:Nothing."""
    world = _owlready_world(_ontology_and_vocabularies(), tmp_path)
    assert world.search_one(iri=str(IMR.DisputedItem)) is not None
    concepts = list(world.sparql(f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c a <{SKOS.Concept}> }}"))
    assert concepts[0][0] > 500  # the vocabulary concepts are in
    try:
        owlready2.sync_reasoner(world, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError:
        pytest.fail("HermiT finds the ontology with the vocabularies inconsistent")
    assert _unsatisfiable(world) == []


@requires_java
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (IMR.DrugTreatment, IMR.ProcedureTreatment),
        (IMR.Diagnosis, IMR.DisputedItem),
        (IMR.Outcome, IMR.LetterOutcome),
    ],
)
def test_hermit_rejects_an_individual_of_two_disjoint_classes(
    tmp_path: Path, first: URIRef, second: URIRef
) -> None:
    """Negative control: a copy of the ontology with one individual typed with two classes
    declared disjoint is inconsistent for HermiT, so the consistency test can fail."""
    copy = Graph()
    copy += ontology()
    individual = URIRef("https://w3id.org/imr-kg/id/test/both")
    copy.add((individual, RDF.type, OWL.NamedIndividual))
    copy.add((individual, RDF.type, first))
    copy.add((individual, RDF.type, second))
    world = _owlready_world({"imr-copy": copy}, tmp_path)
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        owlready2.sync_reasoner(world, debug=0)


@requires_java
def test_hermit_reports_a_class_below_two_disjoint_classes_as_unsatisfiable(tmp_path: Path) -> None:
    """Negative control for the owl:Nothing check: a class declared below both a drug and a
    device treatment is found equivalent to owl:Nothing (the ontology stays consistent)."""
    copy = Graph()
    copy += ontology()
    impossible = URIRef("https://w3id.org/imr-kg/id/test/DrugDevice")
    copy.add((impossible, RDF.type, OWL.Class))
    copy.add((impossible, RDFS.subClassOf, IMR.DrugTreatment))
    copy.add((impossible, RDFS.subClassOf, IMR.DeviceTreatment))
    world = _owlready_world({"imr-copy": copy}, tmp_path)
    owlready2.sync_reasoner(world, debug=0)
    assert _unsatisfiable(world) == [str(impossible)]


def _hermit_consistent(graph: Graph, folder: Path) -> bool:
    """Whether HermiT (the copy owlready2 ships) finds the graph consistent.

    This asks for consistency only (``-k``): sync_reasoner would also realize every
    individual, which takes about a minute on the sample letters' thousands of nodes.
    """
    path = _to_ntriples(graph, folder / "all.nt")
    hermit = Path(owlready2.__file__).resolve().parent / "hermit"
    classpath = os.pathsep.join([str(hermit), str(hermit / "HermiT.jar")])
    command = [
        "java",
        "-Xmx2000M",
        "-cp",
        classpath,
        "org.semanticweb.HermiT.cli.CommandLine",
        "-k",
        path.as_uri(),
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if run.returncode == 0 and "is satisfiable" in run.stdout:
        return True
    if "InconsistentOntologyException" in run.stderr:
        return False
    raise AssertionError(f"HermiT failed: {run.stderr[-2000:]}")


def _reasoner_view_of_letters() -> Graph:
    """The ontology, the vocabularies and the sample letters' graphs, without xsd:date literals
    (outside the OWL 2 datatype map; SHACL checks dates)."""
    graph = Graph()
    graph += ontology()
    graph += vocabularies()
    for letter in sample_letter_graphs():
        for triple in letter:
            if isinstance(triple[2], Literal) and triple[2].datatype == XSD.date:
                continue
            graph.add(triple)
    return graph


@requires_java
def test_hermit_accepts_the_sample_letters_and_rejects_a_wrong_outcome(tmp_path: Path) -> None:
    """The sample letters' graphs agree with the ontology's domains, ranges, disjointness,
    functional properties and datatypes (HermiT finds ontology, vocabularies and letters
    consistent); giving an item a letter outcome instead of an item outcome makes them
    inconsistent, since imr:outcome ranges over imr:Outcome, disjoint from imr:LetterOutcome."""
    graph = _reasoner_view_of_letters()
    assert _hermit_consistent(graph, tmp_path)
    item = next(iter(graph.subjects(RDF.type, IMR.DisputedItem)))
    graph.add((item, IMR.outcome, URIRef("https://w3id.org/imr-kg/vocab/outcome/letter-upheld")))
    assert not _hermit_consistent(graph, tmp_path)


# ---------------------------------------------------------------- JSON-LD context


def _context() -> dict[str, Any]:
    data = json.loads((ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))
    context = data["@context"]
    assert isinstance(context, dict)
    return context


def _terms(context: dict[str, Any]) -> dict[str, str | None]:
    """The context's terms (prefixes aside): compact IRI -> type coercion (None if none)."""
    terms: dict[str, str | None] = {}
    for key, value in context.items():
        if key.startswith("@") or key in PREFIXES:
            continue
        if isinstance(value, str):
            terms[value] = None
        else:
            terms[value["@id"]] = value.get("@type")
    return terms


def _expected_coercion(prop: URIRef, date_props: set[URIRef]) -> str | None:
    g = ontology()
    if (prop, RDF.type, OWL.ObjectProperty) in g:
        return "@id"
    if prop in date_props:
        return "xsd:date"
    rng = g.value(prop, RDFS.range)
    if rng in (XSD.integer, XSD.decimal, XSD.boolean):
        return f"xsd:{str(rng).split('#')[1]}"
    return None


def test_the_context_has_the_prefixes_and_a_typed_term_for_every_imr_property() -> None:
    """context.jsonld declares graph.py's prefixes, and a term for every imr: property
    of the ontology; each term that graph.py uses is coerced to what its values are (@id for
    object properties, xsd:date for dates, the xsd type of integer, decimal and boolean ranges)."""
    context = _context()
    for prefix, iri in PREFIXES.items():
        assert context.get(prefix) == iri, prefix
    g = ontology()
    date_props = {
        URIRef(str(p))
        for graph in sample_letter_graphs()
        for _, p, o in graph
        if isinstance(o, Literal) and o.datatype == XSD.date
    }
    terms = _terms(context)
    graph_py = _graph_py_terms()
    problems = []
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in sorted(URIRef(str(p)) for p in g.subjects(RDF.type, kind)):
            if not prop.startswith(IMR_NS):
                continue
            compact = f"imr:{prop[len(IMR_NS) :]}"
            if compact not in terms:
                problems.append(f"{compact}: no term")
                continue
            expected = _expected_coercion(prop, date_props)
            if prop in graph_py and terms[compact] != expected:
                problems.append(f"{compact}: @type {terms[compact]}, expected {expected}")
    assert not problems, "\n".join(problems)


@pytest.mark.filterwarnings(RDFLIB_JSONLD_DEPRECATION)
def test_a_letter_compacted_with_the_context_reads_back_unchanged() -> None:
    """Every sample letter's graph, serialized as JSON-LD compacted with the shipped context
    (given inline, nothing fetched), parses back to the same graph, dates and numbers included."""
    context = _context()
    for graph in sample_letter_graphs():
        text = graph.serialize(format="json-ld", context=context)
        data = json.loads(text)
        assert isinstance(data["@context"], dict)
        back = rdflib.Graph().parse(data=text, format="json-ld")
        assert isomorphic(back, graph), graph.identifier
