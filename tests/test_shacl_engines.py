"""The two SHACL engines of :mod:`imrkg.validate` report the same results.

The oxigraph engine (the shapes compiled to SPARQL, :mod:`imrkg.shacl_sparql`)
replaces pySHACL as the default only because it reports what pySHACL reports:
the same results, each (letter, focus node, path, message, severity, value,
source shape), in the same order, and the same verdict. Compared here on

- the sample letters (text and PDF) and synthetic letters from :mod:`imrkg.synth`;
- the real letters of ``../shared/corpus``, where present;
- the shape fixtures (``tests/cases/shapes``: one broken letter per shape);
- mutated letters: for every shape that reports, ``valid-minimal`` broken in
  the ways its constraints forbid (values removed, added, replaced by a literal
  of the wrong datatype, an IRI, a string that does not match, a number out of
  range...), with a bar on how many shapes the mutations reach.

The oxigraph engine reads the shape fixtures twice, as rdflib graphs and as a
build hands letters over (:class:`imrkg.graph.LetterTriples`, loaded from their
N-Quads), with the same results.

Where pySHACL departs from SHACL (it orders values that SPARQL cannot compare,
its ``$`` matches before a final newline, rdflib cannot read years before 1),
the oxigraph engine follows SHACL: :func:`test_where_pyshacl_departs_from_shacl`
pins each such case, so that no other difference can hide among them. The
mutations stay off those cases, except where pySHACL fails outright.

Letters are validated in batches, as a build does: the mutants of
``valid-minimal`` are told apart by rewriting its key in their IRIs.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from imrkg.errors import LetterError
from imrkg.graph import GRAPH, LetterTriples, letter_graph
from imrkg.loader.extract import extract_letter
from imrkg.shacl_sparql import UnsupportedShapeError, compile_shapes
from imrkg.synth import iter_letters
from imrkg.typeset import parse_source, render_text
from imrkg.validate import (
    NamedTriples,
    Result,
    ValidationReport,
    shapes_graph,
    validate,
    validate_letters,
)
from tests.conftest import CASES, SAMPLE_NAMES, SHARED, requires_shared, sample_record

SHAPE_CASES = CASES / "shapes"
BASE_KEY = "CM17-0000001"  # the letter key of valid-minimal
SYNTH_LETTERS = 24
MUTANTS_A_BATCH = 48
# The share of the shapes that report which the mutations must make report.
COVERAGE_BAR = 0.95


# ---------------------------------------------------------------- comparing


def _explain(ours: Sequence[Result], theirs: Sequence[Result]) -> str:
    only_ours = Counter(ours) - Counter(theirs)
    only_theirs = Counter(theirs) - Counter(ours)
    lines = [f"only oxigraph: {r}" for r in sorted(only_ours, key=str)[:10]]
    lines += [f"only pySHACL: {r}" for r in sorted(only_theirs, key=str)[:10]]
    return "\n".join(lines) or "same results, in another order"


def assert_same(graphs: Sequence[NamedTriples]) -> dict[URIRef, ValidationReport]:
    """Validate the graphs as one batch with both engines; the reports must be the same."""
    ours = validate_letters(graphs, engine="oxigraph")
    theirs = validate_letters(graphs, engine="pyshacl")
    assert ours.keys() == theirs.keys()
    for name, report in ours.items():
        assert report.results == theirs[name].results, _explain(
            report.results, theirs[name].results
        )
        assert report.conforms == theirs[name].conforms, name
    return ours


def test_one_graph_and_a_dataset() -> None:
    """validate() on one graph and on a dataset of graphs: the same report from both."""
    graphs = [letter_graph(sample_record(name, "txt")) for name in SAMPLE_NAMES[:3]]
    dataset = rdflib.Dataset()
    for graph in graphs:
        dataset.graph(graph.identifier).__iadd__(graph)
    broken = Graph(identifier=graphs[0].identifier) + graphs[0]
    broken.remove((None, URIRef("https://w3id.org/imr-kg/ontology#letterOutcome"), None))
    for data in (graphs[0], dataset, broken):
        ours, theirs = validate(data, engine="oxigraph"), validate(data, engine="pyshacl")
        assert ours.results == theirs.results, _explain(ours.results, theirs.results)
        assert ours.conforms == theirs.conforms
    assert not validate(broken, engine="oxigraph").conforms
    with pytest.raises(ValueError, match="unknown validation engine"):
        validate(broken, engine="jena")  # type: ignore[arg-type]


def test_validate_command_engines() -> None:
    """imrkg validate --engine: the same JSON report from both engines, oxigraph by default."""
    data = str(SHAPE_CASES / "case-application-before-assigned" / "data.ttl")
    runs = {
        engine: subprocess.run(
            [sys.executable, "-m", "imrkg", "validate", *flags, "--format", "json", data],
            capture_output=True,
            text=True,
        )
        for engine, flags in (("default", []), ("pyshacl", ["--engine", "pyshacl"]))
    }
    assert {run.returncode for run in runs.values()} == {1}, runs["default"].stderr
    assert json.loads(runs["default"].stdout) == json.loads(runs["pyshacl"].stdout)
    assert json.loads(runs["default"].stdout)["results"]


# ---------------------------------------------------------------- real graphs


@pytest.mark.parametrize("suffix", ["txt", "pdf"])
def test_sample_letters(suffix: str) -> None:
    """The sample letters, read from their text or their PDFs."""
    assert_same([letter_graph(sample_record(name, suffix)) for name in SAMPLE_NAMES])


def test_synthetic_letters(tmp_path: Path) -> None:
    """Synthetic letters, written out as text and read back as the pipeline reads them."""
    graphs = []
    for name, source, _ in iter_letters(SYNTH_LETTERS, seed=20240611):
        path = tmp_path / f"{name}.txt"
        path.write_text(render_text(parse_source(source, name)), encoding="utf-8")
        graphs.append(letter_graph(extract_letter(path)))
    assert_same(graphs)


@requires_shared
def test_real_letters() -> None:
    """Real letters of the shared corpus: the text letters and PDFs, 64 letters (a
    build's batch; all 120-odd would double this test's time)."""
    corpus = SHARED / "corpus"
    paths = sorted((corpus / "letters").glob("*.txt")) + sorted((corpus / "pdfs").glob("*.pdf"))
    graphs: dict[str, Graph] = {}
    for path in paths:
        try:
            graph = letter_graph(extract_letter(path))
        except LetterError:
            continue
        graphs.setdefault(str(graph.identifier), graph)  # a letter's text and PDF: once
        if len(graphs) == 64:
            break
    assert len(graphs) == 64
    assert_same(list(graphs.values()))


# ---------------------------------------------------------------- broken graphs


def _base() -> Graph:
    return Graph().parse(SHAPE_CASES / "valid-minimal" / "data.ttl", format="turtle")


def _shared_subjects(graph: Graph) -> set[Node]:
    """Nodes of valid-minimal that other letters share (organizations, codes, sections)."""
    return {s for s in graph.subjects() if f"/{BASE_KEY}" not in str(s)}


def _rekeyed(graph: Graph, key: str) -> Graph:
    """The graph with the letter key in its IRIs replaced, named by the new key's graph."""
    old, new = f"/{BASE_KEY}", f"/{key}"

    def term(t: Node) -> Node:
        return URIRef(str(t).replace(old, new)) if isinstance(t, URIRef) and old in t else t

    out = Graph(identifier=URIRef(GRAPH + key))
    out.addN((term(s), term(p), term(o), out) for s, p, o in graph)
    return out


