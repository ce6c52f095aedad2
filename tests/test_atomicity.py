"""Builds are idempotent and atomic: a build killed part-way leaves whole letters only,
a rerun completes it, and a reader during a build never sees half a letter.

The corpus: copies of the sample letters that state a case number, each copy
under its own case number, so that every file is a distinct letter graph.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imrkg.build import build
from imrkg.graph import GRAPH, letter_graph, letter_triples
from imrkg.loader.extract import extract_letter
from imrkg.store import AGGREGATE_GRAPH, KnowledgeStore, StoreError
from tests.conftest import EXAMPLES

CASE = re.compile(r"CM(\d\d)-(\d{7})")
COPIES = 5
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The letters' folder, and each letter graph's expected number of quads."""
    folder = tmp_path_factory.mktemp("corpus")
    expected: dict[str, int] = {}
    originals = [
        p for p in sorted((EXAMPLES / "letters").glob("*.txt")) if CASE.search(p.read_text())
    ]
    for copy in range(COPIES):
        for original in originals:
            shift = copy + 1
            text = CASE.sub(
                lambda m, d=shift: f"CM{m[1]}-{int(m[2]) + d:07d}", original.read_text()
            )
            path = folder / f"{original.stem}-{copy}.txt"
            path.write_text(text, encoding="utf-8")
            graph = letter_graph(extract_letter(path))
            expected[str(graph.identifier)] = len(graph) + 1  # and the file digest
    return folder, expected


def _graph_sizes(store_path: Path) -> dict[str, int]:
    """Every letter graph's size, read from a store opened read-only (as a reader does)."""
    return _graph_sizes_of(KnowledgeStore(store_path, read_only=True))


def _graph_sizes_of(store: KnowledgeStore) -> dict[str, int]:
    """Every letter graph's size in an open store."""
    sizes = {}
    for row in store.store.query(PER_GRAPH):  # type: ignore[union-attr]
        name = row["g"].value
        if name.startswith(GRAPH) and name[len(GRAPH) :] not in (
            "ontology",
            "vocabulary",
            "aggregates",
        ):
            sizes[name] = int(row["n"].value)
    return sizes


def _build_command(folder: Path, store: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "imrkg",
        "build",
        str(folder),
        "--store",
        str(store),
        "--jobs",
        "1",
        "--batch-size",
        "3",
    ]


def _polls(
    process: subprocess.Popen[str], store: Path, every: float = 0.05
) -> Iterator[dict[str, int]]:
    """The letter graphs' sizes, read again and again while the build runs, from the
    moment the store can be opened (while the build creates it, it cannot)."""
    opened = False
    while process.poll() is None:
        try:
            sizes = _graph_sizes(store)
        except StoreError:
            assert not opened, "the store could be opened, then no more"
        else:
            opened = True
            yield sizes
        time.sleep(every)


def test_building_twice_gives_the_same_quads(
    corpus: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    folder, _ = corpus
    letters = sorted(folder.glob("*.txt"))[:9]
    store = KnowledgeStore(tmp_path / "store")
    build(letters, store)
    once = {str(q) for q in store.quads(store.letter_graphs())}
    build(letters, store)
    build(letters, store, force=True)
    assert {str(q) for q in store.quads(store.letter_graphs())} == once


def test_a_build_killed_part_way_holds_whole_letters_and_a_rerun_completes(
    corpus: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    folder, expected = corpus
    store = tmp_path / "store"
    process = subprocess.Popen(
        _build_command(folder, store),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "IMRKG_STORE": str(store)},
    )
    try:
        for sizes in _polls(process, store):
            if len(sizes) >= 6:
                os.kill(process.pid, signal.SIGKILL)
                break
    finally:
        process.communicate()
    assert process.returncode == -signal.SIGKILL, "the build ended before it could be killed"
    sizes = _graph_sizes(store)
    assert 6 <= len(sizes) < len(expected)
    assert {g: expected[g] for g in sizes} == sizes  # whole letters, nothing else
    rerun = subprocess.run(_build_command(folder, store), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(sizes)} unchanged" in rerun.stdout
    assert _graph_sizes(store) == expected


def test_a_reader_during_a_build_sees_only_whole_letters(
    corpus: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    folder, expected = corpus
    store = tmp_path / "store"
    process = subprocess.Popen(
        _build_command(folder, store), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: list[int] = []
    try:
        for sizes in _polls(process, store, every=0.02):
            assert {g: expected[g] for g in sizes} == sizes
            seen.append(len(sizes))
    finally:
        _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    assert len(set(seen)) >= 3, f"the reader saw too few states of the build: {sorted(set(seen))}"
    assert _graph_sizes(store) == expected


def test_a_bulk_build_gives_the_quads_of_a_transactional_one(
    corpus: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    folder, expected = corpus
    letters = sorted(folder.glob("*.txt"))
    plain = KnowledgeStore(tmp_path / "plain")
    bulk = KnowledgeStore(tmp_path / "bulk")
    # cells written every 8 letters: later writes change counts that earlier ones wrote
    build(letters, plain, batch_size=4, cells_every=8)
    summary = build(letters, bulk, batch_size=4, cells_every=8, bulk=True)
    assert summary.loaded == len(expected)
    graphs = [*plain.letter_graphs(), AGGREGATE_GRAPH]
    assert {str(q) for q in bulk.quads(graphs)} == {str(q) for q in plain.quads(graphs)}
    again = build(letters, bulk, bulk=True)
    assert again.unchanged == len(expected) and again.loaded == 0


def test_letters_a_stopped_bulk_build_left_without_digests_are_removed_or_read_again(
    corpus: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    """What a bulk build killed between loading a batch's letters and writing their digests
    leaves: graphs in part and no digest. The next build takes them out, and reads their
    files again where it is handed them."""
    folder, expected = corpus
    letters = sorted(folder.glob("*.txt"))
    store = KnowledgeStore(tmp_path / "store")
    build(letters[:4], store, bulk=True)
    whole = {str(q) for q in store.quads(store.letter_graphs())}
    handed, dropped = letters[4], letters[5]
    halves = []
    for path in (handed, dropped):
        triples = letter_triples(extract_letter(path))
        written = triples.nquads().decode().splitlines(keepends=True)
        halves.append(str(triples.identifier))
        store.add_letters("".join(written[: len(written) // 2]).encode(), b"", bulk=True)
    assert set(halves) <= set(store.letter_graphs())
    summary = build([*letters[:4], handed], store, bulk=True)
    assert (summary.unchanged, summary.loaded) == (4, 1)
    graphs = set(store.letter_graphs())
    assert halves[0] in graphs and halves[1] not in graphs
    assert {str(q) for q in store.quads(sorted(graphs - {halves[0]}))} == whole
    assert _graph_sizes_of(store)[halves[0]] == expected[halves[0]]
