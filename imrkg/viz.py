"""Pictures of the graph: networkx views of the store and matplotlib drawings of them.

The notebooks and ``imrkg plot`` call these, so that they hold little logic.
Each view is a networkx graph whose nodes carry ``kind`` (what the node is:
``item``, ``treatment``, ``guideline section``...) and ``label`` (what to print),
and whose edges carry ``relation`` or ``weight``; the drawings colour nodes by
kind, with a legend, and lay out one letter in columns so that a letter of 20
items stays readable.

>>> g = nx.DiGraph()
>>> g.add_node("a", kind="item", label="1. Twelve sessions of physical therapy")
>>> g.add_node("b", kind="treatment", label="physical therapy (PT)")
>>> g.add_edge("a", "b", relation="treatment")
>>> sorted(layered_layout(g))
['a', 'b']
>>> wrap("Magnetic resonance imaging of the lumbar spine without contrast", 24)
'Magnetic resonance\\nimaging of the lumbar\\nspine without contrast'
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
import textwrap
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import rdflib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from rdflib import DCTERMS, RDF, RDFS, URIRef

from imrkg.errors import QueryError
from imrkg.graph import IMR, SCHEMA, VOCAB
from imrkg.loader.vocab import load_vocabulary
from imrkg.queries import run_named
from imrkg.resources import published_statistics_file, web_dir
from imrkg.results import Solutions, Triples
from imrkg.store import KnowledgeStore

OUTCOME = f"{VOCAB}outcome/"

# One colour per kind of node; outcomes by what they did to the denial.
KIND_COLOURS: dict[str, str] = {
    "letter": "#4c4c4c",
    "case": "#7f7f7f",
    "reviewer": "#9467bd",
    "worker": "#8c564b",
    "injury": "#c49c94",
    "diagnosis": "#e377c2",
    "item": "#1f77b4",
    "treatment": "#17becf",
    "category": "#aec7e8",
    "reason": "#bcbd22",
    "guideline section": "#ff7f0e",
    "guideline": "#ffbb78",
    "similar item": "#1f77b4",
}
OUTCOME_COLOURS: dict[str, str] = {"upheld": "#d62728", "overturned": "#2ca02c"}

# Columns of a letter's picture, left to right: the worker's side on the left,
# the items in the middle, what decided them on the right.
LETTER_COLUMNS: dict[str, int] = {
    "diagnosis": 0,
    "injury": 1,
    "worker": 2,
    "case": 3,
    "reviewer": 3,
    "letter": 4,
    "item": 5,
    "treatment": 6,
    "outcome": 6,
    "reason": 6,
    "category": 7,
    "guideline section": 8,
    "guideline": 9,
}


def wrap(text: str, width: int = 28, lines: int = 3) -> str:
    """A label broken into lines of ``width`` characters, at most ``lines`` of them."""
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder=" ..."))


def _solutions(store: KnowledgeStore, name: str, params: Mapping[str, str]) -> Solutions:
    answer = run_named(store, name, dict(params))
    if not isinstance(answer, Solutions):
        raise QueryError(f"the query {name} does not give a table")
    return answer


# ---------------------------------------------------------------- the views


def letter_network(store: KnowledgeStore, case: str) -> nx.DiGraph:
    """One letter as a network: worker -> injury -> diagnoses; letter -> items -> treatment
    -> DWC category; items -> outcome and reasons; items -> the guideline sections the IMR
    reviewer relied on -> their guideline. Built from the letter's named graph (the
    ``case-graph`` query) and the vocabularies' labels."""
    answer = run_named(store, "case-graph", {"case": case})
    if not isinstance(answer, Triples):
        raise QueryError("the case-graph query does not give a graph")
    return letter_network_of(answer.graph)


def letter_network_of(graph: rdflib.Graph) -> nx.DiGraph:
    """:func:`letter_network` for a letter's graph already in hand."""
    vocabulary = load_vocabulary()

    def concept_label(iri: rdflib.term.Node) -> str:
        concept = vocabulary.concepts.get(str(iri))
        return concept.label if concept else str(iri).rsplit("/", 1)[-1]

    def one(subject: rdflib.term.Node, prop: URIRef) -> rdflib.term.Node | None:
        return next(iter(graph.objects(subject, prop)), None)

    net = nx.DiGraph()

    def node(key: rdflib.term.Node | str, kind: str, label: str, **extra: Any) -> str:
        name = str(key)
        net.add_node(name, kind=kind, label=label, **extra)
        return name

    for letter in graph.subjects(RDF.type, IMR.DeterminationLetter):
        number = one(letter, DCTERMS.identifier)
        top = node(letter, "letter", f"letter {number}")
        reviewer = one(letter, IMR.reviewedBy)
        if reviewer is not None:
            specialty = one(reviewer, IMR.specialty)
            text = concept_label(specialty) if specialty is not None else "specialty not stated"
            net.add_edge(
                top, node(reviewer, "reviewer", f"reviewer: {text}"), relation="reviewed by"
            )
        case = one(letter, IMR.concerns)
        if case is not None:
            _worker_side(net, graph, node, top, case, one)
        for item in graph.objects(letter, IMR.hasItem):
            _item_side(net, graph, node, top, item, one, concept_label)
    return net


