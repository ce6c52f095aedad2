"""The store: build, rebuild, quarantine, validate, export and read back."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from imrkg.build import build
from imrkg.export import FORMATS, export, select_graphs
from imrkg.graph import GRAPH
from imrkg.store import KnowledgeStore, default_store_path
from tests.conftest import EXAMPLES, SAMPLE_NAMES, parse_rdf

ITEMS = "SELECT (COUNT(?i) AS ?n) WHERE { ?i a <https://w3id.org/imr-kg/ontology#DisputedItem> }"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imrkg", *args], capture_output=True, text=True, env=env
    )


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeStore:
    """A store built from the sample letters' PDFs."""
    store = KnowledgeStore(tmp_path_factory.mktemp("store"))
    summary = build(sorted((EXAMPLES / "letters").glob("*.pdf")), store)
    assert (summary.loaded, summary.quarantined, summary.failed) == (len(SAMPLE_NAMES), 0, 0)
    return store


def _all_quads(store: KnowledgeStore) -> set[str]:
    return {str(q) for q in store.store}


def _letter_quads(store: KnowledgeStore) -> set[str]:
    """The letters' quads (the vocabularies' blank nodes differ from store to store)."""
    return {str(q) for q in store.quads(store.letter_graphs())}


def test_every_letter_is_its_own_graph_and_items_are_counted(sample_store: KnowledgeStore) -> None:
    from imrkg.loader.extract import extract_letter

    assert len(sample_store.letter_graphs()) == len(SAMPLE_NAMES)
    items = sum(len(extract_letter(p).items) for p in (EXAMPLES / "letters").glob("*.pdf"))
    assert sample_store.count(ITEMS) == items


def test_building_again_changes_nothing(sample_store: KnowledgeStore) -> None:
    before = _all_quads(sample_store)
    summary = build(sorted((EXAMPLES / "letters").glob("*.pdf")), sample_store)
    assert (summary.loaded, summary.unchanged) == (0, len(SAMPLE_NAMES))
    assert _all_quads(sample_store) == before
    summary = build(sorted((EXAMPLES / "letters").glob("*.pdf")), sample_store, force=True)
    assert (summary.loaded, summary.unchanged) == (len(SAMPLE_NAMES), 0)
    assert _all_quads(sample_store) == before


def test_parallel_build_gives_the_same_store(tmp_path: Path, sample_store: KnowledgeStore) -> None:
    letters = sorted((EXAMPLES / "letters").glob("*.pdf"))
    store = KnowledgeStore(tmp_path / "parallel")
    summary = build(letters, store, jobs=2)
    assert (summary.loaded, summary.failed) == (len(SAMPLE_NAMES), 0)
    assert _letter_quads(store) == _letter_quads(sample_store)


def test_a_stopped_build_resumes_where_it_stopped(tmp_path: Path) -> None:
    letters = sorted((EXAMPLES / "letters").glob("*.txt"))
    store = KnowledgeStore(tmp_path / "store")
    first = build(letters[:4], store)
    assert first.loaded == 4
    rest = build(letters, store)
    assert (rest.unchanged, rest.loaded) == (4, len(letters) - 4)
    whole = KnowledgeStore(tmp_path / "whole")
    build(letters, whole)
    assert _letter_quads(store) == _letter_quads(whole)


def test_a_changed_letter_replaces_its_graph_and_its_digest(tmp_path: Path) -> None:
    from imrkg.build import file_digest

    letter = tmp_path / "letter.txt"
    text = (EXAMPLES / "letters" / "maximus-carpal-tunnel.txt").read_text(encoding="utf-8")
    letter.write_text(text, encoding="utf-8")
    store = KnowledgeStore(tmp_path / "store")
    build([letter], store)
    old = file_digest(letter)
    letter.write_text(text.replace("carpal tunnel release", "carpal  tunnel release", 1))
    summary = build([letter], store)
    assert (summary.loaded, summary.unchanged) == (1, 0)
    assert set(store.letter_digests()) == {file_digest(letter)} != {old}
    assert len(store.letter_graphs()) == 1