def _letter_triples(graph: Graph) -> LetterTriples:
    triples = LetterTriples(URIRef(str(graph.identifier)))
    triples.update(graph)  # type: ignore[arg-type]
    return triples


@dataclass
class Broken:
    """A broken variant of valid-minimal, and what was done to it."""

    name: str
    graph: Graph
    shared: bool  # it changes a node that other letters share: validated alone


def _validate_broken(
    cases: Sequence[Broken], *, as_built: bool = False
) -> tuple[dict[str, set[Node]], list[str]]:
    """Compare the engines on the cases, batched (a case that changes a shared node
    alone), and with ``as_built`` the oxigraph engine on the cases as LetterTriples;
    the shapes each case made report, and the cases pySHACL failed on."""
    reached: dict[str, set[Node]] = {}
    failed: list[str] = []

    def run(group: Sequence[Broken]) -> None:
        graphs = [_rekeyed(c.graph, f"{BASE_KEY}-m{i}") for i, c in enumerate(group)]
        try:
            theirs = validate_letters(graphs, engine="pyshacl")
        except Exception as exc:
            if len(group) == 1:
                failed.append(f"{group[0].name}: {type(exc).__name__}: {exc}")
                ours = validate_letters(graphs, engine="oxigraph")
                assert not next(iter(ours.values())).conforms, group[0].name
                return
            half = len(group) // 2
            run(group[:half])
            run(group[half:])
            return
        ours = validate_letters(graphs, engine="oxigraph")
        if as_built:  # as a build hands them over: LetterTriples, loaded from their N-Quads
            written = validate_letters([_letter_triples(g) for g in graphs], engine="oxigraph")
            assert {n: r.results for n, r in written.items()} == {
                n: r.results for n, r in ours.items()
            }
        for case, graph in zip(group, graphs, strict=True):
            name = URIRef(str(graph.identifier))
            a, b = ours[name], theirs[name]
            assert a.results == b.results, f"{case.name}\n{_explain(a.results, b.results)}"
            assert a.conforms == b.conforms, case.name
            reached[case.name] = {URIRef(r.shape) for r in a.results if r.shape}

    alone = [c for c in cases if c.shared]
    together = [c for c in cases if not c.shared]
    for start in range(0, len(together), MUTANTS_A_BATCH):
        run(together[start : start + MUTANTS_A_BATCH])
    for case in alone:
        run([case])
    return reached, failed