def _worker_side(
    net: nx.DiGraph,
    graph: rdflib.Graph,
    node: Callable[..., str],
    letter: str,
    case: rdflib.term.Node,
    one: Callable[[rdflib.term.Node, URIRef], rdflib.term.Node | None],
) -> None:
    case_node = node(case, "case", f"IMR case {one(case, DCTERMS.identifier)}")
    net.add_edge(letter, case_node, relation="concerns")
    worker = one(case, IMR.injuredWorker)
    injury = one(case, IMR.injury)
    parent = case_node
    if worker is not None:
        facts = [str(v) for v in (one(worker, IMR.age), one(worker, IMR.sex)) if v is not None]
        parent = node(worker, "worker", ", ".join(["worker", *facts]))
        net.add_edge(case_node, parent, relation="injured worker")
    if injury is not None:
        date = one(injury, DCTERMS.date)
        injury_node = node(injury, "injury", f"injury of {date}" if date else "injury")
        net.add_edge(parent, injury_node, relation="sustained")
        parent = injury_node
    for diagnosis in sorted(graph.objects(case, IMR.hasDiagnosis), key=str):
        text = str(one(diagnosis, IMR.diagnosisText) or "")
        code = one(diagnosis, IMR.icd10Code)
        value = one(code, SCHEMA.codeValue) if code is not None else None
        label = f"{text} ({value})" if value else text
        net.add_edge(parent, node(diagnosis, "diagnosis", label), relation="diagnosed as")


def _item_side(
    net: nx.DiGraph,
    graph: rdflib.Graph,
    node: Callable[..., str],
    letter: str,
    item: rdflib.term.Node,
    one: Callable[[rdflib.term.Node, URIRef], rdflib.term.Node | None],
    concept_label: Callable[[rdflib.term.Node], str],
) -> None:
    number = one(item, IMR.itemNumber)
    request = str(one(item, IMR.requestText) or "")
    outcome = one(item, IMR.outcome)
    outcome_name = str(outcome).removeprefix(OUTCOME) if outcome is not None else None
    item_node = node(item, "item", f"{number}. {request}", number=int(str(number or 0)))
    net.nodes[item_node]["outcome"] = outcome_name
    net.add_edge(letter, item_node, relation="disputes")
    treatment = one(item, IMR.treatment)
    if treatment is not None:
        treatment_node = node(treatment, "treatment", concept_label(treatment))
        net.add_edge(item_node, treatment_node, relation="treatment")
        category = load_vocabulary().inherited(str(treatment), IMR.dwcCategory)
        if category is not None:
            net.add_edge(
                treatment_node,
                node(category, "category", concept_label(category)),
                relation="DWC category",
            )
    if outcome is not None:
        net.add_edge(
            item_node,
            node(outcome, "outcome", concept_label(outcome), outcome=outcome_name),
            relation="outcome",
        )
    for reason in graph.objects(item, IMR.reason):
        net.add_edge(item_node, node(reason, "reason", concept_label(reason)), relation="reason")
    for citation in graph.objects(item, IMR.citation):
        if one(citation, IMR.citedBy) != IMR.imrReviewer:
            continue
        guideline = one(citation, IMR.citesGuideline)
        if guideline is None:
            continue
        key, label = _cited_part(graph, citation, guideline, one, concept_label)
        part = node(key, "guideline section", label)
        net.add_edge(item_node, part, relation="relied on")
        net.add_edge(
            part, node(guideline, "guideline", concept_label(guideline)), relation="part of"
        )