def test_adding_the_pdfs_to_a_text_build_is_unchanged_after_one_rerun(tmp_path: Path) -> None:
    """Regression: the PDF (named first) replaced the graph and dropped the text's
    digest, so the next run read the text again."""
    name = SAMPLE_NAMES[0]
    text, pdf = EXAMPLES / "letters" / f"{name}.txt", EXAMPLES / "letters" / f"{name}.pdf"
    store = KnowledgeStore(tmp_path)
    build([text], store)
    summary = build([pdf, text], store)
    assert (summary.loaded, summary.unchanged) == (1, 1)
    summary = build([pdf, text], store)
    assert (summary.loaded, summary.unchanged) == (0, 2)


def test_both_files_of_a_letter_are_skipped_on_a_rerun(tmp_path: Path) -> None:
    name = SAMPLE_NAMES[0]
    both = [EXAMPLES / "letters" / f"{name}.txt", EXAMPLES / "letters" / f"{name}.pdf"]
    store = KnowledgeStore(tmp_path)
    build(both, store)
    assert len(store.letter_digests()) == 2
    summary = build(both, store)
    assert (summary.unchanged, summary.loaded) == (2, 0)


def test_a_letter_read_twice_in_one_run_is_stored_once(tmp_path: Path) -> None:
    store = KnowledgeStore(tmp_path)
    name = SAMPLE_NAMES[0]
    summary = build(
        [EXAMPLES / "letters" / f"{name}.txt", EXAMPLES / "letters" / f"{name}.pdf"], store
    )
    assert summary.repeated == 1 and summary.loaded == 2
    assert len(store.letter_graphs()) == 1


def _letter_with_dates_out_of_order(folder: Path) -> Path:
    """A sample letter whose decision date comes before its assignment."""
    text = (EXAMPLES / "letters" / "header-lumbar-partial.txt").read_text(encoding="utf-8")
    text, count = re.subn(r"Decision Date: \d\d/\d\d/\d{4}", "Decision Date: 01/01/2017", text)
    assert count == 1
    path = folder / "dates-out-of-order.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_letter_that_violates_a_shape_is_quarantined(tmp_path: Path) -> None:
    store = KnowledgeStore(tmp_path / "store")
    bad = _letter_with_dates_out_of_order(tmp_path)
    good = EXAMPLES / "letters" / "maximus-carpal-tunnel.pdf"
    summary = build([bad, good], store)
    assert (summary.loaded, summary.quarantined) == (1, 1)
    assert store.letter_graphs() == [GRAPH + "CM14-0061937"]
    (entry,) = store.read_quarantine().values()
    assert entry["source"] == str(bad)
    assert entry["graph"] == GRAPH + "CM17-0029641"
    assert entry["violations"]


