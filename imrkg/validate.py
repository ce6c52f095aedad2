"""Check letter graphs against the SHACL shapes: one front door, two engines.

:func:`validate` takes a graph or a dataset (one named graph per letter),
checks it against ``shapes/imr.shapes.ttl``, and returns a
:class:`ValidationReport`: whether it conforms, and each result with the
letter it belongs to, its focus node, path, message and severity. Warnings
and informational results do not make a graph non-conforming; violations do.

Two engines give the same results (``tests/test_shacl_engines.py`` compares
them on sample, synthetic, real and deliberately broken letters):

- ``"oxigraph"``, the default: the shapes compiled to SPARQL once per process
  (:mod:`imrkg.shacl_sparql`) and run on an in-memory Oxigraph store: three to
  four times faster than pySHACL on an rdflib graph, eight to ten times in a
  build, which hands it the letters' N-Quads (``bench/bench.py``);
- ``"pyshacl"``: pySHACL, the reference, which reads every SHACL feature (the
  compiler refuses the shapes it cannot compile exactly, when they are compiled).

Where pySHACL departs from SHACL (it orders values that SPARQL cannot compare,
its ``$`` also matches before a final newline, rdflib reads no date before the
year 1), the oxigraph engine follows SHACL; the tests pin each such case.

The vocabulary concepts' types and the ontology's subclass axioms are added
to the graph being checked, so that a shape can require a value to be a
concept of a scheme (``sh:class imr:Treatment``) without the letter graphs
repeating the vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Literal, Protocol

import rdflib
from rdflib import RDF, RDFS, XSD, BNode, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from imrkg.errors import ResourceError
from imrkg.graph import GRAPH, ID
from imrkg.loader.vocab import load_vocabulary
from imrkg.resources import ontology_dir, shapes_dir
from imrkg.shacl_sparql import Finding, compile_shapes, path_text

SHAPES_FILE = "imr.shapes.ttl"
Engine = Literal["oxigraph", "pyshacl"]
ENGINES: tuple[Engine, ...] = ("oxigraph", "pyshacl")
# A result of one of these severities leaves a graph conforming (pySHACL's allow_warnings).
_ALLOWED = {SH.Warning, SH.Info}


class NamedTriples(Protocol):
    """A letter's triples and the name of its graph: an rdflib graph, or
    :class:`imrkg.graph.LetterTriples`."""

    @property
    def identifier(self) -> Node: ...  # pragma: no cover

    def __iter__(self) -> Iterator[tuple[Node, Node, Node]]: ...  # pragma: no cover


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, tied to the letter it concerns."""

    letter: str | None
    focus: str
    path: str | None
    message: str
    severity: str
    shape: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate` found: ``conforms`` is false when any result is a violation."""

    conforms: bool
    results: tuple[Result, ...]
    graph: Graph

    @property
    def violations(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    def letters_in_violation(self) -> set[str]:
        return {r.letter for r in self.violations if r.letter}

    def to_json(self) -> str:
        return json.dumps(
            {"conforms": self.conforms, "results": [asdict(r) for r in self.results]}, indent=2
        )

    def to_turtle(self) -> str:
        return self.graph.serialize(format="turtle")


@cache
def shapes_graph() -> Graph:
    """The shipped SHACL shapes (parsed once per process)."""
    path = shapes_dir() / SHAPES_FILE
    try:
        return Graph().parse(path, format="turtle")
    except FileNotFoundError:
        raise ResourceError(f"the shapes file {path} is missing") from None
    except Exception as exc:  # rdflib raises many types for bad Turtle
        raise ResourceError(f"{path}: not valid Turtle ({exc})") from exc


@cache
def _class_facts() -> tuple[tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node], ...]:
    """What ``sh:class`` needs to know beyond a letter graph: the vocabulary
    concepts' types and the ontology's subclass axioms."""
    facts = set(load_vocabulary().graph.triples((None, RDF.type, None)))
    ontology = Graph().parse(ontology_dir() / "imr.ttl", format="turtle")
    facts.update(ontology.triples((None, RDFS.subClassOf, None)))
    return tuple(facts)


def _letter_of(node: str) -> str | None:
    """The letter key a node belongs to, read from its IRI."""
    for prefix in (f"{ID}letter/", f"{ID}case/", GRAPH):
        if node.startswith(prefix):
            return node[len(prefix) :].split("/", 1)[0]
    return None


def _text(value: rdflib.term.Node | None) -> str | None:
    return None if value is None else str(value)


def _sort_key(r: Result) -> tuple[str, ...]:
    return (
        r.letter or "",
        r.focus,
        r.path or "",
        r.message,
        r.value or "",
        r.severity,
        r.shape or "",
    )


def validate(
    data: Graph | rdflib.Dataset,
    shapes: Graph | None = None,
    *,
    engine: Engine = "oxigraph",
) -> ValidationReport:
    """Validate a letter graph, or a dataset of letter graphs, against the shapes.

    >>> from rdflib import Graph
    >>> validate(Graph()).conforms
    True
    >>> validate(Graph(), engine="pyshacl").conforms
    True
    """
    shapes = shapes if shapes is not None else shapes_graph()
    graphs = list(data.graphs()) if isinstance(data, rdflib.Dataset) else [data]
    if engine == "oxigraph":
        return _from_findings(compile_shapes(shapes).run(graphs, _class_facts()), shapes)
    if engine == "pyshacl":
        return _validate_pyshacl(graphs, shapes)
    raise ValueError(f"unknown validation engine {engine!r} (one of {', '.join(ENGINES)})")


def _from_findings(findings: list[Finding], shapes: Graph) -> ValidationReport:
    """A report of the oxigraph engine's findings, with the report graph pySHACL would write."""
    results = []
    report = Graph()
    for prefix, namespace in shapes.namespace_manager.namespaces():
        report.bind(prefix, namespace)
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    copied: set[Node] = set()
    conforms = True
    for finding in findings:
        check = finding.check
        focus = str(finding.focus)
        conforms = conforms and check.severity in _ALLOWED
        results.append(
            Result(
                letter=_letter_of(focus),
                focus=focus,
                path=check.path_text,
                message=check.message,
                severity=str(check.severity).rsplit("#", 1)[-1],
                shape=str(check.shape),
                value=_text(finding.value),
            )
        )
        node = BNode()
        report.add((root, SH.result, node))
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.focusNode, finding.focus))
        report.add((node, SH.resultMessage, rdflib.Literal(check.message)))
        report.add((node, SH.resultSeverity, check.severity))
        report.add((node, SH.sourceConstraintComponent, check.component))
        report.add((node, SH.sourceShape, check.shape))
        if finding.value is not None:
            report.add((node, SH.value, finding.value))
        if check.path is not None:
            report.add((node, SH.resultPath, check.path))
        for described in (check.shape, check.path):
            if isinstance(described, BNode) and described not in copied:
                copied.add(described)
                for triple in shapes.cbd(described):
                    report.add(triple)
    report.add((root, SH.conforms, rdflib.Literal(conforms, datatype=XSD.boolean)))
    results.sort(key=_sort_key)
    return ValidationReport(conforms, tuple(results), report)


def _validate_pyshacl(graphs: Iterable[NamedTriples], shapes: Graph) -> ValidationReport:
    from pyshacl import validate as shacl_validate

    working = Graph()
    for graph in graphs:
        for triple in graph:
            working.add(triple)
    for triple in _class_facts():
        working.add(triple)
    conforms, report, _ = shacl_validate(
        working,
        shacl_graph=shapes,
        inference="none",
        allow_warnings=True,
        advanced=False,
        inplace=True,
    )
    results = []
    # The report's own results: not the sh:detail results nested under an sh:node result.
    for node in report.objects(report.value(None, RDF.type, SH.ValidationReport), SH.result):
        focus = _text(report.value(node, SH.focusNode)) or ""
        severity = _text(report.value(node, SH.resultSeverity)) or str(SH.Violation)
        results.append(
            Result(
                letter=_letter_of(focus),
                focus=focus,
                path=path_text(report, report.value(node, SH.resultPath)),
                message=_text(report.value(node, SH.resultMessage)) or "",
                severity=severity.rsplit("#", 1)[-1],
                shape=_text(report.value(node, SH.sourceShape)),
                value=_text(report.value(node, SH.value)),
            )
        )
    results.sort(key=_sort_key)
    return ValidationReport(bool(conforms), tuple(results), report)


def validate_letters(
    graphs: Iterable[NamedTriples], *, engine: Engine = "oxigraph"
) -> dict[URIRef, ValidationReport]:
    """Validate several letter graphs at once; one report per graph.

    A result belongs to every letter whose graph holds its focus node: a
    guideline section is shared by the letters that cite it.
    """
    graphs = list(graphs)
    if engine == "oxigraph":
        combined = _from_findings(
            compile_shapes(shapes_graph()).run(graphs, _class_facts()), shapes_graph()
        )
    elif engine == "pyshacl":
        combined = _validate_pyshacl(graphs, shapes_graph())
    else:
        raise ValueError(f"unknown validation engine {engine!r} (one of {', '.join(ENGINES)})")
    holders = _holders(graphs, {r.focus for r in combined.results})
    mine: dict[URIRef, list[Result]] = {URIRef(str(g.identifier)): [] for g in graphs}
    for result in combined.results:
        for name in holders.get(result.focus, ()):
            key = str(name)[len(GRAPH) :]
            mine[name].append(result if result.letter == key else replace(result, letter=key))
    return {
        name: ValidationReport(
            not any(r.severity == "Violation" for r in results), tuple(results), combined.graph
        )
        for name, results in mine.items()
    }


def _holders(graphs: list[NamedTriples], focus_nodes: set[str]) -> dict[str, set[URIRef]]:
    """Which graphs hold each focus node as a subject (only asked when there are results)."""
    holders: dict[str, set[URIRef]] = {}
    if not focus_nodes:
        return holders
    for graph in graphs:
        name = URIRef(str(graph.identifier))
        for subject in {str(s) for s, _, _ in graph} & focus_nodes:
            holders.setdefault(subject, set()).add(name)
    return holders