def _cited_part(
    graph: rdflib.Graph,
    citation: rdflib.term.Node,
    guideline: rdflib.term.Node,
    one: Callable[[rdflib.term.Node, URIRef], rdflib.term.Node | None],
    concept_label: Callable[[rdflib.term.Node], str],
) -> tuple[str, str]:
    """The node a citation points at (section, else pages, else chapter, else the whole
    guideline) and its :func:`guideline_part_label`."""
    concept = load_vocabulary().concepts.get(str(guideline))
    edition = one(citation, IMR.editionYear)
    section = one(citation, IMR.citesSection)
    pages = one(citation, IMR.pages)
    chapter = one(citation, IMR.citesChapter)
    label = guideline_part_label(
        concept.notation if concept and concept.notation else concept_label(guideline),
        edition,
        concept_label(chapter) if chapter is not None else None,
        str(one(section, RDFS.label))
        if section is not None
        else f"page(s) {pages}"
        if pages
        else None,
    )
    if section is not None:
        return str(section), label
    if pages is not None:
        return f"{guideline}#pages-{pages}-{edition}", label
    if chapter is not None:
        return f"{chapter}#{edition}", label
    return f"{guideline}#{edition}", label


def guideline_part_label(
    guideline_id: str, edition: object, chapter: str | None, section: str | None
) -> str:
    """'MTUS-ACOEM 2004: Low Back Complaints, Special Studies': the guideline's ID, its
    edition, and the chapter and section (or pages) that are known.

    >>> guideline_part_label("MTUS-AMTG", 2007, None, None)
    'MTUS-AMTG 2007'
    """
    head = f"{guideline_id} {edition}" if edition else guideline_id
    part = ", ".join(p for p in (chapter, section) if p)
    return f"{head}: {part}" if part else head


def citation_network(store: KnowledgeStore, treatment: str | None = None) -> nx.Graph:
    """Treatments and the guideline sections IMR reviewers relied on for them: a bipartite
    graph (``bipartite`` 0 for treatments, 1 for sections), each edge weighted by the items
    that cite the section for the treatment, with their upheld and overturned counts.
    From the ``treatment-guideline-citations`` query."""
    params = {"treatment": treatment} if treatment else {}
    answer = _solutions(store, "treatment-guideline-citations", params)
    net = nx.Graph()
    for row in answer.records():
        part = guideline_part_label(
            row["guideline_id"], row.get("edition"), row.get("chapter"), row.get("section")
        )
        t = f"treatment: {row['treatment']}"
        s = f"section: {part}"
        net.add_node(t, kind="treatment", label=row["treatment"], bipartite=0)
        net.add_node(
            s, kind="guideline section", label=part, bipartite=1, guideline=row["guideline"]
        )
        net.add_edge(t, s, weight=row["items"], upheld=row["upheld"], overturned=row["overturned"])
    for name in net:
        net.nodes[name]["items"] = sum(w for _, _, w in net.edges(name, data="weight"))
    return net


def co_diagnosis_network(store: KnowledgeStore, min_letters: int = 1) -> nx.Graph:
    """Diagnoses named in the same letters: nodes carry ``letters`` (how many letters name
    the diagnosis), edges ``weight`` (how many name both). From the ``co-diagnoses`` query."""
    answer = _solutions(store, "co-diagnoses", {"min_letters": str(min_letters)})
    net = nx.Graph()
    for row in answer.records():
        for name, code, letters in (
            (row["diagnosis"], row.get("icd10"), row.get("diagnosis_letters")),
            (row["other_diagnosis"], row.get("other_icd10"), row.get("other_letters")),
        ):
            label = f"{name} ({code})" if code and code not in name else name
            net.add_node(name, kind="diagnosis", label=label, letters=letters or 0)
        net.add_edge(row["diagnosis"], row["other_diagnosis"], weight=row["letters"])
    return net


def similar_cases_network(store: KnowledgeStore, case: str, limit: int = 10) -> nx.DiGraph:
    """A case, its disputed items, and the items of other letters most like them (the
    ``similar-cases`` query): edges from an item to a similar one carry the ``score``;
    similar items carry their ``outcome`` and ``case``."""
    answer = _solutions(store, "similar-cases", {"case": case, "limit": str(limit)})
    own = [r for r in _solutions(store, "evidence", {"case": case}).records() if "item" in r]
    requests = {r["item"]: r["value"] for r in own if r.get("field") == "item"}
    treatments = {r["item"]: r["value"] for r in own if r.get("field") == "treatment"}
    net = nx.DiGraph()
    net.add_node(case, kind="case", label=f"IMR case {case}")
    for row in answer.records():
        given = f"{case} item {row['for_item']}"
        text = treatments.get(row["for_item"]) or requests.get(row["for_item"], "")
        net.add_node(given, kind="item", label=f"item {row['for_item']}: {text}")
        net.add_edge(case, given, relation="disputes")
        other = f"{row['case']} item {row['item']}"
        net.add_node(
            other,
            kind="similar item",
            label=f"{row['case']} #{row['item']}: {row['treatment']}",
            outcome=row["outcome"],
            case=row["case"],
            score=row["score"],
        )
        net.add_edge(
            given,
            other,
            weight=row["score"],
            relation=f"score {row['score']}",
            shared_regions=row["shared_regions"],
            shared_diagnoses=row["shared_diagnoses"],
        )
    return net