def test_build_command_reports_and_exits(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = _letter_with_dates_out_of_order(tmp_path)
    (tmp_path / "empty.txt").write_text("")
    run = _run(
        "build",
        str(EXAMPLES / "letters" / "maximus-carpal-tunnel.pdf"),
        str(bad),
        str(tmp_path / "empty.txt"),
        "--store",
        str(store),
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "3 letters read: 1 loaded, 1 quarantined, 1 failed" in run.stdout
    assert f"{tmp_path / 'empty.txt'}: empty file" in run.stderr
    assert "quarantined:" in run.stderr and "dates-out-of-order.txt" in run.stderr
    assert (store / "quarantine.jsonl").exists()


def test_validate_command(sample_store: KnowledgeStore, tmp_path: Path) -> None:
    run = _run("validate", "--store", str(sample_store.path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "conforms" in run.stdout
    report = json.loads(
        _run("validate", "--store", str(sample_store.path), "--format", "json").stdout
    )
    assert report["conforms"] is True
    missing = _run("validate", "--store", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no imr-kg store here" in missing.stderr


def test_validate_command_on_files(tmp_path: Path) -> None:
    from imrkg.graph import letter_graph
    from imrkg.loader.extract import extract_letter

    bad = letter_graph(extract_letter(_letter_with_dates_out_of_order(tmp_path)))
    path = tmp_path / "bad.ttl"
    bad.serialize(path, format="turtle")
    run = _run("validate", str(path))
    assert run.returncode == 1
    assert "focus node" in run.stdout and "Violation" in run.stdout
    garbage = tmp_path / "garbage.ttl"
    garbage.write_text("this is not turtle <")
    run = _run("validate", str(garbage))
    assert run.returncode == 2 and "not readable RDF" in run.stderr


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_round_trip(sample_store: KnowledgeStore, fmt: str, tmp_path: Path) -> None:
    """Parsing an export back gives the same dataset (the union of the letters, for formats without named graphs)."""
    graphs = select_graphs(sample_store)
    path = tmp_path / f"export.{fmt}"
    with path.open("wb") as out:
        export(sample_store, fmt, out, graphs)
    parsed = parse_rdf(fmt, path.read_bytes())
    if fmt in ("turtle", "ntriples"):
        union = rdflib.Graph()
        for iri in graphs:
            union += sample_store.graph(iri)
        assert isomorphic(parsed.default_graph, union)
    else:
        names = {str(g.identifier) for g in parsed.graphs() if len(g)}
        assert names == set(graphs)
        for iri in graphs:
            assert isomorphic(parsed.graph(rdflib.URIRef(iri)), sample_store.graph(iri)), iri


def test_jsonld_export_is_compacted_with_the_shipped_context(
    sample_store: KnowledgeStore, tmp_path: Path
) -> None:
    path = tmp_path / "one.jsonld"
    with path.open("wb") as out:
        export(sample_store, "jsonld", out, select_graphs(sample_store, ["CM14-0061937"]))
    data = json.loads(path.read_text())
    assert isinstance(data["@context"], dict)  # inline: nothing to fetch
    assert "imr" in data["@context"]


def test_export_command_for_one_case(sample_store: KnowledgeStore, tmp_path: Path) -> None:
    out = tmp_path / "case.trig"
    run = _run(
        "export",
        "--store",
        str(sample_store.path),
        "--format",
        "trig",
        "--case",
        "CM14-0061937",
        "-o",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    dataset = parse_rdf("trig", out.read_bytes())
    assert {str(g.identifier) for g in dataset.graphs() if len(g)} == {GRAPH + "CM14-0061937"}
    unknown = _run("export", "--store", str(sample_store.path), "--case", "CM00-0000000")
    assert (
        unknown.returncode == 2 and "no letter in the store for case CM00-0000000" in unknown.stderr
    )


def test_the_default_store_is_one_documented_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IMRKG_STORE", str(tmp_path / "mine"))
    assert default_store_path() == tmp_path / "mine"
    monkeypatch.delenv("IMRKG_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_path() == tmp_path / "data" / "imr-kg" / "store"


def test_build_refuses_a_named_pipe_instead_of_waiting_on_it(tmp_path: Path) -> None:
    """Regression: build hashed every file before reading it, and a pipe never ends."""
    import os

    pipe = tmp_path / "letter.txt"
    os.mkfifo(pipe)
    run = subprocess.run(
        [sys.executable, "-m", "imrkg", "build", str(pipe), "--store", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert (
        run.stderr.strip() == f"imrkg: error: {pipe}: not a regular file (a pipe, socket or device)"
    )
    assert "1 letters read: 0 loaded, 0 quarantined, 1 failed" in run.stdout


@pytest.mark.parametrize(("batch_size", "cells_every"), [(64, 1024), (3, 1), (3, 7)])
def test_the_cells_a_build_keeps_are_those_counted_afresh(
    tmp_path: Path, batch_size: int, cells_every: int
) -> None:
    """Regression: a letter's text and PDF in one batch counted twice (the PDF's cells,
    subtracted when its text replaced it, were applied alone as negative counts, and lost).
    The cells are written after every batch, after several, and only at the end."""
    from imrkg import aggregates

    store = KnowledgeStore(tmp_path / "store")
    letters = sorted((EXAMPLES / "letters").glob("*"))
    build(letters, store, batch_size=batch_size, cells_every=cells_every)

    def kept_equals_afresh() -> None:
        kept = aggregates.read_cells(store)
        aggregates.refresh(store)
        assert aggregates.read_cells(store) == kept
        assert aggregates.is_current(store)

    kept_equals_afresh()
    changed = tmp_path / "changed.txt"
    text = (EXAMPLES / "letters" / "maximus-carpal-tunnel.txt").read_text(encoding="utf-8")
    changed.write_text(
        text.replace(
            "Right wrist carpal tunnel release: Upheld",
            "Right wrist carpal tunnel release: Overturned",
        )
    )
    summary = build([changed], store, batch_size=batch_size, cells_every=cells_every)
    assert summary.loaded == 1
    kept_equals_afresh()
