"""The library of named queries: ``queries/*.rq``, their headers, typed parameters, and running them.

Each file is one question. It starts with a header of comment lines::

    # summary: one line
    # description: what it answers and how to read it,
    #   continued on indented comment lines
    # param: NAME TYPE [DEFAULT | optional] -- what it does

A parameter NAME is the query's variable ``?_NAME``: the leading underscore
keeps it apart from the result columns, so that ``treatment`` can be both a
parameter and a column. A parameter is bound, never formatted into the text:
its value is checked against its TYPE, made an RDF term, and given to the
query as a ``VALUES`` block at the top of every ``WHERE`` clause (the query's
own and its subqueries'), which any SPARQL 1.1 engine evaluates. An optional
parameter that is not given stays unbound, so a query reads it as
``!BOUND(?_treatment) || ...``.

Types: ``string``, ``integer``, ``decimal``, ``boolean``, ``date`` (YYYY-MM-DD),
``iri``, ``case`` (a case number, or the ``sha256-`` key of a letter without one,
that must be in the store) and ``treatment`` (a label, local name or IRI of the
treatment vocabulary, bound as the concept's IRI). A parameter named ``limit``
caps the number of rows, best first, as ``LIMIT`` would if SPARQL let ``LIMIT``
take a variable.

>>> query = named_query("outcomes-by-treatment")
>>> query.summary
'Disputed items upheld and overturned for each treatment of the vocabulary.'
>>> [(p.name, p.type, p.default) for p in query.parameters]
[('min_items', 'integer', '1')]
>>> print(bind("SELECT ?x WHERE { ?x ?p ?_n }", {"n": Literal(3)}))
SELECT ?x WHERE {
  VALUES (?_n) { ("3"^^<http://www.w3.org/2001/XMLSchema#integer>) }
 ?x ?p ?_n }
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from rdflib import XSD, Literal, URIRef
from rdflib.term import Node

from imrkg.errors import QueryError, ResourceError
from imrkg.resources import queries_dir
from imrkg.results import Answer, Solutions
from imrkg.store import KnowledgeStore, vocabulary_digest

PARAMETER_TYPES = ("string", "integer", "decimal", "boolean", "date", "iri", "case", "treatment")
TREATMENT_SCHEME = "https://w3id.org/imr-kg/vocab/treatment"
_HEADER_KEYS = ("summary", "description", "param")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CASE = re.compile(r"CM\d{2}-\d{5,7}|sha256-[0-9a-f]{16}")
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*")
# SPARQL's lexical pieces that may hold a brace or a keyword without being one
_SKIPPED = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'  # strings
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'  # IRIs (a lone '<' is the less-than operator)
    r"|#[^\n]*"  # comments
)
_WHERE = re.compile(r"(?<![\w:?$])WHERE(?![\w:])", re.IGNORECASE)
_SERVICE = re.compile(r"(?<![\w:?$])SERVICE(?![\w:])", re.IGNORECASE)
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])", re.IGNORECASE)
_UPDATE = re.compile(
    r"^(?:\s|PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s+<[^>]*>)*"
    r"(?:INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Parameter:
    """One parameter of a named query."""

    name: str
    type: str
    required: bool
    default: str | None = None
    description: str = ""

    @property
    def variable(self) -> str:
        """The query variable the parameter binds (without its '?')."""
        return f"_{self.name}"


@dataclass(frozen=True)
class NamedQuery:
    """A query of the library: its name (the file's stem), header and text."""

    name: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    text: str
    path: Path

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise QueryError(f"query {self.name} has no parameter {name!r} (its parameters: {known})")


def parse_query_file(path: Path) -> NamedQuery:
    """Read one ``.rq`` file and its header."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {key: [] for key in _HEADER_KEYS}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:]
        match = re.match(r"\s?([a-z]+):\s*(.*)$", body)
        if match and not body.startswith("   "):
            key, value = match.groups()
            if key not in fields:
                raise ResourceError(f"{path}: unknown header key {key!r} (one of {_HEADER_KEYS})")
            if key == "param":
                fields["param"].append(value)
                current = None
            else:
                fields[key].append(value)
                current = fields[key]
        elif current is not None and body.strip():
            current.append(body.strip())
    summary = " ".join(fields["summary"]).strip()
    description = " ".join(fields["description"]).strip()
    if not summary or not description:
        raise ResourceError(f"{path}: the header needs '# summary:' and '# description:' lines")
    parameters = tuple(_parse_parameter(path, line) for line in fields["param"])
    for parameter in parameters:
        if parameter.name != "limit" and not re.search(rf"[?$]{parameter.variable}\b", text):
            raise ResourceError(
                f"{path}: parameter {parameter.name} is not used as ?{parameter.variable}"
            )
    return NamedQuery(path.stem, summary, description, parameters, text, path)


def _parse_parameter(path: Path, line: str) -> Parameter:
    spec, _, description = line.partition("--")
    words = spec.split()
    if len(words) not in (2, 3) or not _NAME.fullmatch(words[0]) or words[1] not in PARAMETER_TYPES:
        raise ResourceError(
            f"{path}: bad parameter line {line!r} (NAME TYPE [DEFAULT|optional] -- description;"
            f" TYPE one of {', '.join(PARAMETER_TYPES)})"
        )
    name, kind = words[0], words[1]
    extra = words[2] if len(words) == 3 else None
    if extra == "optional":
        return Parameter(name, kind, required=False, description=description.strip())
    return Parameter(
        name, kind, required=extra is None, default=extra, description=description.strip()
    )


@cache
def library() -> dict[str, NamedQuery]:
    """Every named query, by name."""
    queries = {path.stem: parse_query_file(path) for path in sorted(queries_dir().glob("*.rq"))}
    if not queries:
        raise ResourceError(f"no queries in {queries_dir()}")
    return queries


def named_query(name: str) -> NamedQuery:
    """The named query ``name``; a :class:`QueryError` naming the close ones if there is none."""
    queries = library()
    if name in queries:
        return queries[name]
    close = difflib.get_close_matches(name, list(queries), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else " ('imrkg query --list' lists them)"
    raise QueryError(f"no query named {name!r}{hint}")


# ----------------------------------------------------------------- binding


def _code_spans(text: str) -> Iterator[tuple[int, int]]:
    """The stretches of the query that are code, not strings, IRIs or comments."""
    position = 0
    for skipped in _SKIPPED.finditer(text):
        yield position, skipped.start()
        position = skipped.end()
    yield position, len(text)


def where_openings(text: str) -> list[int]:
    """Where each ``WHERE {`` group opens: the offset just after its brace.

    >>> text = 'SELECT * WHERE { ?s <urn:a#WHERE> "WHERE {" { SELECT ?s WHERE { ?s ?p ?o } } }'
    >>> [text[i - 1 : i + 4] for i in where_openings(text)]
    ['{ ?s ', '{ ?s ']
    """
    openings = []
    pending = False
    for start, end in _code_spans(text):
        position = start
        while position < end:
            if pending:
                brace = text.find("{", position, end)
                if brace < 0:
                    break
                openings.append(brace + 1)
                pending = False
                position = brace + 1
                continue
            match = _WHERE.search(text, position, end)
            if not match:
                break
            pending = True
            position = match.end()
    return openings


def bind(text: str, values: Mapping[str, Node]) -> str:
    """The query with the parameters bound: ``VALUES (?_name ...) { (term ...) }`` at the top of
    every WHERE group. Terms are written in N-Triples syntax by rdflib, which escapes them."""
    if not values:
        return text
    openings = where_openings(text)
    if not openings:
        raise QueryError("the query has no WHERE clause to bind its parameters in")
    names = " ".join(f"?_{name}" for name in values)
    terms = " ".join(term.n3() for term in values.values())
    block = f"\n  VALUES ({names}) {{ ({terms}) }}\n"
    for opening in reversed(openings):
        text = text[:opening] + block + text[opening:]
    return text


def is_update(text: str) -> bool:
    """Whether the text is a SPARQL Update request rather than a query.

    >>> is_update("PREFIX ex: <urn:x#> INSERT DATA { ex:a ex:b ex:c }")
    True
    >>> is_update("SELECT * WHERE { ?s ?p ?o }")
    False
    """
    without_comments = _SKIPPED.sub(lambda m: " " if m.group().startswith("#") else m.group(), text)
    return bool(_UPDATE.match(without_comments))


def is_federated(text: str) -> bool:
    """Whether the query asks another endpoint (``SERVICE``), which would make the engine
    fetch from the network: queries here read the store only.

    >>> is_federated("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    True
    >>> is_federated('SELECT ?service WHERE { ?service <urn:p> "SERVICE" } # SERVICE')
    False
    """
    return any(_SERVICE.search(text, start, end) for start, end in _code_spans(text))


def names_dataset(text: str) -> bool:
    """Whether the query names its own dataset (``FROM``, ``FROM NAMED``): then its
    default graph is what it names, not the union of the store's graphs.

    >>> names_dataset("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }")
    True
    >>> names_dataset('SELECT * WHERE { ?s <urn:from> "FROM" }')
    False
    """
    return any(_FROM.search(text, start, end) for start, end in _code_spans(text))


FEDERATION_REFUSED = (
    "SERVICE is not accepted: queries read this store only, and nothing is fetched from the network"
)


# ------------------------------------------------------------- parameter values


def parameter_term(store: KnowledgeStore, parameter: Parameter, raw: str) -> Node:
    """The RDF term a raw parameter value stands for, checked against the parameter's type."""
    raw = raw.strip()
    kind = parameter.type

    def wrong(expected: str) -> QueryError:
        return QueryError(f"parameter {parameter.name}: expected {expected}, got {raw!r}")

    if kind == "string":
        return Literal(raw)
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise wrong("an integer")
        return Literal(int(raw), datatype=XSD.integer)
    if kind == "decimal":
        try:
            return Literal(Decimal(raw), datatype=XSD.decimal)
        except InvalidOperation:
            raise wrong("a decimal number") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise wrong("true or false")
        return Literal(raw.lower() == "true", datatype=XSD.boolean)
    if kind == "date":
        try:
            return Literal(datetime.date.fromisoformat(raw), datatype=XSD.date)
        except ValueError:
            raise wrong("a date YYYY-MM-DD") from None
    if kind == "iri":
        if not _IRI.fullmatch(raw):
            raise wrong("an absolute IRI")
        return URIRef(raw)
    if kind == "case":
        return _case(store, parameter, raw)
    if kind == "treatment":
        return _treatment(store, parameter, raw)
    raise QueryError(f"parameter {parameter.name}: unknown type {kind!r}")


def _case(store: KnowledgeStore, parameter: Parameter, raw: str) -> Literal:
    if not _CASE.fullmatch(raw):
        raise QueryError(
            f"parameter {parameter.name}: expected a case number such as CM16-0213037"
            f" (or the sha256- key of a letter without one), got {raw!r}"
        )
    term = Literal(raw)
    found = store.query(
        bind(
            "PREFIX imr: <https://w3id.org/imr-kg/ontology#>\n"
            "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "ASK WHERE { ?letter a imr:DeterminationLetter ; dcterms:identifier ?_case }",
            {"case": term},
        )
    )
    if not getattr(found, "value", False):
        raise QueryError(f"parameter {parameter.name}: no letter {raw} in the store ({store.path})")
    return term


_TREATMENT_LABELS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?concept ?label WHERE {
  ?concept skos:inScheme ?_scheme ;
           skos:prefLabel|skos:altLabel|skos:hiddenLabel|skos:notation ?label .
}
"""


# (store, vocabulary digest) -> the treatment concepts and the concepts of each label
_LABELS: dict[tuple[str, str], tuple[frozenset[str], dict[str, set[str]]]] = {}


def _treatment_labels(store: KnowledgeStore) -> tuple[frozenset[str], dict[str, set[str]]]:
    """The treatment concepts and, for each label (lower case, single spaces), the concepts it
    names. Reading them costs ~120 ms (every label of the vocabulary into Python), more than a
    query reading the cells, so they are kept per store and vocabulary digest: a server or a
    notebook reads them once. A store that states no digest is read every time."""
    digest = vocabulary_digest(store)
    key = (str(store.path), digest or "")
    if digest is not None and key in _LABELS:
        return _LABELS[key]
    answer = store.query(bind(_TREATMENT_LABELS, {"scheme": URIRef(TREATMENT_SCHEME)}))
    assert isinstance(answer, Solutions)
    by_label: dict[str, set[str]] = {}
    concepts: set[str] = set()
    for concept, label in answer.rows:
        concepts.add(str(concept))
        by_label.setdefault(" ".join(str(label).lower().split()), set()).add(str(concept))
    read = (frozenset(concepts), by_label)
    if digest is not None and concepts:
        if len(_LABELS) >= 8:
            _LABELS.clear()
        _LABELS[key] = read
    return read


def _treatment(store: KnowledgeStore, parameter: Parameter, raw: str) -> URIRef:
    """A treatment concept by IRI, local name or any of its labels (case and spacing ignored)."""
    concepts, by_label = _treatment_labels(store)
    wanted = " ".join(raw.lower().split())
    if not concepts:
        raise QueryError(
            f"the store at {store.path} holds no treatment vocabulary (run 'imrkg build')"
        )
    if raw in concepts:
        return URIRef(raw)
    local = f"{TREATMENT_SCHEME}/{wanted.replace(' ', '-')}"
    if local in concepts:
        return URIRef(local)
    matches = by_label.get(wanted, set())
    if len(matches) == 1:
        return URIRef(next(iter(matches)))
    if len(matches) > 1:
        raise QueryError(
            f"parameter {parameter.name}: {raw!r} names several treatments: {', '.join(sorted(matches))}"
        )
    close = difflib.get_close_matches(wanted, list(by_label), n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise QueryError(f"parameter {parameter.name}: no treatment {raw!r} in the vocabulary{hint}")


# --------------------------------------------------------------------- running


def bound_values(
    store: KnowledgeStore, query: NamedQuery, raw: Mapping[str, str]
) -> tuple[dict[str, Node], int | None]:
    """The terms to bind for the given raw values (defaults filled in), and the row limit."""
    for name in raw:
        query.parameter(name)  # unknown names fail here
    values: dict[str, Node] = {}
    limit = None
    for parameter in query.parameters:
        given = raw.get(parameter.name)
        if given is None or given.strip() == "":
            if parameter.required:
                raise QueryError(
                    f"query {query.name} needs parameter {parameter.name} ({parameter.type})"
                )
            given = parameter.default
        if given is None:
            continue
        term = parameter_term(store, parameter, given)
        if parameter.name == "limit":
            limit = int(term)  # type: ignore[call-overload]
            if limit < 0:
                raise QueryError(f"parameter limit: expected a number of rows, got {given!r}")
            continue  # applied to the rows, not bound
        values[parameter.name] = term
    return values, limit


def run_named(
    store: KnowledgeStore,
    name: str,
    raw: Mapping[str, str] | None = None,
    *,
    row_limit: int | None = None,
) -> Answer:
    """Run a named query with raw parameter values (strings, as a user types them)."""
    query = named_query(name)
    values, limit = bound_values(store, query, raw or {})
    caps = [c for c in (limit, row_limit) if c is not None]
    cap = min(caps) if caps else None
    answer = store.query(bind(query.text, values), row_limit=cap)
    if isinstance(answer, Solutions) and limit is not None and cap == limit:
        answer.truncated = False  # the rows asked for, not a cut
    return answer


def run_sparql(store: KnowledgeStore, text: str, *, row_limit: int | None = None) -> Answer:
    """Run ad-hoc SPARQL; updates are refused, since the graph is read-only here."""
    if is_update(text):
        raise QueryError(
            "SPARQL Update is not accepted: the graph is read-only (rebuild it with 'imrkg build')"
        )
    if is_federated(text):
        raise QueryError(FEDERATION_REFUSED)
    return store.query(text, row_limit=row_limit, own_dataset=names_dataset(text))
