"""Check letter graphs against the SHACL shapes: one front door.

:func:`validate` takes a graph or a dataset (one named graph per letter),
checks it against ``shapes/imr.shapes.ttl`` with pySHACL, and returns a
:class:`ValidationReport`: whether it conforms, and each result with the
letter it belongs to, its focus node, path, message and severity. Warnings
and informational results do not make a graph non-conforming; violations do.

The vocabulary concepts' types and the ontology's subclass axioms are added
to the graph being checked, so that a shape can require a value to be a
concept of a scheme (``sh:class imr:Treatment``) without the letter graphs
repeating the vocabulary.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from functools import cache

import rdflib
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.namespace import SH

from imrkg.errors import ResourceError
from imrkg.graph import GRAPH, ID
from imrkg.loader.vocab import load_vocabulary
from imrkg.resources import ontology_dir, shapes_dir

SHAPES_FILE = "imr.shapes.ttl"


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


def validate(data: Graph | rdflib.Dataset, shapes: Graph | None = None) -> ValidationReport:
    """Validate a letter graph, or a dataset of letter graphs, against the shapes.

    >>> from rdflib import Graph
    >>> validate(Graph()).conforms
    True
    """
    from pyshacl import validate as shacl_validate

    working = Graph()
    for graph in data.graphs() if isinstance(data, rdflib.Dataset) else (data,):
        for triple in graph:
            working.add(triple)
    for triple in _class_facts():
        working.add(triple)
    conforms, report, _ = shacl_validate(
        working,
        shacl_graph=shapes if shapes is not None else shapes_graph(),
        inference="none",
        allow_warnings=True,
        advanced=False,
        inplace=True,
    )
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        focus = _text(report.value(node, SH.focusNode)) or ""
        severity = _text(report.value(node, SH.resultSeverity)) or str(SH.Violation)
        results.append(
            Result(
                letter=_letter_of(focus),
                focus=focus,
                path=_text(report.value(node, SH.resultPath)),
                message=_text(report.value(node, SH.resultMessage)) or "",
                severity=severity.rsplit("#", 1)[-1],
                shape=_text(report.value(node, SH.sourceShape)),
                value=_text(report.value(node, SH.value)),
            )
        )
    results.sort(key=lambda r: (r.letter or "", r.focus, r.path or "", r.message))
    return ValidationReport(bool(conforms), tuple(results), report)


def validate_letters(graphs: Iterable[Graph]) -> dict[URIRef, ValidationReport]:
    """Validate several letter graphs at once; one report per graph.

    A result belongs to every letter whose graph holds its focus node: a
    guideline section is shared by the letters that cite it.
    """
    graphs = list(graphs)
    union = Graph(store="SimpleMemory")
    holders: dict[str, set[URIRef]] = {}
    for graph in graphs:
        name = URIRef(str(graph.identifier))
        for triple in graph:
            union.add(triple)
            holders.setdefault(str(triple[0]), set()).add(name)
    combined = validate(union)
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