def test_shape_fixtures() -> None:
    """Every fixture of tests/cases/shapes (valid-minimal with one change), and each
    still reports its own message."""
    base = _base()
    cases = []
    expected = {}
    for folder in sorted(p for p in SHAPE_CASES.iterdir() if p.is_dir()):
        graph = Graph().parse(folder / "data.ttl", format="turtle")
        changed = {s for s, _, _ in (set(graph) ^ set(base))}
        # a change to a shared node, or one that names a node without the letter's key
        alone = any(f"/{BASE_KEY}" not in str(s) for s in changed)
        cases.append(Broken(folder.name, graph, alone))
        expected[folder.name] = (folder / "message.txt").read_text(encoding="utf-8").strip()
    messages = {str(s): str(m) for s, m in shapes_graph().subject_objects(SH.message)}
    reached, failed = _validate_broken(cases, as_built=True)
    assert not failed
    for name, shapes in reached.items():
        if expected[name]:
            assert expected[name] in {messages[str(s)] for s in shapes}, name
        else:
            assert not shapes, name


# ---- mutations


_MUTANT_IRI = URIRef("https://w3id.org/imr-kg/id/mutant/value")
_NOT_A_VALUE = Literal("not a valid value")


def _another(value: Node) -> Node:
    """A value like ``value`` and different from it."""
    if isinstance(value, Literal):
        python = value.toPython()
        if isinstance(python, bool) or value.datatype in (None, XSD.string):
            return Literal(f"{value} (another)", lang=value.language, datatype=value.datatype)
        if isinstance(python, int | Decimal):
            return Literal(python + 1, datatype=value.datatype)
        if isinstance(python, dt.date):
            return Literal(python + dt.timedelta(days=1), datatype=value.datatype)
        return Literal(f"{value}9", datatype=value.datatype)
    return URIRef(f"{value}-another")


def _steps(shapes: Graph, path: Node) -> list[URIRef]:
    steps = [path] if isinstance(path, URIRef) else list(Collection(shapes, path))
    assert all(isinstance(s, URIRef) for s in steps), path  # the shipped shapes' paths
    return [URIRef(s) for s in steps]


def _site(graph: Graph, focus: Node, steps: list[URIRef]) -> tuple[Node, URIRef] | None:
    """Where the values of a path from the focus node sit: (subject, last step)."""
    node = focus
    for step in steps[:-1]:
        following = sorted(graph.objects(node, step), key=str)
        if not following:
            return None
        node = following[0]
    return node, steps[-1]


def _values(graph: Graph, focus: Node, shapes: Graph, path: Node) -> list[Node]:
    site = _site(graph, focus, _steps(shapes, path))
    return list(graph.objects(*site)) if site else []


Change = tuple[frozenset[tuple[Node, Node, Node]], frozenset[tuple[Node, Node, Node]]]