def letter_with_most_items(store: KnowledgeStore) -> str:
    """The case number of the letter that disputes the most items (the first, by case
    number, among equals): a letter worth drawing when none is named."""
    answer = store.query(
        "PREFIX imr: <https://w3id.org/imr-kg/ontology#> "
        "PREFIX dcterms: <http://purl.org/dc/terms/> "
        "SELECT ?case (COUNT(DISTINCT ?item) AS ?items) WHERE { "
        "?letter a imr:DeterminationLetter ; dcterms:identifier ?case ; imr:hasItem ?item } "
        "GROUP BY ?case ORDER BY DESC(?items) ?case LIMIT 1"
    )
    if not isinstance(answer, Solutions) or not answer.rows:
        raise QueryError("the store holds no letters (run 'imrkg build' first)")
    return str(answer.rows[0][0])


def deciding_sections(graph: nx.Graph, treatment: str, top: int = 5) -> list[dict[str, Any]]:
    """The guideline sections most relied on for a treatment in a :func:`citation_network`,
    with how many of its items each decided and how those came out."""
    name = f"treatment: {treatment}"
    if name not in graph:
        return []
    rows = [
        {
            "section": graph.nodes[other]["label"],
            "items": data["weight"],
            "upheld": data["upheld"],
            "overturned": data["overturned"],
        }
        for _, other, data in graph.edges(name, data=True)
    ]
    rows.sort(key=lambda r: (-r["items"], r["section"]))
    return rows[:top]


def communities(graph: nx.Graph, seed: int = 7) -> list[set[str]]:
    """Groups of nodes more tied to each other than to the rest (Louvain, on the weights),
    largest first; deterministic for a seed."""
    found = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    return sorted((set(c) for c in found), key=lambda c: (-len(c), sorted(c)))


def centralities(graph: nx.Graph, top: int = 10, kind: str | None = None) -> list[dict[str, Any]]:
    """The most central nodes (of one kind, if given): weighted degree (items), degree
    centrality and betweenness centrality, highest weighted degree first."""
    degree = nx.degree_centrality(graph) if len(graph) > 1 else dict.fromkeys(graph, 0.0)
    between = nx.betweenness_centrality(graph)
    rows = [
        {
            "node": data.get("label", name),
            "kind": data.get("kind"),
            "weighted_degree": graph.degree(name, weight="weight"),
            "degree_centrality": round(degree[name], 3),
            "betweenness": round(between[name], 3),
        }
        for name, data in graph.nodes(data=True)
        if kind is None or data.get("kind") == kind
    ]
    rows.sort(key=lambda r: (-r["weighted_degree"], -r["betweenness"], str(r["node"])))
    return rows[:top]


# -------------------------------------------------------------- layouts


def layered_layout(
    graph: nx.Graph, columns: Mapping[str, int] = LETTER_COLUMNS
) -> dict[str, tuple[float, float]]:
    """Nodes in columns by kind; within a column, ordered by the mean height of their
    neighbours already placed (so edges cross little) and spread evenly top to bottom."""
    by_column: dict[int, list[str]] = defaultdict(list)
    for name, data in graph.nodes(data=True):
        by_column[columns.get(data.get("kind", ""), max(columns.values()) + 1)].append(name)
    if not by_column:
        return {}
    # the items (else the widest column) are placed first, in their own order; the others
    # follow them outwards
    anchor = columns.get("item", -1)
    if anchor not in by_column:
        anchor = max(by_column, key=lambda c: len(by_column[c]))
    order = [anchor, *sorted((c for c in by_column if c != anchor), key=lambda c: abs(c - anchor))]
    y: dict[str, float] = {}
    undirected = graph.to_undirected(as_view=True) if graph.is_directed() else graph
    for column in order:
        names = by_column[column]
        if column == anchor:
            names.sort(
                key=lambda n: (graph.nodes[n].get("number", 0), str(graph.nodes[n].get("label", n)))
            )
        else:

            def height(n: str) -> float:
                placed = [y[m] for m in undirected.neighbors(n) if m in y]
                return sum(placed) / len(placed) if placed else 0.5

            names.sort(
                key=lambda n: (
                    -height(n),
                    -float(graph.nodes[n].get("score", 0)),
                    str(graph.nodes[n].get("label", n)),
                )
            )
        for i, name in enumerate(names):
            y[name] = 1 - (i + 0.5) / len(names)
    width = max(by_column) or 1
    return {
        name: (column / width, y[name]) for column, names in by_column.items() for name in names
    }


