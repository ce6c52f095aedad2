"""SHACL Core shapes compiled to SPARQL and run on an in-memory Oxigraph store.

Why: pySHACL walks the data graph in Python, shape by shape and node by node,
and costs 40-65 ms a letter, the largest part of ingest. Here each constraint
of a shapes graph becomes, once per process, one SPARQL ``SELECT`` that returns
the focus nodes (and value nodes) violating it; Oxigraph answers all of them
over a batch of letters in a few milliseconds a letter.

What is compiled is the part of SHACL Core that the shipped shapes use, with
SHACL 1.0 semantics: targets by ``sh:targetClass`` (through
``rdfs:subClassOf``); paths that are an IRI, a sequence, an inverse or an
alternative of such; ``sh:class``, ``sh:datatype`` (a well-formed literal of
the type), ``sh:nodeKind``, ``sh:minCount``/``sh:maxCount``, the four range
components (a value that cannot be compared is a violation),
``sh:minLength``/``sh:maxLength``, ``sh:pattern`` with ``sh:flags`` "i"/"m",
``sh:in``, ``sh:hasValue``, ``sh:lessThanOrEquals``, ``sh:not``, ``sh:and``,
``sh:or``, ``sh:xone``, ``sh:node``, ``sh:property`` and ``sh:deactivated``.
Anything else raises :class:`UnsupportedShapeError` when the shapes are
compiled, never at validation time and never silently: a constraint that is
skipped would let bad letters through. So do the few cases where pySHACL, the
other engine of :mod:`imrkg.validate`, answers differently from the
specification and the difference cannot be avoided in the shapes (a string
literal in ``sh:in``, a nested shape that is not a Violation, a datatype whose
well-formedness the two check differently); the messages say why.

Each result carries what a pySHACL result carries: focus node, path, value,
the shape's ``sh:message`` and ``sh:severity``, the source shape and the
constraint component. A path that is not an IRI is written in SPARQL syntax,
``<p1>/<p2>`` (:func:`path_text`).

Oxigraph's own data model is kept out of the way: typed literals are loaded
under an alias of their datatype, so that they keep the lexical form and
datatype the data gave them (see ``_ALIAS``), and triples with blank nodes are
added as terms, since Oxigraph's parser renames blank nodes. One limit stays:
integers beyond 64 bits (and decimals beyond Oxigraph's 128) are compared as
xsd:double.

>>> from rdflib import Graph, Literal, URIRef
>>> shapes = Graph().parse(format="turtle", data='''
...     @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
...     ex:AgeShape sh:targetClass ex:Person ; sh:path ex:age ; sh:maxCount 1 ;
...         sh:minInclusive 0 ; sh:message "Age: at most one, not negative." .''')
>>> data = Graph().parse(format="turtle", data='''
...     @prefix ex: <http://example.org/> .
...     ex:ann a ex:Person ; ex:age -3 . ex:bob a ex:Person ; ex:age 7, 8 .''')
>>> for f in sorted(compile_shapes(shapes).run([data]), key=lambda f: str(f.focus)):
...     print(f.focus, f.check.component.rsplit("#")[1], f.value, f.check.message)
http://example.org/ann MinInclusiveConstraintComponent -3 Age: at most one, not negative.
http://example.org/bob MaxCountConstraintComponent None Age: at most one, not negative.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH
from rdflib.term import Node

from imrkg.errors import ImrKgError

Triple = tuple[Node, Node, Node]


class TripleSource(Protocol):
    """What can be validated: an rdflib graph, or any iterable of triples.

    A source that also has ``identifier`` and ``nquads()``, its triples as N-Quads
    in the graph named by ``identifier`` (:class:`imrkg.graph.LetterTriples`), is
    loaded from those bytes, which a build writes anyway.
    """

    def __iter__(self) -> Iterator[Triple]: ...  # pragma: no cover


class UnsupportedShapeError(ImrKgError):
    """A shapes graph uses a SHACL feature this compiler does not compile."""


# ---------------------------------------------------------------- what a shape may say

# Predicates of a shape that do not constrain anything (or that the compiler reads itself).
_DESCRIPTIVE = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.message,
    SH.severity,
    SH.deactivated,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.defaultValue,
    SH.targetClass,
    SH.path,
    SH.flags,  # read with sh:pattern
}
# The constraint parameters compiled, and the component each belongs to.
_COMPONENTS = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
    SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH.property: SH.PropertyConstraintComponent,
}
_RANGES = {
    SH.minInclusive: ">=",
    SH.maxInclusive: "<=",
    SH.minExclusive: ">",
    SH.maxExclusive: "<",
}
# The datatypes of range bounds compiled.
_ORDERED = {XSD.integer, XSD.decimal, XSD.date, XSD.dateTime}
# Typed literals go into Oxigraph under an alias of their datatype,
# ``urn:x-imrkg:datatype:`` + the datatype IRI, so that Oxigraph keeps them as
# written: it would store "1.50"^^xsd:decimal as "1.5" (and sh:pattern would see
# "1.5"), "5"^^xsd:int as "5"^^xsd:integer, and "x"^^xsd:string as "x", which
# rdflib, the data's own model, tells apart. Checks take a literal's value with
# a cast of its lexical form (:func:`_typed`).
_ALIAS = "urn:x-imrkg:datatype:"
_XSD = str(XSD)
# The value of a literal of these (aliased) datatypes: the cast of its lexical form.
_INTEGERS = [
    "integer",
    "int",
    "long",
    "short",
    "byte",
    "nonNegativeInteger",
    "positiveInteger",
    "negativeInteger",
    "nonPositiveInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
]
_CASTS = {
    "double": "xsd:double",
    "float": "xsd:float",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "dateTime": "xsd:dateTime",
    "string": "STR",
}
# sh:datatype: when a lexical form is well formed. A regular expression where
# XSD's lexical space is one (Oxigraph's casts stop at 64-bit integers), a cast
# where it is not (a date must be a day of the calendar); None: any string is.
# Other datatypes are not compiled: rdflib and XSD disagree on too many of them.
_DATATYPES: dict[URIRef, str | None] = {
    XSD.string: None,
    RDF.langString: None,
    XSD.integer: 'REGEX(STR({0}), "^[+-]?[0-9]+$")',
    XSD.decimal: r'REGEX(STR({0}), "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$")',
    XSD.boolean: 'REGEX(STR({0}), "^(true|false|1|0)$")',
    XSD.date: "isLiteral(xsd:date(STR({0})))",
    XSD.dateTime: "isLiteral(xsd:dateTime(STR({0})))",
}
_NODE_KINDS = {
    SH.IRI: "isIRI({0})",
    SH.BlankNode: "isBlank({0})",
    SH.Literal: "isLiteral({0})",
    SH.BlankNodeOrIRI: "(isIRI({0}) || isBlank({0}))",
    SH.BlankNodeOrLiteral: "(isBlank({0}) || isLiteral({0}))",
    SH.IRIOrLiteral: "(isIRI({0}) || isLiteral({0}))",
}
_TARGETS = (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
# Nested counts are spelled out as pairwise distinct variables: keep them small.
_MAX_NESTED_COUNT = 4
# The time Oxigraph takes to parse and plan a query grows with its length (about
# 0.1 us a character, 20 ms for all the shipped shapes' checks): hence prefixes.
_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD), "dt": _ALIAS + str(XSD)}


def _prefixed(query: str) -> str:
    """The query with the prologue of the prefixes it uses."""
    used = "".join(
        f"PREFIX {name}: <{iri}>\n" for name, iri in _PREFIXES.items() if f"{name}:" in query
    )
    return used + query


# ---------------------------------------------------------------- compiled checks


@dataclass(frozen=True)
class Check:
    """One constraint of a shape that reports, compiled.

    ``query`` selects ``?this`` (the focus node) and, where the result has
    one, ``?value``; the other fields are what every result of it says.
    """

    shape: Node
    component: URIRef
    path: Node | None
    path_text: str | None
    message: str
    severity: URIRef
    query: str
    has_value: bool


@dataclass(frozen=True)
class Finding:
    """One validation result: a check that failed on a focus node (and value).

    Terms are rdflib terms as the data gave them (a literal keeps its lexical
    form even where Oxigraph stores a canonical one).
    """

    check: Check
    focus: Node
    value: Node | None


@dataclass(frozen=True)
class CompiledShapes:
    """A shapes graph's checks; :meth:`run` validates data against them."""

    shapes: Graph
    checks: tuple[Check, ...]

    def run(self, sources: Iterable[TripleSource], extra: Iterable[Triple] = ()) -> list[Finding]:
        """The results of validating the union of ``sources`` (plus ``extra``
        triples, such as class facts) against the shapes: :meth:`check` of :meth:`load`."""
        return self.check(self.load(sources, extra))

    def load(self, sources: Iterable[TripleSource], extra: Iterable[Triple] = ()) -> LoadedData:
        """The union of ``sources`` and ``extra`` in a fresh in-memory store, ready to check
        (a step of its own so that a benchmark can time loading and checking apart)."""
        loader = _Loader(ox.Store())
        for source in sources:
            loader.load(source)
        loader.load_prepared(_prepared(extra))
        return LoadedData(loader)

    def check(self, data: LoadedData) -> list[Finding]:
        """The results of every check on loaded data."""
        loader = data.loader
        findings: list[Finding] = []
        for check in self.checks:
            solutions = loader.store.query(check.query)
            assert isinstance(solutions, ox.QuerySolutions)
            for solution in solutions:
                focus = loader.back(solution["this"])
                value = loader.back(solution["value"]) if check.has_value else None
                findings.append(Finding(check, focus, value))
        return findings