def _replace(graph: Graph, site: tuple[Node, URIRef], value: Node) -> Change:
    subject, predicate = site
    removed = frozenset((subject, predicate, o) for o in graph.objects(subject, predicate))
    return removed, frozenset({(subject, predicate, value)})


_BOUNDS = {SH.minInclusive: -1, SH.maxInclusive: 1, SH.minExclusive: 0}


def _compared(shapes: Graph) -> set[tuple[Node, Node]]:
    """(class, property) pairs whose values a shape targeting the class compares, by
    a range or sh:lessThanOrEquals. An ill-typed literal there is a case where
    pySHACL departs from SHACL (it orders what cannot be compared), pinned below."""
    found = set()
    for shape in shapes.subjects(SH.targetClass, None):
        path = shapes.value(shape, SH.path)
        if path is None or not ({*_BOUNDS, SH.lessThanOrEquals} & set(shapes.predicates(shape))):
            continue
        for cls in shapes.objects(shape, SH.targetClass):
            found.add((cls, path))
            found |= {(cls, other) for other in shapes.objects(shape, SH.lessThanOrEquals)}
    return found


def _value_changes(
    shapes: Graph, graph: Graph, shape: Node, focus: Node, path: Node, compared: bool
) -> Iterator[tuple[str, Change]]:
    """The mutations of a property shape's values on one focus node, those that its
    constraints forbid."""
    asks = {p for p, _ in shapes.predicate_objects(shape)}
    typed = asks & {SH.datatype, SH["class"], SH["in"], SH["or"], SH.lessThanOrEquals, *_BOUNDS}
    steps = _steps(shapes, path)
    first = frozenset((focus, steps[0], o) for o in graph.objects(focus, steps[0]))
    if first and asks & {SH.minCount, SH.hasValue}:
        yield "remove", (first, frozenset())
    site = _site(graph, focus, steps)
    if site is None:
        return
    values = sorted(graph.objects(*site), key=str)
    example = values[0] if values else _NOT_A_VALUE
    if asks & {SH.maxCount, SH.hasValue}:
        yield "extra", (frozenset(), frozenset({(*site, _another(example))}))
    if asks & {SH["class"], SH["in"], SH["or"], SH.pattern, SH.minLength}:
        yield "iri", _replace(graph, site, _MUTANT_IRI)
    is_string = isinstance(example, Literal) and example.datatype in (None, XSD.string)
    if typed:
        yield "wrong-datatype", _replace(graph, site, Literal(7) if is_string else _NOT_A_VALUE)
    if SH.pattern in asks:
        yield "not-matching", _replace(graph, site, Literal("does not match"))
    for datatype in shapes.objects(shape, SH.datatype):
        if datatype != XSD.string and not compared:
            yield "ill-typed", _replace(graph, site, Literal("2023-02-30x", datatype=datatype))
    kind = type(example.toPython()) if isinstance(example, Literal) else int
    number = Decimal if kind is Decimal else int
    for bound, delta in _BOUNDS.items():
        for limit in shapes.objects(shape, bound):
            assert isinstance(limit, Literal)
            value = number(limit.toPython()) + delta
            datatype = example.datatype if isinstance(example, Literal) else None
            yield (
                f"out-of-range-{bound.rsplit('#')[-1]}",
                _replace(graph, site, Literal(value, datatype=datatype)),
            )
    for length in shapes.objects(shape, SH.minLength):
        yield "too-short", _replace(graph, site, Literal(""))
        del length
    for other in shapes.objects(shape, SH.lessThanOrEquals):
        greatest = max(graph.objects(site[0], other), key=lambda o: o.toPython(), default=None)
        if isinstance(greatest, Literal):
            yield "greater", _replace(graph, site, _another(greatest))


def _operands(shapes: Graph, shape: Node) -> Iterator[Node]:
    """The shapes a shape uses (sh:or, sh:and, sh:xone, sh:not, sh:node, sh:property), deep."""
    for predicate in (SH["or"], SH["and"], SH.xone):
        for members in shapes.objects(shape, predicate):
            for member in Collection(shapes, members):
                yield member
                yield from _operands(shapes, member)
    for predicate in (SH["not"], SH.node, SH.property):
        for member in shapes.objects(shape, predicate):
            yield member
            yield from _operands(shapes, member)