def bipartite_layout(graph: nx.Graph) -> dict[str, tuple[float, float]]:
    """Treatments (or diagnoses) on the left, guideline sections on the right: the wider
    side in alphabetical order (so a guideline's sections stand together), the other
    beside the nodes it links to."""
    return layered_layout(graph, {"treatment": 0, "guideline section": 1, "diagnosis": 0})


# --------------------------------------------------------------- drawing


def node_colour(data: Mapping[str, Any]) -> str:
    """Outcomes and similar items by outcome; every other node by its kind."""
    if data.get("kind") in ("outcome", "similar item") and data.get("outcome") in OUTCOME_COLOURS:
        return OUTCOME_COLOURS[str(data["outcome"])]
    return KIND_COLOURS.get(str(data.get("kind")), "#cccccc")


def draw_network(
    graph: nx.Graph,
    *,
    pos: Mapping[str, tuple[float, float]] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    label_width: int = 28,
    node_size: Callable[[Mapping[str, Any]], float] | None = None,
    colour: Callable[[str, Mapping[str, Any]], str] | None = None,
    legend: Mapping[str, str] | None = None,
    font_size: float = 7,
    edge_colour: Callable[[Mapping[str, Any]], str] | None = None,
) -> Figure:
    """Draw a view: nodes coloured by kind (or ``colour``), labelled, with a legend; edge
    widths follow ``weight`` where edges have one. Returns the figure (new, or ``ax``'s)."""
    if ax is None:
        size = (
            (18.0, min(max(8.0, 0.5 * _tallest_column(graph, pos)), 60.0)) if pos else (12.0, 9.0)
        )
        figure = Figure(figsize=size, layout="constrained")
        ax = figure.add_subplot()
    figure = ax.get_figure()  # type: ignore[assignment]
    if pos is None:
        pos = nx.spring_layout(graph, seed=7, weight="weight") if len(graph) else {}
    colours = [
        colour(name, data) if colour else node_colour(data) for name, data in graph.nodes(data=True)
    ]
    sizes = [node_size(data) if node_size else 300.0 for _, data in graph.nodes(data=True)]
    weights = [float(w) for *_, w in graph.edges(data="weight", default=0)]
    heaviest = max(weights, default=0.0)
    widths = [0.6 + 4.0 * w / heaviest if heaviest else 1.0 for w in weights]
    edge_colours = [
        edge_colour(d) if edge_colour else "#999999" for *_, d in graph.edges(data=True)
    ]
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        width=widths,
        edge_color=edge_colours,
        alpha=0.6,
        arrows=False,
        node_size=sizes,
    )
    nx.draw_networkx_nodes(
        graph, pos, ax=ax, node_color=colours, node_size=sizes, edgecolors="white"
    )
    labels = {
        name: wrap(str(data.get("label", name)), label_width)
        for name, data in graph.nodes(data=True)
    }
    nx.draw_networkx_labels(
        graph,
        pos,
        labels=labels,
        ax=ax,
        font_size=font_size,
        bbox={
            "boxstyle": "round,pad=0.15",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.75,
        },
    )
    if legend is None:
        kinds = {str(data.get("kind")) for _, data in graph.nodes(data=True)}
        legend = {k: KIND_COLOURS[k] for k in KIND_COLOURS if k in kinds and k != "similar item"}
        outcomes = {
            str(data.get("outcome"))
            for _, data in graph.nodes(data=True)
            if data.get("kind") in ("outcome", "similar item")
        }
        legend = {**legend, **{o: c for o, c in OUTCOME_COLOURS.items() if o in outcomes}}
    handles = [Patch(facecolor=c, label=k) for k, c in legend.items()]
    if handles:
        ax.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False
        )
    if title:
        ax.set_title(title)
    ax.margins(0.08)
    ax.set_axis_off()
    return figure


def _tallest_column(graph: nx.Graph, pos: Mapping[str, tuple[float, float]] | None) -> int:
    if not pos:
        return int(math.sqrt(len(graph)) * 2)
    counts: dict[float, int] = defaultdict(int)
    for x, _ in pos.values():
        counts[round(x, 3)] += 1
    return max(counts.values(), default=1)