@dataclass(frozen=True)
class LoadedData:
    """Data loaded for checking (:meth:`CompiledShapes.load`): the store and the map of
    its terms back to the data's rdflib terms."""

    loader: _Loader


_COMPILED: dict[int, CompiledShapes] = {}
_PREPARED: dict[int, tuple[Iterable[Triple], _Prepared]] = {}


def _prepared(triples: Iterable[Triple]) -> _Prepared:
    """Triples written for loading, once per object if it is a tuple (the class facts
    are the same tuple in every call; writing them cost 3 ms a call)."""
    if not isinstance(triples, tuple):
        return _Loader.prepare(triples)
    known = _PREPARED.get(id(triples))
    if known is None or known[0] is not triples:
        known = _PREPARED[id(triples)] = (triples, _Loader.prepare(triples))
    return known[1]


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """The checks of a shapes graph, compiled once per graph object and process.

    Raises :class:`UnsupportedShapeError` if a shape uses a feature that is not compiled.
    """
    compiled = _COMPILED.get(id(shapes))
    if compiled is None or compiled.shapes is not shapes:
        compiled = _COMPILED[id(shapes)] = CompiledShapes(shapes, _Compiler(shapes).checks())
    return compiled


# ---------------------------------------------------------------- SPARQL text


_ECHAR = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _iri(node: URIRef) -> str:
    if _IRI_FORBIDDEN.search(node):
        raise UnsupportedShapeError(f"{node!r} is not an IRI that SPARQL can write")
    return f"<{node}>"