def _operand_changes(
    shapes: Graph, graph: Graph, shape: Node, focus: Node
) -> Iterator[tuple[str, Change]]:
    """Mutations that flip the operands of a shape's sh:or / sh:not: each value an
    operand's sh:hasValue asks for, dates put out of order, a value that is not a date."""
    for operand in _operands(shapes, shape):
        path = shapes.value(operand, SH.path)
        if path is None:
            continue
        site = _site(graph, focus, _steps(shapes, path))
        if site is None:
            continue
        for constant in shapes.objects(operand, SH.hasValue):
            yield f"set-{str(constant).rsplit('/')[-1]}", _replace(graph, site, constant)
        for other in shapes.objects(operand, SH.lessThanOrEquals):
            later = graph.value(focus, other)
            if later is not None:
                yield "out-of-order", _replace(graph, site, _another(later))
        for negated in shapes.objects(operand, SH["not"]):
            if shapes.value(negated, SH.datatype) is not None:
                yield "not-a-date", _replace(graph, site, _NOT_A_VALUE)


def _mutants() -> list[Broken]:
    """Every reporting shape's mutations, on a focus node of each class it targets
    in valid-minimal (the first with values on the shape's path); the same change
    asked by two shapes is made once."""
    shapes, base = shapes_graph(), _base()
    shared = _shared_subjects(base)
    compared = _compared(shapes)
    changes: dict[Change, str] = {}
    for shape in sorted(set(shapes.subjects(SH.targetClass, None)), key=str):
        for cls in sorted(shapes.objects(shape, SH.targetClass), key=str):
            path = shapes.value(shape, SH.path)
            instances = sorted(base.subjects(RDF.type, cls), key=str)
            with_values = [i for i in instances if path is None or _values(base, i, shapes, path)]
            focus = (with_values or instances or [None])[0]
            if focus is None:
                continue
            label = f"{str(shape).rsplit('#')[-1]} on {str(focus).rsplit('/', 2)[-2:]}"
            found: list[tuple[str, Change]] = []
            if path is not None:
                found += _value_changes(shapes, base, shape, focus, path, (cls, path) in compared)
            else:
                if (shape, SH.pattern, None) in shapes:
                    renamed = URIRef(f"urn:x-mutant:{len(changes)}")
                    removed = frozenset(t for t in base if focus in (t[0], t[2]))
                    added = frozenset(
                        tuple(renamed if x == focus else x for x in t) for t in removed
                    )
                    found.append(("renamed", (removed, added)))  # type: ignore[arg-type]
                found += _operand_changes(shapes, base, shape, focus)
            for kind, change in found:
                if change[0] != change[1]:
                    changes.setdefault(change, f"{label}: {kind} ({len(changes)})")
    mutants = []
    for (removed, added), name in changes.items():
        graph = Graph()
        graph += (t for t in base if t not in removed)
        graph += added
        touched = {s for s, _, _ in removed | added} | {o for _, _, o in removed}
        mutants.append(Broken(name, graph, bool(touched & shared)))
    return mutants


def test_mutations() -> None:
    """valid-minimal broken every way the shapes forbid: the engines agree on every
    mutant, and the mutants make nearly every shape that reports report."""
    mutants = _mutants()
    reached, failed = _validate_broken(mutants)
    reporting = {c.shape for c in compile_shapes(shapes_graph()).checks}
    hit = set().union(*reached.values()) & reporting
    missed = sorted(str(s).rsplit("#")[-1] for s in reporting - hit)
    print(
        f"\n{len(mutants)} mutants ({sum(m.shared for m in mutants)} alone), "
        f"{len(reached)} compared, {len(failed)} pySHACL could not validate; "
        f"{len(hit)} of {len(reporting)} shapes reached; not reached: {missed}"
    )
    assert len(mutants) >= 300
    assert len(hit) >= COVERAGE_BAR * len(reporting), missed
    # pySHACL fails only where it compares a value it cannot read (an ill-typed date
    # with sh:lessThanOrEquals: a TypeError, or a DeprecationWarning that pytest's
    # settings make an error); the oxigraph engine reports the value.
    assert all(
        "not supported between instances of 'Literal'" in f
        or "NotImplemented should not be used in a boolean context" in f
        for f in failed
    ), failed
    assert len(failed) <= len(mutants) // 20, failed


# ---------------------------------------------------------------- where the engines differ

_PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
_EDGE_VALUES = [
    "5",
    '"2023-01-05"^^xsd:date',
    "true",
    '"abc"^^xsd:integer',
    '"abc"^^xsd:decimal',
    '"1.50"^^xsd:decimal',
    '"10.0"^^xsd:decimal',
    '"5"^^xsd:int',
    '"male\\n"',
    '"male"',
    '"male"^^xsd:string',
    '"x"@en',
    "ex:a",
    "ex:k2",
    "[]",
    '"-0001-01-01"^^xsd:date',
    "99999999999999999999999",
    '"5"^^ex:custom',
]
_EDGE_CONSTRAINTS = {
    "datatype-integer": "sh:datatype xsd:integer",
    "datatype-decimal": "sh:datatype xsd:decimal",
    "datatype-date": "sh:datatype xsd:date",
    "datatype-string": "sh:datatype xsd:string",
    "datatype-langString": "sh:datatype rdf:langString",
    "class": "sh:class ex:K",
    "nodeKind-IRI": "sh:nodeKind sh:IRI",
    "minInclusive-1": "sh:minInclusive 1",
    "maxInclusive-date": 'sh:maxInclusive "2030-01-01"^^xsd:date',
    "minExclusive-0.5": "sh:minExclusive 0.5",
    "maxLength-3": "sh:maxLength 3",
    "minLength-2": "sh:minLength 2",
    "pattern-sex": 'sh:pattern "^(female|male)$"',
    "pattern-digits": 'sh:pattern "^[0-9]+$"',
    "pattern-i": 'sh:pattern "^MALE$" ; sh:flags "i"',
    "in": "sh:in ( ex:a 5 )",
    "hasValue-5": "sh:hasValue 5",
    "or": "sh:or ( [ sh:datatype xsd:integer ] [ sh:class ex:K ] )",
    "not": "sh:not [ sh:class ex:K ]",
    "and": "sh:and ( [ sh:nodeKind sh:Literal ] [ sh:minLength 2 ] )",
    "xone": "sh:xone ( [ sh:nodeKind sh:Literal ] [ sh:datatype xsd:integer ] )",
    "node": "sh:node [ sh:nodeKind sh:IRI ]",
    "maxCount-0": "sh:maxCount 0",
    "lessThanOrEquals-10": "sh:lessThanOrEquals ex:ten",
    "lessThanOrEquals-date": "sh:lessThanOrEquals ex:day",
}
# Every case where the engines differ: (value, constraint) -> (results of the
# oxigraph engine, of pySHACL). The oxigraph engine follows SHACL in each.
_INCOMPARABLE = (
    "SPARQL cannot compare them, so SHACL reports; pySHACL orders them (Python's True is 1)"
)
_ILL_TYPED = "a literal that is not well formed has no value to compare; pySHACL compares it anyway"
_DEPARTURES = {
    ('"2023-01-05"^^xsd:date', "lessThanOrEquals-10"): (1, 0, _INCOMPARABLE),
    ("true", "maxInclusive-date"): (1, 0, _INCOMPARABLE),
    ("true", "lessThanOrEquals-10"): (1, 0, _INCOMPARABLE),
    ("true", "lessThanOrEquals-date"): (1, 0, _INCOMPARABLE),
    ('"5"^^ex:custom', "maxInclusive-date"): (1, 0, _INCOMPARABLE),
    ('"5"^^ex:custom', "lessThanOrEquals-10"): (1, 0, _INCOMPARABLE),
    ('"5"^^ex:custom', "lessThanOrEquals-date"): (1, 0, _INCOMPARABLE),
    ('"-0001-01-01"^^xsd:date', "lessThanOrEquals-10"): (1, 0, _INCOMPARABLE),
    ('"abc"^^xsd:integer', "minExclusive-0.5"): (1, 0, _ILL_TYPED),
    ('"abc"^^xsd:decimal', "lessThanOrEquals-10"): (1, 0, _ILL_TYPED),
    ('"male\\n"', "pattern-sex"): (
        1,
        0,
        "XPath's $ ends the string; Python's also matches before a final newline",
    ),
    ('"male\\n"', "pattern-i"): (
        1,
        0,
        "XPath's $ ends the string; Python's also matches before a final newline",
    ),
    ('"-0001-01-01"^^xsd:date', "datatype-date"): (
        0,
        1,
        "a date of the year -1 is an xsd:date; rdflib reads none before year 1",
    ),
    ('"-0001-01-01"^^xsd:date', "maxInclusive-date"): (
        0,
        1,
        "a date of the year -1 is an xsd:date; rdflib reads none before year 1",
    ),
}
# Where pySHACL stops with an error; the oxigraph engine reports a violation.
_PYSHACL_FAILS = {
    ('"abc"^^xsd:integer', "lessThanOrEquals-10"): "TypeError",
    ("[]", "lessThanOrEquals-10"): "ReportableRuntimeError",
    ("[]", "lessThanOrEquals-date"): "ReportableRuntimeError",
}


