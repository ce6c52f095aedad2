"""What a SPARQL query answers, and the formats it is written in.

A query's answer is a :class:`Solutions` table (SELECT), a :class:`Boolean`
(ASK) or a :class:`Triples` graph (CONSTRUCT, DESCRIBE), whatever engine
answered it. Their values are rdflib terms, so that a notebook can hand them to
pandas (``term.toPython()``) and every writer below works the same for the
local store and for any other SPARQL endpoint.

Writers follow the W3C formats: SPARQL 1.1 Query Results JSON, XML, CSV and
TSV for tables and booleans; Turtle, N-Triples and JSON-LD (compacted with the
shipped context, no remote context ever fetched) for graphs. ``table`` is for
people: aligned columns, IRIs shortened with the project's prefixes, long
values cut.

>>> from rdflib import Literal, URIRef
>>> answer = Solutions(["treatment", "items"], [(Literal("acupuncture"), Literal(13))])
>>> write(answer, "csv").decode().splitlines()
['treatment,items', 'acupuncture,13']
>>> print(write(answer, "table").decode(), end="")
treatment    items
-----------  -----
acupuncture     13
"""

from __future__ import annotations

import csv
import html
import io
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import rdflib
from rdflib import XSD, BNode, Literal, URIRef
from rdflib.term import Node

from imrkg.errors import QueryError
from imrkg.graph import PREFIXES
from imrkg.resources import ontology_dir

TABLE_FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("turtle", "ntriples", "jsonld")
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "table": "text/plain; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
}
_NUMERIC = {
    XSD.integer,
    XSD.decimal,
    XSD.double,
    XSD.float,
    XSD.int,
    XSD.long,
    XSD.nonNegativeInteger,
}
_CELL_WIDTH = 60


@dataclass
class Solutions:
    """A SELECT answer: the variables, in order, and one tuple of terms per row (None: unbound).

    ``truncated`` says that the engine had more rows than the row cap let through.
    """

    variables: list[str]
    rows: list[tuple[Node | None, ...]]
    truncated: bool = False

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts of Python values (ints, Decimals, dates, strings), unbound left out."""
        return [
            {
                v: _python(term)
                for v, term in zip(self.variables, row, strict=True)
                if term is not None
            }
            for row in self.rows
        ]

    def _repr_html_(self) -> str:
        """The rows as an HTML table, so that a notebook shows an answer as one."""
        head = "".join(f"<th>{html.escape(v)}</th>" for v in self.variables)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(short(t)) if t is not None else ''}</td>" for t in row)
            + "</tr>"
            for row in self.rows
        )
        note = "<p>(cut at the row cap)</p>" if self.truncated else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"

    def column(self, name: str) -> list[Any]:
        """One column's Python values, None where unbound."""
        index = self.variables.index(name)
        return [_python(row[index]) if row[index] is not None else None for row in self.rows]


@dataclass
class Boolean:
    """An ASK answer."""

    value: bool


@dataclass
class Triples:
    """A CONSTRUCT or DESCRIBE answer."""

    graph: rdflib.Graph = field(default_factory=rdflib.Graph)
    truncated: bool = False


Answer = Solutions | Boolean | Triples


def _python(term: Node | None) -> Any:
    if isinstance(term, Literal):
        value = term.toPython()
        return value if not isinstance(value, Literal) else str(value)
    return str(term) if term is not None else None


def formats_for(answer: Answer) -> tuple[str, ...]:
    """The formats an answer can be written in."""
    return GRAPH_FORMATS if isinstance(answer, Triples) else TABLE_FORMATS


def write(answer: Answer, fmt: str) -> bytes:
    """The answer in a format (see :data:`TABLE_FORMATS`, :data:`GRAPH_FORMATS`)."""
    if fmt not in formats_for(answer):
        kind = "a graph" if isinstance(answer, Triples) else "a table"
        raise QueryError(
            f"format {fmt!r} does not fit {kind} (use one of {', '.join(formats_for(answer))})"
        )
    if isinstance(answer, Triples):
        return _write_graph(answer.graph, fmt)
    writer = {
        "json": _json,
        "xml": _xml,
        "csv": _csv,
        "tsv": _tsv,
        "table": _table,
    }[fmt]
    return writer(answer).encode("utf-8")


# ---------------------------------------------------------------- SPARQL JSON


def _json_term(term: Node) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    assert isinstance(term, Literal)
    value: dict[str, str] = {"type": "literal", "value": str(term)}
    if term.language:
        value["xml:lang"] = term.language
    elif term.datatype is not None and term.datatype != XSD.string:
        value["datatype"] = str(term.datatype)
    return value