def _string(text: str) -> str:
    return f'"{text.translate(_ECHAR)}"'


def _literal(node: Literal) -> str:
    if node.language:
        return f"{_string(str(node))}@{node.language}"
    return f"{_string(str(node))}^^{_iri(node.datatype or XSD.string)}"


def _datatype(iri: Node) -> str:
    """A datatype as loaded into Oxigraph: its alias (see ``_ALIAS``)."""
    assert isinstance(iri, URIRef)
    local = iri[len(_XSD) :]
    if iri.startswith(_XSD) and re.fullmatch(r"[A-Za-z]+", local):
        return f"dt:{local}"
    return _iri(URIRef(_ALIAS + iri))


def _typed(var: str) -> str:
    """The value of ``var`` for a comparison: a loaded literal's lexical form cast
    to its datatype, any other term as itself. A literal that is not well formed
    stays itself, and compares with nothing (an error, so a violation)."""
    cases = var
    for name, cast in _CASTS.items():
        cases = f"IF(datatype({var}) = dt:{name}, {cast}(STR({var})), {cases})"
    integers = ", ".join(f"dt:{name}" for name in _INTEGERS)
    cases = f"IF(datatype({var}) IN ({integers}), {_number(var, 'integer')}, {cases})"
    cases = f"IF(datatype({var}) = dt:decimal, {_number(var, 'decimal')}, {cases})"
    # The common cases first, at a third of the cost: a well-formed xsd:integer, an
    # xsd:decimal or an xsd:date (?none is never bound: an error, which COALESCE skips).
    fast = (
        f"IF(datatype({var}) = dt:integer, xsd:integer(STR({var})), "
        f"IF(datatype({var}) = dt:date, xsd:date(STR({var})), "
        f"IF(datatype({var}) = dt:decimal, xsd:decimal(STR({var})), ?none)))"
    )
    return f"COALESCE({fast}, IF(isLiteral({var}), {cases}, {var}), {var})"


def _number(var: str, datatype: str) -> str:
    """An integer or decimal literal's value. Oxigraph's integers have 64 bits and its
    decimals 128: a well-formed lexical form beyond them is read as an xsd:double."""
    well_formed = _DATATYPES[XSD[datatype]]
    assert well_formed is not None
    cast = f"xsd:{datatype}(STR({var}))"
    return f"IF({well_formed.format(var)}, COALESCE({cast}, xsd:double(STR({var}))), {var})"


def _sparql_path(shapes: Graph, node: Node) -> str:
    """A SHACL property path as a SPARQL property path."""
    if isinstance(node, URIRef):
        return _iri(node)
    if isinstance(node, BNode):
        if (node, RDF.first, None) in shapes:
            steps = list(Collection(shapes, node))
            if len(steps) < 2:
                raise UnsupportedShapeError(f"a sequence path needs two steps or more ({node})")
            return "(" + "/".join(_sparql_path(shapes, s) for s in steps) + ")"
        inverse = shapes.value(node, SH.inversePath)
        if inverse is not None:
            return "^" + _sparql_path(shapes, inverse)
        alternatives = shapes.value(node, SH.alternativePath)
        if alternatives is not None:
            members = list(Collection(shapes, alternatives))
            if len(members) < 2:
                raise UnsupportedShapeError(f"an alternative path needs two members ({node})")
            return "(" + "|".join(_sparql_path(shapes, m) for m in members) + ")"
    raise UnsupportedShapeError(
        f"the path {node} is not compiled (IRIs, sequences, inverse and alternative paths are)"
    )


def _path_steps(shapes: Graph, node: Node) -> list[str]:
    """A SHACL property path as the steps of a chain of triple patterns: a
    sequence is spelled out with intermediate variables, because Oxigraph
    evaluates ``?x (p1/p2) <o>`` from the object side, once per ``?x``."""
    if isinstance(node, BNode) and (node, RDF.first, None) in shapes:
        _sparql_path(shapes, node)  # checks the sequence
        return [step for member in Collection(shapes, node) for step in _path_steps(shapes, member)]
    return [_sparql_path(shapes, node)]