def draw_letter(graph: nx.DiGraph, title: str | None = None) -> Figure:
    """One letter's network (:func:`letter_network`) in columns."""
    return draw_network(graph, pos=layered_layout(graph), title=title, label_width=30)


def draw_citation_network(graph: nx.Graph, top: int = 40, title: str | None = None) -> Figure:
    """The treatment-guideline network, its ``top`` heaviest edges, treatments left and
    sections right; edges coloured by the share of their items overturned."""
    edges = sorted(graph.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))[:top]
    shown = graph.edge_subgraph((a, b) for a, b, _ in edges).copy()
    pos = bipartite_layout(shown)
    rows = max(8.0, 0.45 * _tallest_column(shown, pos))
    figure = Figure(figsize=(16, min(rows, 60)), layout="constrained")
    ax = figure.add_subplot()
    draw_network(
        shown,
        pos=pos,
        ax=ax,
        title=title or f"Guideline sections relied on, by treatment (top {len(edges)} links)",
        label_width=40,
        node_size=lambda d: 60.0 + 25.0 * float(d.get("items", 1)),
        edge_colour=_overturn_colour,
    )
    ax.text(
        0.0,
        -0.02,
        "edge width: items; edge colour: grey all upheld, green the more overturned",
        transform=ax.transAxes,
        fontsize=8,
    )
    return figure


def _overturn_colour(data: Mapping[str, Any]) -> str:
    share = float(data.get("overturned", 0)) / max(float(data.get("weight", 1)), 1.0)
    if share == 0:
        return "#999999"
    return "#2ca02c" if share >= 0.5 else "#98df8a"


def draw_similar_cases(graph: nx.DiGraph, title: str | None = None) -> Figure:
    """A case, its items and the similar items of other letters, coloured by outcome."""
    columns = {"case": 0, "item": 1, "similar item": 2}
    pos = layered_layout(graph, columns)
    figure = draw_network(graph, pos=pos, title=title, label_width=40)
    ax = figure.axes[0]
    scores = {
        (a, b): str(d.get("weight", "")) for a, b, d in graph.edges(data=True) if "weight" in d
    }
    nx.draw_networkx_edge_labels(graph, pos, edge_labels=scores, ax=ax, font_size=7)
    return figure


def outcome_bars(
    rows: Iterable[Mapping[str, Any]],
    group: Callable[[Mapping[str, Any]], str],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    top: int = 25,
) -> Figure:
    """Horizontal bars of items upheld and overturned per group, largest first, each
    annotated with its uphold rate."""
    data = sorted(rows, key=lambda r: -int(r["items"]))[:top][::-1]
    if ax is None:
        figure = Figure(figsize=(11, max(4.0, 0.32 * len(data) + 1.5)), layout="constrained")
        ax = figure.add_subplot()
    figure = ax.get_figure()  # type: ignore[assignment]
    names = [wrap(group(r), 60, 1) for r in data]
    upheld = [int(r["upheld"]) for r in data]
    overturned = [int(r["overturned"]) for r in data]
    ax.barh(names, upheld, color=OUTCOME_COLOURS["upheld"], label="upheld (denial stands)")
    ax.barh(names, overturned, left=upheld, color=OUTCOME_COLOURS["overturned"], label="overturned")
    for i, r in enumerate(data):
        ax.text(
            int(r["items"]) + 0.3,
            i,
            f"{100 * float(r['uphold_rate']):.0f}% upheld",
            va="center",
            fontsize=7,
        )
    ax.set_xlabel("disputed items")
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    return figure


@dataclass(frozen=True)
class PublishedFigure:
    """One published IMR statistic."""

    year: int
    measure: str
    value: float
    unit: str
    source: str


def published_figures() -> list[PublishedFigure]:
    """The DWC's and CWCI's published IMR figures kept with the project, each with its source."""
    with published_statistics_file().open(encoding="utf-8", newline="") as handle:
        return [
            PublishedFigure(int(r["year"]), r["measure"], float(r["value"]), r["unit"], r["source"])
            for r in csv.DictReader(handle)
        ]


def published_uphold_shares() -> list[tuple[int, float, str]]:
    """(year, percent of disputed services upheld, how it was published) for each year the
    figures give it: as 'services upheld', else as 100 - 'services overturned'."""
    upheld = {f.year: f for f in published_figures() if f.measure == "services upheld"}
    overturned = {f.year: f for f in published_figures() if f.measure == "services overturned"}
    shares = [(y, f.value, f.source) for y, f in upheld.items()]
    shares += [
        (y, round(100 - f.value, 1), f"100 - overturned; {f.source}")
        for y, f in overturned.items()
        if y not in upheld
    ]
    return sorted(shares)


