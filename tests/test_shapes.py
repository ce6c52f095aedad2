"""The SHACL shapes (``shapes/imr.shapes.ttl``) accept good letter graphs and reject bad ones.

Data-driven over ``tests/cases/shapes/NAME/``: each folder holds ``data.ttl``, a
letter graph that is ``valid-minimal/data.ttl`` with one change, and
``message.txt``, the sh:message of the one shape the change breaks (empty for
``valid-minimal``, which must conform). Everything goes through the front door,
:func:`imrkg.validate.validate`.

Besides the fixtures: the graphs of the bundled sample letters conform; every
shape declares a message and a severity; and the fixtures and the shapes match
one to one (every message a report can carry is tested by exactly one fixture).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH

from imrkg.graph import letter_graph
from imrkg.validate import ValidationReport, shapes_graph, validate
from tests.conftest import CASES, EXAMPLES, sample_record

SHAPE_CASES = CASES / "shapes"
VALID = "valid-minimal"
FIXTURES = sorted(p.name for p in SHAPE_CASES.iterdir() if p.is_dir())
SAMPLES = sorted(
    (p.stem, p.suffix[1:]) for p in (EXAMPLES / "letters").iterdir() if p.suffix in {".txt", ".pdf"}
)
IMRSH = "https://w3id.org/imr-kg/shapes#"
SEVERITIES = {SH.Violation, SH.Warning}


def expected_message(name: str) -> str:
    """The message a fixture's report must carry ('' for the valid fixture)."""
    return (SHAPE_CASES / name / "message.txt").read_text(encoding="utf-8").strip()


def fixture_report(name: str) -> ValidationReport:
    """The validation report of a fixture's data."""
    return validate(Graph().parse(SHAPE_CASES / name / "data.ttl", format="turtle"))


def all_shapes(shapes: Graph) -> set[rdflib.term.Node]:
    """Every shape of the shapes graph: declared ones, targeted ones, and every
    shape another shape refers to (by sh:property, sh:node, sh:not,
    sh:qualifiedValueShape, or in a sh:or / sh:and / sh:xone list)."""
    found: set[rdflib.term.Node] = set(shapes.subjects(RDF.type, SH.NodeShape))
    found |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        found |= set(shapes.subjects(predicate, None))
    found |= set(shapes.subjects(SH.path, None))
    for predicate in (SH.property, SH.node, SH["not"], SH.qualifiedValueShape):
        found |= set(shapes.objects(None, predicate))
    for predicate in (SH["or"], SH["and"], SH.xone):
        for members in shapes.objects(None, predicate):
            found |= set(Collection(shapes, members))
    return found


def reportable_shapes(shapes: Graph) -> set[rdflib.term.Node]:
    """The shapes whose own message can reach a report: targeted shapes and the
    property shapes they hold. Shapes used only inside sh:or / sh:not never report."""
    found: set[rdflib.term.Node] = set(shapes.subjects(SH.targetClass, None))
    frontier = set(found)
    while frontier:
        frontier = {p for s in frontier for p in shapes.objects(s, SH.property)} - found
        found |= frontier
    return found


def kebab(name: str) -> str:
    """A shape's local name as a fixture folder name: LetterHasItem -> letter-has-item."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture(name: str) -> None:
    """A broken fixture's report has a result carrying its message and no Violation
    with any other message (Warnings may come along: a date that is not a date
    cannot be ordered); the valid fixture conforms with no result at all."""
    message = expected_message(name)
    report = fixture_report(name)
    if not message:
        assert report.conforms and report.results == (), report.to_json()
        return
    assert message in {r.message for r in report.results}, report.to_json()
    others = {r.message for r in report.violations} - {message}
    assert not others, others


def test_valid_fixture_is_there() -> None:
    """The valid fixture exists and its message file is empty."""
    assert VALID in FIXTURES
    assert expected_message(VALID) == ""


@pytest.mark.parametrize(("name", "suffix"), SAMPLES, ids=[f"{n}.{s}" for n, s in SAMPLES])
def test_sample_letter_conforms(name: str, suffix: str) -> None:
    """The named graph of each bundled sample letter (text and PDF) conforms."""
    report = validate(letter_graph(sample_record(name, suffix)))
    assert report.conforms, [(r.focus, r.message) for r in report.violations]


def test_every_class_of_the_sample_graphs_has_a_node_shape() -> None:
    """Every class that the sample letters' graphs instantiate is the target of a
    node shape with an IRI pattern, so that a class graph.py starts to use is not
    left unchecked."""
    shapes = shapes_graph()
    covered = {
        shapes.value(shape, SH.targetClass)
        for shape in shapes.subjects(RDF.type, SH.NodeShape)
        if shapes.value(shape, SH.pattern) is not None
    }
    used: set[rdflib.term.Node] = set()
    for name, suffix in SAMPLES:
        used |= set(letter_graph(sample_record(name, suffix)).objects(None, RDF.type))
    assert used <= covered, sorted(str(c) for c in used - covered)


def test_every_shape_has_message_and_severity() -> None:
    """Every shape, node or property, declared or only referred to, is declared
    sh:NodeShape or sh:PropertyShape and has exactly one sh:message and exactly
    one sh:severity, sh:Violation or sh:Warning."""
    shapes = shapes_graph()
    declared = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)
    )
    found = all_shapes(shapes)
    assert declared, "no shapes declared"
    assert found <= declared, sorted(str(s) for s in found - declared)
    for shape in sorted(declared, key=str):
        messages = list(shapes.objects(shape, SH.message))
        severities = list(shapes.objects(shape, SH.severity))
        assert len(messages) == 1, f"{shape}: {len(messages)} sh:message"
        assert len(severities) == 1 and severities[0] in SEVERITIES, f"{shape}: {severities}"


def test_node_shapes_are_documented() -> None:
    """Every targeted node shape has an rdfs:label and an rdfs:comment."""
    shapes = shapes_graph()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) & set(
        shapes.subjects(SH.targetClass, None)
    ):
        assert shapes.value(shape, rdflib.RDFS.label) is not None, shape
        assert shapes.value(shape, rdflib.RDFS.comment) is not None, shape


def test_fixtures_match_shapes_one_to_one() -> None:
    """Messages of shapes that can report are distinct; each is the message of
    exactly one fixture, whose folder is named after the shape; and no fixture
    expects a message that no shape carries."""
    shapes = shapes_graph()
    by_message: dict[str, URIRef] = {}
    for shape in reportable_shapes(shapes):
        assert isinstance(shape, URIRef), f"reporting shape {shape} has no IRI"
        message = str(shapes.value(shape, SH.message))
        assert message not in by_message, f"{shape} and {by_message[message]} share {message!r}"
        by_message[message] = shape
    expected = {name: expected_message(name) for name in FIXTURES if name != VALID}
    counts = Counter(expected.values())
    assert all(n == 1 for n in counts.values()), [m for m, n in counts.items() if n > 1]
    assert set(expected.values()) == set(by_message), {
        "untested": sorted(set(by_message) - set(expected.values())),
        "unknown": sorted(set(expected.values()) - set(by_message)),
    }
    for name, message in expected.items():
        assert kebab(str(by_message[message])[len(IMRSH) :]) == name, name


def test_fixture_folders_are_complete() -> None:
    """Every fixture folder holds a data.ttl and a message.txt."""
    for name in FIXTURES:
        folder: Path = SHAPE_CASES / name
        assert (folder / "data.ttl").is_file(), name
        assert (folder / "message.txt").is_file(), name