def path_text(graph: Graph, node: Node | None) -> str | None:
    """How a result shows its path: an IRI as itself, any other path in SPARQL
    syntax, so that it reads the same in every report (a blank node's name does not).

    >>> from rdflib import Graph
    >>> g = Graph().parse(format="turtle", data='''@prefix ex: <http://example.org/> .
    ...     ex:s ex:path ( ex:a [ <http://www.w3.org/ns/shacl#inversePath> ex:b ] ) .''')
    >>> path_text(g, g.value(URIRef("http://example.org/s"), URIRef("http://example.org/path")))
    '<http://example.org/a>/^<http://example.org/b>'
    """
    if node is None:
        return None
    if isinstance(node, URIRef):
        return str(node)
    try:
        text = _sparql_path(graph, node)
    except UnsupportedShapeError:
        return str(node)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


# ---------------------------------------------------------------- the compiler


@dataclass
class _Shape:
    """What the compiler reads of one shape."""

    node: Node
    path: Node | None
    steps: list[str] | None  # the path as steps (see _path_steps)
    params: list[tuple[URIRef, Node]] = field(default_factory=list)
    deactivated: bool = False

    @property
    def is_property(self) -> bool:
        return self.path is not None


class _Compiler:
    """Turns the shapes of a graph into checks."""

    def __init__(self, shapes: Graph) -> None:
        self.g = shapes
        self._shapes: dict[Node, _Shape] = {}
        self._fresh = 0

    # ---- reading shapes

    def shape(self, node: Node) -> _Shape:
        """A shape's path and constraint parameters; raises on anything not compiled."""
        known = self._shapes.get(node)
        if known is not None:
            return known
        g = self.g
        if isinstance(node, Literal):
            raise UnsupportedShapeError(f"a literal ({node!r}) is not a shape")
        paths = list(g.objects(node, SH.path))
        if len(paths) > 1:
            raise UnsupportedShapeError(f"{node}: more than one sh:path")
        path = paths[0] if paths else None
        shape = _Shape(node, path, _path_steps(g, path) if path is not None else None)
        for predicate, value in sorted(
            g.predicate_objects(node), key=lambda po: (str(po[0]), str(po[1]))
        ):
            if predicate in _TARGETS:
                raise UnsupportedShapeError(
                    f"{node}: {predicate} is not compiled (only sh:targetClass is)"
                )
            if predicate in _COMPONENTS:
                assert isinstance(predicate, URIRef)
                shape.params.append((predicate, value))
            elif predicate in _DESCRIPTIVE:
                continue
            elif str(predicate).startswith(str(SH)):
                raise UnsupportedShapeError(f"{node}: {predicate} is not compiled")
        for kind in (RDFS.Class, URIRef("http://www.w3.org/2002/07/owl#Class")):
            if (node, RDF.type, kind) in g:
                raise UnsupportedShapeError(
                    f"{node}: implicit class targets (a shape that is also a class) are not compiled"
                )
        for single in (SH.minCount, SH.maxCount, SH.datatype, SH.nodeKind, SH["in"], SH.flags):
            if len(list(g.objects(node, single))) > 1:
                raise UnsupportedShapeError(f"{node}: more than one {single}")
        for predicate in (SH.minCount, SH.maxCount, SH.lessThanOrEquals):
            if path is None and (node, predicate, None) in g:
                raise UnsupportedShapeError(f"{node}: {predicate} needs a property shape")
        deactivated = list(g.objects(node, SH.deactivated))
        if deactivated:
            value = deactivated[0]
            if not (isinstance(value, Literal) and value.datatype == XSD.boolean):
                raise UnsupportedShapeError(f"{node}: sh:deactivated must be an xsd:boolean")
            shape.deactivated = bool(value.toPython())
        self._shapes[node] = shape
        return shape

    def fresh(self) -> str:
        self._fresh += 1
        return f"?v{self._fresh}"

    def shape_list(self, owner: Node, node: Node) -> list[Node]:
        if node != RDF.nil and (node, RDF.first, None) not in self.g:
            raise UnsupportedShapeError(
                f"{owner}: the value of a list-taking parameter is not a list"
            )
        return list(Collection(self.g, node))

    # ---- the checks of shapes that report

    def checks(self) -> tuple[Check, ...]:
        g = self.g
        found: list[Check] = []
        targeted = sorted(
            set(g.subjects(SH.targetClass, None)),
            key=lambda s: (isinstance(s, BNode), str(s)),
        )
        for predicate in _TARGETS:
            for subject in g.subjects(predicate, None):
                raise UnsupportedShapeError(
                    f"{subject}: {predicate} is not compiled (only sh:targetClass is)"
                )
        for node in targeted:
            shape = self.shape(node)
            classes = sorted(g.objects(node, SH.targetClass), key=str)
            for cls in classes:
                if not isinstance(cls, URIRef):
                    raise UnsupportedShapeError(f"{node}: sh:targetClass {cls} is not an IRI")
            values = " ".join(_iri(c) for c in classes if isinstance(c, URIRef))
            focus = (
                "{ SELECT DISTINCT ?this WHERE { VALUES ?class { "
                + values
                + " } ?this rdf:type/rdfs:subClassOf* ?class } }"
            )
            found.extend(self.reporting(shape, focus, [node]))
        return tuple(found)

    def reporting(self, shape: _Shape, focus: str, stack: list[Node]) -> list[Check]:
        """The checks of a shape whose results are reported, on the focus nodes
        that the SPARQL group ``focus`` binds to ``?this``."""
        if shape.deactivated:
            return []
        g = self.g
        node = shape.node
        messages = list(g.objects(node, SH.message))
        if len(messages) != 1:
            raise UnsupportedShapeError(
                f"{node}: a shape that reports needs exactly one sh:message "
                f"(pySHACL's own messages are not reproduced), it has {len(messages)}"
            )
        severities = list(g.objects(node, SH.severity))
        if len(severities) > 1:
            raise UnsupportedShapeError(f"{node}: more than one sh:severity")
        severity = severities[0] if severities else SH.Violation
        if not isinstance(severity, URIRef):
            raise UnsupportedShapeError(f"{node}: sh:severity must be an IRI")
        path = shape.steps is not None

        def walk(subject: str, value: str) -> str:
            return " ".join(self.walk(shape, subject, value))

        values = walk("?this", "?value") if path else "BIND(?this AS ?value)"
        checks: list[Check] = []

        def check(component: URIRef, query: str, *, has_value: bool = True) -> None:
            checks.append(
                Check(
                    shape=node,
                    component=component,
                    path=shape.path,
                    path_text=path_text(g, shape.path),
                    message=str(messages[0]),
                    severity=severity,
                    query=_prefixed(query),
                    has_value=has_value,
                )
            )

        for predicate, value in shape.params:
            component = _COMPONENTS[predicate]
            if predicate == SH.minCount:
                count = self.count(node, value)
                if count > 0:
                    check(
                        component,
                        f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ {walk('?this', '?value')} }} }} "
                        f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {count})",
                        has_value=False,
                    )
            elif predicate == SH.maxCount:
                count = self.count(node, value)
                check(
                    component,
                    f"SELECT ?this WHERE {{ {focus} {walk('?this', '?value')} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {count})",
                    has_value=False,
                )
            elif predicate == SH.hasValue:
                constant = self.constant(node, value)
                test = (
                    f"FILTER(!({_exists(self.walk(shape, '?this', constant))}))"
                    if path
                    else f"FILTER(!sameTerm(?this, {constant}))"
                )
                check(component, f"SELECT ?this WHERE {{ {focus} {test} }}", has_value=False)
            elif predicate == SH.lessThanOrEquals:
                other = self.other_property(node, value)
                check(
                    component,
                    f"SELECT DISTINCT ?this ?value ?other WHERE {{ {focus} {values} "
                    f"?this {other} ?other . FILTER(!COALESCE({_typed('?value')} <= {_typed('?other')}, false)) }}",
                )
            elif predicate == SH.property:
                if shape.is_property:
                    raise UnsupportedShapeError(
                        f"{node}: sh:property on a property shape that reports is not compiled"
                    )
                child = self.shape(value)
                if not child.is_property:
                    raise UnsupportedShapeError(f"{node}: sh:property {value} has no sh:path")
                if value in stack:
                    raise UnsupportedShapeError(f"{node}: recursive shapes are not compiled")
                checks.extend(self.reporting(child, focus, [*stack, value]))
            else:
                ok = self.ok(node, predicate, value, "?value", stack)
                check(
                    component,
                    f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} FILTER(!({ok})) }}",
                )
        return checks

    # ---- constraint parameters

    def count(self, node: Node, value: Node) -> int:
        if not (isinstance(value, Literal) and value.datatype == XSD.integer):
            raise UnsupportedShapeError(f"{node}: a count must be an xsd:integer ({value!r})")
        count = value.toPython()
        if not isinstance(count, int) or count < 0:
            raise UnsupportedShapeError(f"{node}: a count must be a non-negative integer")
        return count

    def constant(self, node: Node, value: Node) -> str:
        """An sh:in member or sh:hasValue as SPARQL, the term as the data is loaded.
        Not a string: rdflib (and so pySHACL) tells "x" from "x"^^xsd:string and
        "x"@en from "x"@EN, RDF 1.1 does not."""
        if isinstance(value, URIRef):
            return _iri(value)
        if (
            isinstance(value, Literal)
            and not value.language
            and value.datatype not in (None, XSD.string)
        ):
            assert value.datatype is not None
            return f"{_string(str(value))}^^{_datatype(value.datatype)}"
        raise UnsupportedShapeError(
            f"{node}: {value!r} as a value of sh:in or sh:hasValue is not compiled "
            "(IRIs and typed literals other than strings are; match strings with sh:pattern)"
        )

    def other_property(self, node: Node, value: Node) -> str:
        if not isinstance(value, URIRef):
            raise UnsupportedShapeError(f"{node}: sh:lessThanOrEquals must be an IRI")
        return _iri(value)

    def ok(self, node: Node, predicate: URIRef, value: Node, var: str, stack: list[Node]) -> str:
        """A SPARQL expression that is true when the value node ``var`` meets the
        constraint (``predicate``, ``value``) of the shape ``node``, and never an
        error: SHACL counts a comparison that fails (an error) as a violation."""
        if predicate == SH["class"]:
            if not isinstance(value, URIRef):
                raise UnsupportedShapeError(f"{node}: sh:class must be an IRI")
            return (
                f"(!isLiteral({var}) && EXISTS {{ {var} rdf:type/rdfs:subClassOf* {_iri(value)} }})"
            )
        if predicate == SH.datatype:
            if not isinstance(value, URIRef) or value not in _DATATYPES:
                raise UnsupportedShapeError(
                    f"{node}: sh:datatype {value} is not compiled (only "
                    + ", ".join(sorted(str(d) for d in _DATATYPES))
                    + " are: for others rdflib and Oxigraph disagree on which literals are well formed)"
                )
            if value == RDF.langString:
                return f'(isLiteral({var}) && LANG({var}) != "")'
            test = f"(isLiteral({var}) && sameTerm(datatype({var}), {_datatype(value)}))"
            if value == XSD.string:  # "x" as well as "x"^^xsd:string
                test = f"(isLiteral({var}) && sameTerm(datatype({var}), xsd:string) || {test})"
            well_formed = _DATATYPES[value]
            if well_formed is not None:
                test = f"({test} && {well_formed.format(var)})"
            return f"COALESCE({test}, false)"
        if predicate == SH.nodeKind:
            if not isinstance(value, URIRef) or value not in _NODE_KINDS:
                raise UnsupportedShapeError(f"{node}: sh:nodeKind {value} is not a node kind")
            return _NODE_KINDS[value].format(var)
        if predicate in _RANGES:
            if not (isinstance(value, Literal) and value.datatype in _ORDERED) or value.ill_typed:
                raise UnsupportedShapeError(
                    f"{node}: {predicate} {value!r} is not compiled (bounds are well-formed "
                    "xsd:integer, xsd:decimal, xsd:date or xsd:dateTime literals)"
                )
            return f"COALESCE(({_typed(var)} {_RANGES[predicate]} {_literal(value)}), false)"
        if predicate in (SH.minLength, SH.maxLength):
            length = self.count(node, value)
            op = ">=" if predicate == SH.minLength else "<="
            return f"(!isBlank({var}) && STRLEN(STR({var})) {op} {length})"
        if predicate == SH.pattern:
            return self.pattern(node, value, var)
        if predicate == SH["in"]:
            members = [self.constant(node, m) for m in self.shape_list(node, value)]
            if not members:
                return "false"
            return "(" + " || ".join(f"sameTerm({var}, {m})" for m in members) + ")"
        if predicate == SH["not"]:
            return f"!({self.conforms(value, var, stack)})"
        if predicate == SH.node:
            return self.conforms(value, var, stack)
        if predicate in (SH["and"], SH["or"], SH.xone):
            parts = [self.conforms(m, var, stack) for m in self.shape_list(node, value)]
            if predicate == SH["and"]:
                return "(" + " && ".join(parts) + ")" if parts else "true"
            if predicate == SH["or"]:
                return "(" + " || ".join(parts) + ")" if parts else "false"
            return (
                "((" + " + ".join(f"IF({p}, 1, 0)" for p in parts) + ") = 1)" if parts else "false"
            )
        raise UnsupportedShapeError(f"{node}: {predicate} is not compiled here")  # pragma: no cover

    def pattern(self, node: Node, value: Node, var: str) -> str:
        """sh:pattern. pySHACL reads sh:flags "i" and "m" only, so only they are compiled."""
        if not isinstance(value, Literal):
            raise UnsupportedShapeError(f"{node}: sh:pattern must be a literal")
        flags_node = self.g.value(node, SH.flags)
        flags = str(flags_node) if flags_node is not None else ""
        if set(flags) - {"i", "m"}:
            raise UnsupportedShapeError(f"{node}: sh:flags {flags!r} (only i and m are compiled)")
        pattern = str(value)
        python_flags = (re.I if "i" in flags else 0) | (re.M if "m" in flags else 0)
        try:
            re.compile(pattern, python_flags)
        except re.error as exc:
            raise UnsupportedShapeError(f"{node}: sh:pattern {pattern!r}: {exc}") from None
        if not _oxigraph_regex_ok(pattern, flags):
            raise UnsupportedShapeError(
                f"{node}: sh:pattern {pattern!r} is not a regular expression Oxigraph reads"
            )
        return (
            f"(!isBlank({var}) && COALESCE(REGEX(STR({var}), {_string(pattern)}, "
            f"{_string(flags)}), false))"
        )

    # ---- nested shapes: conformance as an expression

    def conforms(self, node: Node, var: str, stack: list[Node]) -> str:
        """A SPARQL expression that is true when ``var`` conforms to the shape ``node``."""
        if node in stack:
            raise UnsupportedShapeError(f"{node}: recursive shapes are not compiled")
        shape = self.shape(node)
        if shape.deactivated:
            return "true"
        severity = self.g.value(node, SH.severity)
        if severity is not None and severity != SH.Violation:
            raise UnsupportedShapeError(
                f"{node}: a shape used inside another (sh:not, sh:or, sh:node...) must be a "
                "sh:Violation: pySHACL (allow_warnings) counts a nested warning as conforming, "
                "SHACL does not"
            )
        stack = [*stack, node]
        path = shape.steps is not None
        parts: list[str] = []
        for predicate, value in shape.params:
            if predicate == SH.minCount:
                count = self.count(node, value)
                if count:
                    parts.append(self.distinct_values(shape, var, count))
            elif predicate == SH.maxCount:
                count = self.count(node, value)
                parts.append(f"!({self.distinct_values(shape, var, count + 1)})")
            elif predicate == SH.hasValue:
                constant = self.constant(node, value)
                parts.append(
                    _exists(self.walk(shape, var, constant))
                    if path
                    else f"sameTerm({var}, {constant})"
                )
            elif predicate == SH.lessThanOrEquals:
                other, v, o = self.other_property(node, value), self.fresh(), self.fresh()
                parts.append(
                    "!("
                    + _exists(
                        [*self.walk(shape, var, v), f"{var} {other} {o} ."],
                        f"!COALESCE({_typed(v)} <= {_typed(o)}, false)",
                    )
                    + ")"
                )
            elif predicate == SH.property:
                child = self.shape(value)
                if not child.is_property:
                    raise UnsupportedShapeError(f"{node}: sh:property {value} has no sh:path")
                if not path:
                    parts.append(self.conforms(value, var, stack))
                else:
                    v = self.fresh()
                    inner = self.conforms(value, v, stack)
                    parts.append(f"!({_exists(self.walk(shape, var, v), f'!({inner})')})")
            elif not path:
                parts.append(self.ok(node, predicate, value, var, stack))
            else:
                v = self.fresh()
                ok = self.ok(node, predicate, value, v, stack)
                parts.append(f"!({_exists(self.walk(shape, var, v), f'!({ok})')})")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def walk(self, shape: _Shape, subject: str, value: str) -> list[str]:
        """Triple patterns from ``subject`` along the shape's path to ``value``, one a step."""
        assert shape.steps is not None
        nodes = [subject, *(self.fresh() for _ in shape.steps[1:]), value]
        return [
            f"{a} {step} {b} ." for a, step, b in zip(nodes, shape.steps, nodes[1:], strict=False)
        ]

    def distinct_values(self, shape: _Shape, var: str, count: int) -> str:
        """An expression: ``var`` has ``count`` pairwise distinct values of the shape's path."""
        if count > _MAX_NESTED_COUNT:
            raise UnsupportedShapeError(
                f"a count above {_MAX_NESTED_COUNT - 1} in a nested shape is not compiled"
            )
        names = [self.fresh() for _ in range(count)]
        patterns: list[str] = []
        conditions: list[str | None] = []
        for i, name in enumerate(names):
            steps = self.walk(shape, var, name)
            patterns.extend(steps)
            conditions.extend([None] * (len(steps) - 1))
            conditions.append(" && ".join(f"!sameTerm({name}, {b})" for b in names[:i]) or None)
        return _exists(patterns, conditions)