def draw_published_comparison(store: KnowledgeStore, ax: Axes | None = None) -> Figure:
    """The share of disputed items upheld in the store's letters, per decision year and in
    all, beside the shares the DWC and CWCI published."""
    if ax is None:
        figure = Figure(figsize=(11, 5), layout="constrained")
        ax = figure.add_subplot()
    figure = ax.get_figure()  # type: ignore[assignment]
    published = published_uphold_shares()
    ours = [r for r in _solutions(store, "outcomes-by-year", {}).records() if r.get("items")]
    total = sum(int(r["items"]) for r in ours)
    upheld = sum(int(r["upheld"]) for r in ours)
    labels = [str(y) for y, _, _ in published]
    values = [v for _, v, _ in published]
    ax.bar(labels, values, color="#bbbbbb", label="published (DWC / CWCI / DIR)")
    ours_labels, ours_values = [], []
    for r in ours:
        if str(r["year"]).isdigit() and int(r["items"]) >= 10:
            ours_labels.append(f"{r['year']}\nletters")
            ours_values.append(100 * float(r["upheld"]) / float(r["items"]))
    if total:
        ours_labels.append("all\nletters")
        ours_values.append(100 * upheld / total)
    ax.bar(
        ours_labels,
        ours_values,
        color=OUTCOME_COLOURS["upheld"],
        label=f"these letters ({total} items)",
    )
    # bars stand at 0, 1, 2... in the order their categories were first drawn
    for x, v in enumerate([*values, *ours_values]):
        ax.text(x, v + 0.4, f"{v:.1f}", ha="center", fontsize=8)
    ax.set_ylim(min([*values, *ours_values, 80.0]) - 5, 100)
    ax.set_ylabel("% of disputed services upheld")
    ax.set_title("Uphold rate: these letters beside the published figures")
    ax.legend(loc="lower left", fontsize=8)
    return figure


# ------------------------------------------------------------ interactive


def write_interactive(
    graph: nx.Graph, path: Path, *, title: str = "", height: str = "720px"
) -> Path:
    """The graph as an interactive HTML page (pyvis / vis-network), every script and style
    inlined from the installed packages: the page loads nothing from elsewhere."""
    from pyvis.network import Network  # imported here: only this view needs it

    net = Network(
        height=height, width="100%", directed=graph.is_directed(), cdn_resources="in_line"
    )
    for name, data in graph.nodes(data=True):
        net.add_node(
            name,
            label=str(data.get("label", name))[:60],
            title=html.escape(f"{data.get('kind', '')}: {data.get('label', name)}"),
            color=node_colour(data),
            value=float(data.get("items", data.get("letters", 1)) or 1),
        )
    for a, b, data in graph.edges(data=True):
        net.add_edge(
            a,
            b,
            value=float(data.get("weight", 1)),
            title=str(data.get("relation", data.get("weight", ""))),
        )
    net.toggle_physics(True)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = _render_page(net, title)
    path.write_text(page, encoding="utf-8")
    return path


def _render_page(net: Any, title: str) -> str:
    """Our own page around pyvis's data: pyvis's template also loads Bootstrap from a CDN."""
    from pyvis import network as pyvis_network

    library = Path(pyvis_network.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    nodes, edges, _, height, width, options = net.get_network_data()
    template = (web_dir() / "network.html").read_text(encoding="utf-8")
    values = {
        "TITLE": html.escape(title),
        "HEIGHT": height,
        "WIDTH": width,
        "VIS_CSS": (library / "vis-network.css").read_text(encoding="utf-8"),
        "VIS_JS": (library / "vis-network.min.js").read_text(encoding="utf-8"),
        "NODES": json.dumps(nodes).replace("</", "<\\/"),
        "EDGES": json.dumps(edges).replace("</", "<\\/"),
        "OPTIONS": options if isinstance(options, str) else json.dumps(options),
    }
    # one pass, so that nothing inserted is read as a placeholder
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], template)


# ------------------------------------------------------------- named plots


@dataclass(frozen=True)
class Plot:
    """A chart ``imrkg plot`` draws: its name, what it shows, its parameters (name ->
    required?) and how to draw it. ``network`` builds the graph behind the chart, for an
    interactive page, where the chart is a network."""

    name: str
    summary: str
    parameters: Mapping[str, bool]
    draw: Callable[[KnowledgeStore, Mapping[str, str]], Figure]
    network: Callable[[KnowledgeStore, Mapping[str, str]], nx.Graph] | None = None


