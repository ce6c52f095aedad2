"""The visualization API and ``imrkg plot``: each view holds what the letters say, each
chart is drawn (not blank), and each interactive page loads nothing from elsewhere."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from imrkg import viz
from imrkg.cli import main
from imrkg.graph import letter_graph, letter_key
from imrkg.loader.vocab import load_vocabulary
from imrkg.queries import run_named
from imrkg.record import LetterRecord
from imrkg.results import Solutions
from imrkg.store import KnowledgeStore
from tests.conftest import SAMPLE_NAMES, sample_record
from tests.images import assert_drawn, drawn_share, remote_references


@pytest.fixture(scope="module")
def store(sample_store_path: Path) -> KnowledgeStore:
    return KnowledgeStore(sample_store_path, read_only=True)


@pytest.fixture(scope="module")
def records() -> list[LetterRecord]:
    return [sample_record(name, "txt") for name in SAMPLE_NAMES]


def _kinds(graph: nx.Graph) -> Counter[str]:
    return Counter(data["kind"] for _, data in graph.nodes(data=True))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_letters_network_holds_its_items_outcomes_and_worker(
    name: str, store: KnowledgeStore
) -> None:
    record = sample_record(name, "txt")
    net = viz.letter_network(store, letter_key(record))
    items = {d["number"]: n for n, d in net.nodes(data=True) if d["kind"] == "item"}
    assert sorted(items) == [i.number for i in record.items]
    for item in record.items:
        outcomes = [
            net.nodes[t]["outcome"]
            for t in net.successors(items[item.number])
            if net.nodes[t]["kind"] == "outcome"
        ]
        assert outcomes == [item.outcome]
        treatments = [
            net.nodes[t]["label"]
            for t in net.successors(items[item.number])
            if net.nodes[t]["kind"] == "treatment"
        ]
        expected = (
            [load_vocabulary().concepts[item.treatment.iri].label]
            if item.treatment and item.treatment.iri
            else []
        )
        assert treatments == expected
        sections = [
            t
            for t in net.successors(items[item.number])
            if net.nodes[t]["kind"] == "guideline section"
        ]
        assert len(sections) == len(
            {
                (c.guideline, c.edition, c.chapter_iri, c.section, c.pages)
                for c in item.imr_guidelines
            }
        )
        for section in sections:
            assert [net.nodes[g]["kind"] for g in net.successors(section)] == ["guideline"]
    assert _kinds(net)["diagnosis"] == len({d.text for d in record.diagnoses})
    assert _kinds(net)["letter"] == 1


def test_a_letter_of_twenty_items_is_laid_out_in_columns_without_overlap() -> None:
    record = copy.deepcopy(
        max((sample_record(n, "txt") for n in SAMPLE_NAMES), key=lambda r: len(r.items))
    )
    while len(record.items) < 20:
        extra = copy.deepcopy(record.items[len(record.items) % 3])
        extra.number = len(record.items) + 1
        record.items.append(extra)
    net = viz.letter_network_of(letter_graph(record))
    pos = viz.layered_layout(net)
    assert len({(round(x, 6), round(y, 6)) for x, y in pos.values()}) == len(net)
    items = sorted((d["number"], pos[n][1]) for n, d in net.nodes(data=True) if d["kind"] == "item")
    assert len(items) == 20
    heights = [y for _, y in items]
    assert heights == sorted(heights, reverse=True), "items top to bottom in their order"
    columns = {viz.LETTER_COLUMNS[d["kind"]]: pos[n][0] for n, d in net.nodes(data=True)}
    assert [columns[c] for c in sorted(columns)] == sorted(columns.values())
    figure = viz.draw_letter(net, title="twenty items")
    assert figure.get_figheight() >= 10


def test_the_citation_network_weights_are_the_query_counts(store: KnowledgeStore) -> None:
    net = viz.citation_network(store)
    answer = run_named(store, "treatment-guideline-citations")
    assert isinstance(answer, Solutions)
    assert sum(w for *_, w in net.edges(data="weight")) == sum(r["items"] for r in answer.records())
    assert nx.is_bipartite(net)
    sides = {d["bipartite"] for _, d in net.nodes(data=True)}
    assert sides == {0, 1}
    for a, b, data in net.edges(data=True):
        assert data["upheld"] + data["overturned"] <= data["weight"]
        assert {net.nodes[a]["kind"], net.nodes[b]["kind"]} == {"treatment", "guideline section"}
    groups = viz.communities(net)
    assert sorted(n for g in groups for n in g) == sorted(net)
    assert groups == viz.communities(net), "deterministic for a seed"
    top = viz.centralities(net, top=3, kind="guideline section")
    assert top and all(r["kind"] == "guideline section" for r in top)
    assert [r["weighted_degree"] for r in top] == sorted(
        (r["weighted_degree"] for r in top), reverse=True
    )
    treatment = viz.centralities(net, top=1, kind="treatment")[0]["node"]
    deciding = viz.deciding_sections(net, treatment)
    assert deciding and sum(r["items"] for r in deciding) <= net.degree(
        f"treatment: {treatment}", weight="weight"
    )


def test_the_co_diagnosis_network_counts_letters(
    store: KnowledgeStore, records: list[LetterRecord]
) -> None:
    net = viz.co_diagnosis_network(store)
    for a, b, weight in net.edges(data="weight"):
        assert 1 <= weight <= min(net.nodes[a]["letters"], net.nodes[b]["letters"])
    assert max(d["letters"] for _, d in net.nodes(data=True)) <= len(records)


def test_the_similar_cases_network_links_each_item_to_its_neighbours(store: KnowledgeStore) -> None:
    case = viz.letter_with_most_items(store)
    net = viz.similar_cases_network(store, case, limit=6)
    answer = run_named(store, "similar-cases", {"case": case, "limit": "6"})
    assert isinstance(answer, Solutions)
    similar = [n for n, d in net.nodes(data=True) if d["kind"] == "similar item"]
    assert len(similar) == len({(r["case"], r["item"]) for r in answer.records()})
    assert all(net.nodes[n]["outcome"] in ("upheld", "overturned") for n in similar)
    assert all(case not in n for n in similar)


def test_letter_with_most_items(store: KnowledgeStore, records: list[LetterRecord]) -> None:
    most = max(len(r.items) for r in records)
    chosen = viz.letter_with_most_items(store)
    assert [len(r.items) for r in records if r.case_number == chosen] == [most]


def test_published_figures_carry_their_sources() -> None:
    figures = viz.published_figures()
    assert figures and all(f.source.strip() for f in figures)
    shares = viz.published_uphold_shares()
    assert all(80 <= share <= 100 for _, share, _ in shares)
    assert (2015, 88.6) in {(y, s) for y, s, _ in shares}


@pytest.mark.parametrize("name", sorted(viz.PLOTS))
def test_every_plot_is_drawn_from_the_command_line(
    name: str, sample_store_path: Path, store: KnowledgeStore, tmp_path: Path
) -> None:
    case = viz.letter_with_most_items(store)
    args = ["plot", name, "-o", str(tmp_path / f"{name}.png"), "--store", str(sample_store_path)]
    if viz.PLOTS[name].parameters.get("case"):
        args += ["-p", f"case={case}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert_drawn(tmp_path / f"{name}.png")
    if viz.PLOTS[name].network is not None:
        page = tmp_path / f"{name}.html"
        result = CliRunner().invoke(main, [*args[:2], "-o", str(page), *args[4:]])
        assert result.exit_code == 0, result.output
        text = page.read_text(encoding="utf-8")
        assert "vis.Network" in text and remote_references(text) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plot", "nope", "-o", "x.png"], "no plot named 'nope'"),
        (["plot", "case", "-o", "x.png"], "parameter 'case' is required"),
        (["plot", "case", "-p", "case=CM00-0000000", "-o", "x.png"], "CM00-0000000"),
        (
            ["plot", "outcomes-by-category", "-p", "colour=red", "-o", "x.png"],
            "no parameter 'colour'",
        ),
        (["plot", "outcomes-by-category", "-o", "x.gif"], "write .png"),
        (["plot", "published-comparison", "-o", "x.html"], "not a network"),
    ],
)
def test_a_bad_plot_request_is_one_line_and_exit_2(
    args: list[str], message: str, sample_store_path: Path, tmp_path: Path
) -> None:
    args = [a if a != args[-1] else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(main, [*args, "--store", str(sample_store_path)])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [], "nothing half-written"


def test_a_blank_image_is_told_from_a_drawn_one(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (200, 100), "white").save(tmp_path / "blank.png")
    assert drawn_share(tmp_path / "blank.png") == 0
    with pytest.raises(AssertionError, match="blank"):
        assert_drawn(tmp_path / "blank.png")