def _exists(patterns: list[str], condition: str | list[str | None] | None = None) -> str:
    """``EXISTS`` over a join of triple patterns, nested one pattern a level: Oxigraph
    looks up a single pattern by the bindings from outside, but scans a group of
    several (``NOT EXISTS { ?x p ?y . ?y q ?z }`` took a second on 64 letters).
    ``condition`` filters the innermost level, or each level when it is a list."""
    conditions: list[str | None] = (
        condition if isinstance(condition, list) else [*([None] * (len(patterns) - 1)), condition]
    )
    inner = ""
    for pattern, test in zip(reversed(patterns), reversed(conditions), strict=True):
        nested = f" FILTER({test})" if test else ""
        inner = f"EXISTS {{ {pattern}{nested}{' FILTER(' + inner + ')' if inner else ''} }}"
    return inner


def _oxigraph_regex_ok(pattern: str, flags: str) -> bool:
    """Whether Oxigraph compiles the pattern (an error in REGEX would quietly make
    every value pass)."""
    query = f'SELECT ?ok WHERE {{ BIND(COALESCE(REGEX("", {_string(pattern)}, {_string(flags)}), "bad") AS ?ok) }}'
    solutions = ox.Store().query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    for solution in solutions:
        ok = solution["ok"]
        return isinstance(ok, ox.Literal) and ok.value != "bad"
    return False  # pragma: no cover