def _limit(params: Mapping[str, str], default: int) -> int:
    raw = params.get("limit", str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise QueryError(f"parameter limit: expected a positive whole number, got {raw!r}")
    return int(raw)


def _outcomes_chart(
    query: str, group: Callable[[Mapping[str, Any]], str], title: str
) -> Callable[[KnowledgeStore, Mapping[str, str]], Figure]:
    def draw(store: KnowledgeStore, params: Mapping[str, str]) -> Figure:
        rows = _solutions(store, query, dict(params)).records()
        return outcome_bars(rows, group, title=title)

    return draw


PLOTS: dict[str, Plot] = {
    plot.name: plot
    for plot in (
        Plot(
            "case",
            "One letter drawn: worker, injury, diagnoses; items, treatments, categories, outcomes, reasons, guideline sections.",
            {"case": True},
            lambda s, p: draw_letter(letter_network(s, p["case"]), title=f"IMR case {p['case']}"),
            lambda s, p: letter_network(s, p["case"]),
        ),
        Plot(
            "outcomes-by-category",
            "Items upheld and overturned in each DWC treatment category and subcategory.",
            {"treatment": False},
            _outcomes_chart(
                "outcomes-by-treatment-category",
                lambda r: (
                    f"{r['category']} / {r['subcategory']}"
                    if r.get("subcategory")
                    else str(r["category"])
                ),
                "Disputed items by DWC treatment category",
            ),
        ),
        Plot(
            "outcomes-by-specialty",
            "Items upheld and overturned by the reviewer's specialty.",
            {"treatment": False},
            _outcomes_chart(
                "outcomes-by-specialty",
                lambda r: str(r["specialty"]),
                "Disputed items by the IMR reviewer's specialty",
            ),
        ),
        Plot(
            "published-comparison",
            "The share of items upheld in these letters beside the DWC's and CWCI's published shares.",
            {},
            lambda s, p: draw_published_comparison(s),
        ),
        Plot(
            "guideline-network",
            "Treatments and the guideline sections reviewers relied on for them (heaviest links).",
            {"treatment": False, "limit": False},
            lambda s, p: draw_citation_network(
                citation_network(s, p.get("treatment")), top=_limit(p, 40)
            ),
            lambda s, p: citation_network(s, p.get("treatment")),
        ),
        Plot(
            "co-diagnoses",
            "Diagnoses named in the same letters (pairs in at least min_letters letters).",
            {"min_letters": False},
            lambda s, p: draw_network(
                co_diagnosis_network(s, _limit({"limit": p.get("min_letters", "1")}, 1)),
                title="Diagnoses named together",
                node_size=lambda d: 80.0 + 40.0 * float(d.get("letters", 1)),
            ),
            lambda s, p: co_diagnosis_network(s, _limit({"limit": p.get("min_letters", "1")}, 1)),
        ),
        Plot(
            "similar-cases",
            "A case's items and the most similar items of other letters, by outcome.",
            {"case": True, "limit": False},
            lambda s, p: draw_similar_cases(
                similar_cases_network(s, p["case"], _limit(p, 10)),
                title=f"Decisions most like IMR case {p['case']}",
            ),
            lambda s, p: similar_cases_network(s, p["case"], _limit(p, 10)),
        ),
    )
}


def plot(store: KnowledgeStore, name: str, params: Mapping[str, str], path: Path) -> Path:
    """Draw the named chart to ``path``: PNG, SVG or PDF by its suffix, or an interactive
    HTML page for the network charts. The file is written whole or not at all."""
    chart = PLOTS.get(name)
    if chart is None:
        raise QueryError(f"no plot named {name!r}; the plots are: {', '.join(PLOTS)}")
    unknown = sorted(set(params) - set(chart.parameters))
    if unknown:
        raise QueryError(
            f"plot {name}: no parameter {unknown[0]!r} (it takes: {', '.join(chart.parameters) or 'none'})"
        )
    missing = [p for p, required in chart.parameters.items() if required and p not in params]
    if missing:
        raise QueryError(f"plot {name}: parameter {missing[0]!r} is required")
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg", ".pdf", ".html"):
        raise QueryError(f"{path}: write .png, .svg, .pdf (or .html for a network)")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial{suffix}")
    try:
        if suffix == ".html":
            if chart.network is None:
                raise QueryError(f"plot {name} is a chart, not a network: write .png, .svg or .pdf")
            write_interactive(chart.network(store, params), partial, title=chart.summary)
        else:
            figure = chart.draw(store, params)
            figure.savefig(partial, dpi=110, format=suffix[1:])
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