def _json(answer: Solutions | Boolean) -> str:
    if isinstance(answer, Boolean):
        return json.dumps({"head": {}, "boolean": answer.value})
    bindings = [
        {v: _json_term(t) for v, t in zip(answer.variables, row, strict=True) if t is not None}
        for row in answer.rows
    ]
    return json.dumps(
        {"head": {"vars": answer.variables}, "results": {"bindings": bindings}},
        ensure_ascii=False,
    )


# ----------------------------------------------------------------- SPARQL XML


def _xml(answer: Solutions | Boolean) -> str:
    out = [
        '<?xml version="1.0"?>',
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
    ]
    if isinstance(answer, Boolean):
        out += ["<head/>", f"<boolean>{'true' if answer.value else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out.append("<head>")
    out += [f"<variable name={quoteattr(v)}/>" for v in answer.variables]
    out += ["</head>", "<results>"]
    for row in answer.rows:
        out.append("<result>")
        for variable, term in zip(answer.variables, row, strict=True):
            if term is None:
                continue
            out.append(f"<binding name={quoteattr(variable)}>{_xml_term(term)}</binding>")
        out.append("</result>")
    out += ["</results>", "</sparql>"]
    return "\n".join(out) + "\n"


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{escape(str(term))}</bnode>"
    assert isinstance(term, Literal)
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(str(term))}</literal>"
    if term.datatype is not None and term.datatype != XSD.string:
        return f"<literal datatype={quoteattr(str(term.datatype))}>{escape(str(term))}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


# ------------------------------------------------------------- SPARQL CSV/TSV


def _csv(answer: Solutions | Boolean) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if isinstance(answer, Boolean):
        writer.writerow(["boolean"])
        writer.writerow(["true" if answer.value else "false"])
        return buffer.getvalue()
    writer.writerow(answer.variables)
    for row in answer.rows:
        writer.writerow(
            ["" if t is None else f"_:{t}" if isinstance(t, BNode) else str(t) for t in row]
        )
    return buffer.getvalue()


def _tsv(answer: Solutions | Boolean) -> str:
    if isinstance(answer, Boolean):
        return "?boolean\n" + ("true" if answer.value else "false") + "\n"
    lines = ["\t".join(f"?{v}" for v in answer.variables)]
    for row in answer.rows:
        lines.append("\t".join("" if t is None else _ntriples_term(t) for t in row))
    return "\n".join(lines) + "\n"


def _ntriples_term(term: Node) -> str:
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term)).n3()
    return term.n3()


# ---------------------------------------------------------------------- table


def short(term: Node | None) -> str:
    """A term as a person reads it: an IRI by its prefixed name, a literal by its text.

    >>> short(URIRef("https://w3id.org/imr-kg/ontology#DisputedItem"))
    'imr:DisputedItem'
    """
    if term is None:
        return ""
    if isinstance(term, URIRef):
        text = str(term)
        for prefix, namespace in PREFIXES.items():
            if text.startswith(namespace) and len(text) > len(namespace):
                return f"{prefix}:{text[len(namespace) :]}"
        return text
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def _table(answer: Solutions | Boolean) -> str:
    if isinstance(answer, Boolean):
        return ("yes" if answer.value else "no") + "\n"
    cells = [[_cell(t) for t in row] for row in answer.rows]
    widths = [
        max([len(v), *(len(row[i]) for row in cells)]) for i, v in enumerate(answer.variables)
    ]
    numeric = [
        bool(answer.rows)
        and all(
            row[i] is None or (isinstance(row[i], Literal) and row[i].datatype in _NUMERIC)  # type: ignore[union-attr]
            for row in answer.rows
        )
        for i in range(len(answer.variables))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(answer.variables), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    if answer.truncated:
        out.append(f"(cut at {len(answer.rows)} rows)")
    return "\n".join(out) + "\n"


def _cell(term: Node | None) -> str:
    text = " ".join(short(term).split())
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 3] + "..."


# ---------------------------------------------------------------------- graphs


@cache
def jsonld_context() -> dict[str, Any]:
    """The shipped JSON-LD context (its ``@context`` object)."""
    data = json.loads((ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))
    return data.get("@context", data)  # type: ignore[no-any-return]


def _write_graph(graph: rdflib.Graph, fmt: str) -> bytes:
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    if fmt == "jsonld":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            text = graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
        return text.encode("utf-8")
    return graph.serialize(format="nt" if fmt == "ntriples" else "turtle").encode("utf-8")