def _edge_counts(value: str, constraints: dict[str, str], engine: str) -> Counter[str]:
    shapes = Graph().parse(
        data=_PREFIXES
        + "".join(
            f'ex:{n} sh:targetClass ex:C ; sh:path ex:p ; {c} ; sh:message "{n}" .\n'
            for n, c in constraints.items()
        ),
        format="turtle",
    )
    data = Graph().parse(
        data=_PREFIXES + "ex:K2 rdfs:subClassOf ex:K . ex:k2 a ex:K2 . "
        f'ex:n a ex:C ; ex:p {value} ; ex:ten 10 ; ex:day "2023-06-01"^^xsd:date .',
        format="turtle",
    )
    with warnings.catch_warnings():
        # rdflib's comparisons answer NotImplemented for values it cannot read, which
        # pySHACL takes as true (a DeprecationWarning, an error under pytest's settings)
        warnings.simplefilter("ignore", DeprecationWarning)
        report = validate(data, shapes, engine=engine)  # type: ignore[arg-type]
    return Counter(r.message for r in report.results)


@pytest.mark.parametrize("value", _EDGE_VALUES)
def test_where_pyshacl_departs_from_shacl(value: str) -> None:
    """One value against every kind of constraint: the engines agree except in
    the cases listed in _DEPARTURES and _PYSHACL_FAILS."""
    fails = {c: e for (v, c), e in _PYSHACL_FAILS.items() if v == value}
    constraints = {n: c for n, c in _EDGE_CONSTRAINTS.items() if n not in fails}
    ours = _edge_counts(value, constraints, "oxigraph")
    theirs = _edge_counts(value, constraints, "pyshacl")
    differ = {n: (ours[n], theirs[n]) for n in constraints if ours[n] != theirs[n]}
    assert differ == {c: d[:2] for (v, c), d in _DEPARTURES.items() if v == value}
    for name, error in fails.items():
        with pytest.raises(Exception) as caught:
            _edge_counts(value, {name: _EDGE_CONSTRAINTS[name]}, "pyshacl")
        assert type(caught.value).__name__ == error
        assert _edge_counts(value, {name: _EDGE_CONSTRAINTS[name]}, "oxigraph")[name] == 1


# ---------------------------------------------------------------- what is not compiled


def _shape(body: str, extra: str = "") -> Graph:
    return Graph().parse(
        data=_PREFIXES + f'ex:S sh:targetClass ex:C ; sh:message "m" ; {body} .\n{extra}',
        format="turtle",
    )