# ---------------------------------------------------------------- loading data


_BLANK_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_XSD_STRING = str(XSD.string)


@dataclass(frozen=True)
class _Prepared:
    """Triples ready to load: N-Triples, quads with blank nodes, blank node labels."""

    ntriples: bytes
    quads: list[ox.Quad]
    blanks: dict[str, BNode]


# The closing quote of a typed literal in N-Triples: a quote after an even
# number of backslashes (an odd one escapes it), followed by ^^<.
_TYPED_LITERAL = re.compile(rb'(?<!\\)((?:\\\\)*)"\^\^<')


def _nt_literal(term: Literal) -> str:
    """A literal in N-Triples, a typed one under the alias of its datatype."""
    lexical = f'"{str(term).translate(_NT_ESCAPES)}"'
    if term.language:
        return f"{lexical}@{term.language}"
    if term.datatype is not None:
        return f"{lexical}^^<{_ALIAS}{term.datatype}>"
    return lexical


class _Loader:
    """Loads rdflib triples into an Oxigraph store, typed literals under the
    alias of their datatype, and maps the terms of results back to rdflib terms."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.labels: dict[Node, str] = {}  # blank node -> its label in the store
        self.blanks: dict[str, BNode] = {}

    def load(self, triples: Iterable[Triple]) -> None:
        """Load triples: as N-Triples, which Oxigraph parses fast, except those with
        a blank node, whose label Oxigraph's parser would change."""
        nquads = getattr(triples, "nquads", None)
        identifier = getattr(triples, "identifier", None)
        if callable(nquads) and isinstance(identifier, URIRef):
            self.load_nquads(nquads(), identifier)
        else:
            self.load_prepared(self.write_all(triples))

    def load_nquads(self, data: bytes, graph: URIRef) -> None:
        """Load N-Quads of one graph into the default graph, typed literals aliased."""
        alias = b'"^^<' + _ALIAS.encode()
        if b'\\"^^<' in data:  # "^^< inside a literal, or after a final backslash: rare
            data = _TYPED_LITERAL.sub(rb"\1" + alias, data)
        else:
            data = data.replace(b'"^^<', alias)
        data = data.replace(f" <{graph}> .\n".encode(), b" .\n")
        self.store.load(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)

    @classmethod
    def prepare(cls, triples: Iterable[Triple]) -> _Prepared:
        """Triples written for loading into any store."""
        return _Loader(ox.Store()).write_all(triples)

    def write_all(self, triples: Iterable[Triple]) -> _Prepared:
        """N-Triples of the triples of IRIs and literals (term by term, with no
        lookups: hashing rdflib terms cost more than writing them), and quads of
        the others. An IRI that N-Triples cannot hold fails here or in the parse."""
        lines: list[str] = []
        append = lines.append
        others: list[Triple] = []
        for s, p, o in triples:
            if type(s) is URIRef and type(p) is URIRef:
                if type(o) is URIRef:
                    append(f"<{s}> <{p}> <{o}> .\n")
                    continue
                if type(o) is Literal:
                    append(f"<{s}> <{p}> {_nt_literal(o)} .\n")
                    continue
            others.append((s, p, o))
        blank: list[Triple] = []
        for triple in others:
            terms = [self.write(term) for term in triple]
            if "_" in (terms[0][0], terms[2][0]):
                blank.append(triple)
            else:
                append(f"{terms[0]} {terms[1]} {terms[2]} .\n")
        quads = [ox.Quad(self.term(s), self.term(p), self.term(o)) for s, p, o in blank]  # type: ignore[arg-type]
        return _Prepared("".join(lines).encode("utf-8"), quads, dict(self.blanks))

    def load_prepared(self, prepared: _Prepared) -> None:
        if prepared.ntriples:
            try:
                self.store.load(prepared.ntriples, format=ox.RdfFormat.N_TRIPLES, lenient=True)
            except SyntaxError:
                for line in prepared.ntriples.decode("utf-8").splitlines():
                    for iri in re.findall(r"<([^>]*)>", line.split('"', 1)[0]):
                        if _IRI_FORBIDDEN.search(iri):
                            raise ImrKgError(f"{iri!r} is not an IRI that Oxigraph reads") from None
                raise
        if prepared.quads:
            self.store.extend(prepared.quads)
        self.blanks.update(prepared.blanks)

    def write(self, term: Node) -> str:
        """A term in N-Triples; a blank node as ``_:label``, its label kept in ``blanks``."""
        if isinstance(term, URIRef):
            if _IRI_FORBIDDEN.search(term):
                raise ImrKgError(f"{term!r} is not an IRI that Oxigraph reads")
            return f"<{term}>"
        if isinstance(term, Literal):
            return _nt_literal(term)
        if isinstance(term, BNode):
            label = self.labels.get(term)
            if label is None:
                label = str(term)
                if not _BLANK_LABEL.fullmatch(label):
                    label = f"imrkg-x{len(self.labels)}"
                self.labels[term] = label
                self.blanks[label] = term
            return f"_:{label}"
        raise ImrKgError(f"not an RDF term: {term!r}")

    def term(self, term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        """A term as a pyoxigraph term, loaded the same way as :meth:`write` writes it."""
        if isinstance(term, BNode):
            return ox.BlankNode(self.write(term)[2:])
        if isinstance(term, URIRef):
            return ox.NamedNode(term)
        assert isinstance(term, Literal)
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(_ALIAS + term.datatype))
        return ox.Literal(str(term))

    def back(self, term: object) -> Node:
        """The rdflib term a result's term came from."""
        if isinstance(term, ox.NamedNode):
            return URIRef(term.value)
        if isinstance(term, ox.BlankNode):
            return self.blanks.get(term.value) or BNode(term.value)
        if isinstance(term, ox.Literal):
            if term.language:
                return Literal(term.value, lang=term.language)
            datatype = term.datatype.value
            if datatype.startswith(_ALIAS):
                return Literal(term.value, datatype=datatype[len(_ALIAS) :], normalize=False)
            return Literal(term.value)
        raise ImrKgError(f"not an RDF term: {term!r}")  # pragma: no cover