@pytest.mark.parametrize(
    ("body", "extra", "reason"),
    [
        (
            "sh:path ex:p ; sh:qualifiedValueShape [ sh:class ex:K ] ; sh:qualifiedMinCount 1",
            "",
            "qualified",
        ),
        ("sh:closed true", "", "closed"),
        ('sh:sparql [ sh:select "SELECT $this WHERE { }" ]', "", "sparql"),
        ("sh:path ex:p ; sh:equals ex:q", "", "equals"),
        ("sh:path ex:p ; sh:lessThan ex:q", "", "lessThan"),
        ("sh:path ex:p ; sh:uniqueLang true", "", "uniqueLang"),
        ('sh:path ex:p ; sh:languageIn ( "en" )', "", "languageIn"),
        ("sh:path ex:p ; sh:datatype xsd:double", "", "datatype"),
        ('sh:path ex:p ; sh:in ( "male" )', "", "sh:in"),
        ('sh:path ex:p ; sh:hasValue "x"@en', "", "sh:hasValue"),
        ('sh:path ex:p ; sh:pattern "a" ; sh:flags "s"', "", "flags"),
        ('sh:path ex:p ; sh:pattern "(?=a)"', "", "Oxigraph"),
        ('sh:path ex:p ; sh:pattern "("', "", "sh:pattern"),
        ('sh:path ex:p ; sh:minInclusive "a"', "", "minInclusive"),
        ("sh:path [ sh:zeroOrMorePath ex:p ] ; sh:minCount 1", "", "path"),
        (
            "sh:path ex:p ; sh:or ( ex:W )",
            "ex:W sh:class ex:K ; sh:severity sh:Warning .",
            "must be a sh:Violation",
        ),
        ("sh:path ex:p ; sh:node ex:S", "", "recursive"),
        ("sh:path ex:p ; sh:node [ sh:path ex:q ; sh:maxCount 9 ]", "", "count above"),
        ("sh:minCount 1", "", "needs a property shape"),
        ('sh:path ex:p ; sh:minCount 1 ; sh:message "n"', "", "exactly one sh:message"),
        (
            'sh:path ex:p ; sh:property [ sh:path ex:q ; sh:minCount 1 ; sh:message "n" ]',
            "",
            "property shape that reports",
        ),
        ('sh:path ex:p ; sh:deactivated "yes"', "", "deactivated"),
        (
            "sh:path ex:p ; sh:minCount 1",
            "ex:T sh:targetNode ex:n ; sh:path ex:p ; sh:minCount 1 .",
            "targetNode",
        ),
        ("sh:path ex:p ; sh:minCount 1", "ex:S a rdfs:Class .", "implicit class targets"),
    ],
)
def test_what_is_not_compiled_raises(body: str, extra: str, reason: str) -> None:
    """A shape that uses what the compiler does not compile fails when the shapes
    are compiled, naming what, and so does validate(); nothing is skipped."""
    shapes = _shape(body, extra)
    with pytest.raises(UnsupportedShapeError, match=reason):
        compile_shapes(shapes)
    with pytest.raises(UnsupportedShapeError):
        validate(Graph(), shapes, engine="oxigraph")


def test_the_shipped_shapes_compile() -> None:
    """Every shape of shapes/imr.shapes.ttl that reports has checks; compiled once."""
    shapes = shapes_graph()
    compiled = compile_shapes(shapes)
    assert compile_shapes(shapes) is compiled
    reporting = set(shapes.subjects(SH.targetClass, None))
    assert {c.shape for c in compiled.checks} == reporting


def test_blank_shapes_paths_and_deactivated() -> None:
    """Blank-node shapes (held by sh:property), a sequence path, a deactivated
    shape: the same results, source shapes and paths from both engines; a path
    that is not an IRI reads in SPARQL syntax."""
    shapes = Graph().parse(
        data=_PREFIXES
        + """
        ex:N a sh:NodeShape ; sh:targetClass ex:C ; sh:message "node" ;
            sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ; sh:message "two steps" ] ,
                        [ sh:path [ sh:inversePath ex:r ] ; sh:maxCount 0 ; sh:message "inverse" ] ,
                        [ sh:path [ sh:alternativePath ( ex:s ex:t ) ] ; sh:datatype xsd:integer ;
                          sh:message "alternative" ] .
        ex:Off sh:targetClass ex:C ; sh:path ex:p ; sh:minCount 5 ; sh:deactivated true ;
            sh:message "off" .
        """,
        format="turtle",
    )
    data = Graph().parse(
        data=_PREFIXES
        + """
        ex:a a ex:C ; ex:p ex:b ; ex:s "x" ; ex:t 3 . ex:z ex:r ex:a .
        ex:c a ex:C ; ex:p [ ex:q 1 ] .
        """,
        format="turtle",
    )
    ours = validate(data, shapes, engine="oxigraph")
    theirs = validate(data, shapes, engine="pyshacl")
    assert ours.results == theirs.results, _explain(ours.results, theirs.results)
    assert {r.message for r in ours.results} == {"two steps", "inverse", "alternative"}
    paths = {r.message: r.path for r in ours.results}
    assert paths["two steps"] == "<http://example.org/p>/<http://example.org/q>"
    assert paths["inverse"] == "^<http://example.org/r>"
    assert all(r.shape and BNode(r.shape) in set(shapes.subjects()) for r in ours.results)
