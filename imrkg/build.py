"""Build the knowledge graph: letters in, validated named graphs out, into the store.

For each letter :func:`build` extracts the record, maps it to its named graph,
checks the graph against the shapes and loads it into the store in place of
any earlier version; a letter whose graph violates a shape is quarantined
instead (its graph is removed from the store and it is listed, with the
shapes' messages, in the store's quarantine report). Every letter handed in
ends up counted as loaded, unchanged, quarantined or failed.

How it scales:

* **Streaming.** Letters go through in batches of :data:`BATCH`; nothing of a
  batch is kept once it is in the store, so memory does not grow with the
  corpus (what is kept per letter is its graph name and its files' digests).
* **Parallel.** With ``jobs > 1`` the batches are extracted, mapped and
  validated in worker processes (validating a batch at once is much faster
  than one letter at a time); the main process only writes to the store, in
  the order the letters were handed in, so a run gives the same store
  whatever the number of jobs.
* **N-Quads chunks, one transaction each.** A worker hands back each
  conforming letter's graph as N-Quads; the main process loads the new letters
  of a batch with one transactional ``load``: a build killed part-way leaves
  only whole letters, and a reader sees a letter whole or not at all.
  With ``bulk`` the letters are bulk-loaded instead, and their files' digests
  written after them in a transaction (the transactional load made the writer
  four times slower than the workers). A letter counts as loaded once its
  digest is in: a bulk build killed part-way can leave letter graphs without a
  digest, which the next build removes before it starts.
* **Resume.** Each letter graph records the SHA-256 of the file(s) it was read
  from (``<graph> imr:sourceFileSha256 "hex"``, the quarantine report likewise);
  a file whose digest is already in the store is not read again. Rerunning a
  build that was stopped carries on where it stopped; rerunning a finished one
  changes nothing.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

import pyoxigraph as ox
import rdflib

from imrkg import aggregates
from imrkg.errors import ImrKgError, LetterError
from imrkg.graph import LetterTriples, letter_triples
from imrkg.loader.extract import extract_letter
from imrkg.loader.read import check_file
from imrkg.store import SOURCE_FILE_DIGEST
from imrkg.validate import validate_letters

BATCH = 64
# Letters between writes of the aggregate cells during a build. Until then, aggregate
# answers lag the letters already loaded; a build stopped in between leaves cells that count
# fewer letters than the store holds, which the next build notices and counts afresh.
CELLS_EVERY = 1024
# The same in a bulk build, whose cells are not current until it ends anyway: sampled 20-30k
# letters into a 100k bulk build, the writer spent over half its time adding cells every 1,024
# letters (reading the touched cells' counts and writing them), against a quarter loading
# letters. The pending cells grow with the distinct cells touched, not with the letters.
BULK_CELLS_EVERY = 8192
# Letters between flushes of the store's in-memory writes to its files (see write_batch).
FLUSH_EVERY = 256
# Bytes hashed at a time: a digest must not need the whole file in memory.
_HASH_BLOCK = 1 << 20

Status = Literal["loaded", "unchanged", "quarantined", "failed"]


class LetterSink(aggregates.CellStore, Protocol):
    """What a build writes to: the local store, or a remote SPARQL store."""

    def load_vocabularies(self) -> bool: ...
    def letter_digests(self) -> dict[str, str]: ...
    def add_letters(self, letters: bytes, digests: bytes, *, bulk: bool = False) -> None: ...
    def remove_graph(self, iri: str) -> None: ...
    def has_graph(self, iri: str) -> bool: ...
    def read_quarantine(self) -> dict[str, dict[str, Any]]: ...
    def write_quarantine(self, entries: dict[str, dict[str, Any]]) -> None: ...
    def flush(self) -> None: ...
    def triple_count(self) -> int: ...


@dataclass(frozen=True)
class LetterResult:
    """What became of one letter file in a worker."""

    path: str
    digest: str
    status: Status
    iri: str | None = None
    nquads: bytes = b""
    items: int = 0
    messages: tuple[str, ...] = ()


@dataclass
class BuildSummary:
    """What a build did. ``unchanged`` counts files whose exact bytes the store
    already held (not read again); ``repeated`` counts files holding a letter
    that an earlier file of the same run held too (its text and its PDF): the
    later one replaces the earlier in the store."""

    read: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    failed: int = 0
    repeated: int = 0
    items: int = 0
    triples: int = 0
    failures: list[str] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)

    def line(self) -> str:
        repeated = (
            f" ({self.repeated} of them repeating an earlier file's letter)"
            if self.repeated
            else ""
        )
        unchanged = f", {self.unchanged} unchanged" if self.unchanged else ""
        return (
            f"{self.read} letters read: {self.loaded} loaded{repeated}{unchanged}, "
            f"{self.quarantined} quarantined, {self.failed} failed; "
            f"{self.items} items loaded; {self.triples} triples in the store"
        )


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in lower-case hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _nquads(quads: Iterable[ox.Quad]) -> bytes:
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""


def _digest_quads(iri: str, digests: Iterable[str]) -> bytes:
    name = ox.NamedNode(iri)
    return _nquads(ox.Quad(name, SOURCE_FILE_DIGEST, ox.Literal(d), name) for d in sorted(digests))


def _failure(path: str, digest: str, message: str) -> LetterResult:
    return LetterResult(path, digest, "failed", messages=(message,))


@dataclass(frozen=True)
class LetterFile:
    """A letter file handed to a worker: its digest, whether the store already
    holds these bytes, or why it could not be read."""

    path: str
    digest: str = ""
    known: bool = False
    error: str = ""


@dataclass
class BatchResult:
    """A worker's answer for a batch: each letter's result, and the aggregate cells the
    batch's conforming letters add (counted before they reach the store)."""

    results: list[LetterResult]
    cells: Counter[aggregates.Cell]


@cache
def _scratch() -> aggregates.ScratchStore:
    """This process's in-memory store of the vocabularies, where cells are counted."""
    return aggregates.ScratchStore()


def process_batch(batch: Sequence[LetterFile]) -> BatchResult:
    """Extract, map and validate a batch of letters, and count their cells. Runs in a worker."""
    results: list[LetterResult | None] = []
    graphs: list[tuple[int, LetterTriples, int]] = []
    for letter in batch:
        path, digest = letter.path, letter.digest
        if letter.error:
            results.append(_failure(path, digest, letter.error))
            continue
        if letter.known:
            results.append(LetterResult(path, digest, "unchanged"))
            continue
        try:
            record = extract_letter(path)
            graph = letter_triples(record)
        except ImrKgError as exc:
            results.append(_failure(path, digest, str(exc)))
            continue
        except Exception as exc:  # a bug must not cost the other letters
            message = f"{path}: internal error ({type(exc).__name__}: {exc})"
            results.append(_failure(path, digest, message))
            continue
        graphs.append((len(results), graph, len(record.items)))
        results.append(None)
    cells: Counter[aggregates.Cell] = Counter()
    for round_ in _rounds(graphs):
        _validate(batch, round_, results)
        conforming = [r.nquads for i, _, _ in round_ if (r := results[i]) and r.status == "loaded"]
        if conforming:
            cells.update(_scratch().cells_of_nquads(b"".join(conforming)))
    return BatchResult([r for r in results if r is not None], cells)


def _rounds(
    graphs: list[tuple[int, LetterTriples, int]],
) -> Iterator[list[tuple[int, LetterTriples, int]]]:
    """Split graphs into groups with no graph name twice (a letter's text and PDF
    in one batch): validated together, their triples would merge into one letter."""
    while graphs:
        seen: set[str] = set()
        this: list[tuple[int, LetterTriples, int]] = []
        rest: list[tuple[int, LetterTriples, int]] = []
        for entry in graphs:
            name = str(entry[1].identifier)
            (rest if name in seen else this).append(entry)
            seen.add(name)
        yield this
        graphs = rest


class _Written:
    """A letter's triples and their N-Quads, written once (see
    :class:`imrkg.shacl_sparql.TripleSource`)."""

    def __init__(self, triples: LetterTriples) -> None:
        self.triples = triples
        self.identifier = triples.identifier
        self._nquads = triples.nquads()

    def __iter__(self) -> Iterator[tuple[rdflib.URIRef, rdflib.URIRef, rdflib.term.Node]]:
        return iter(self.triples)

    def nquads(self) -> bytes:
        return self._nquads


def _validate(
    batch: Sequence[LetterFile],
    graphs: list[tuple[int, LetterTriples, int]],
    results: list[LetterResult | None],
) -> None:
    """Validate graphs together and put each letter's result in its place. Each
    letter's N-Quads are written once, for the validator and for the store: the
    oxigraph engine loads them as they are, and no rdflib graph is built."""
    try:
        written = {index: _Written(graph) for index, graph, _ in graphs}
        reports = validate_letters(list(written.values()), engine="oxigraph")
        error = ""
    except Exception as exc:
        reports = {}
        error = f"internal error in validation ({type(exc).__name__}: {exc})"
    for index, graph, items in graphs:
        path, digest = batch[index].path, batch[index].digest
        iri = str(graph.identifier)
        report = reports.get(rdflib.URIRef(iri))
        if report is None:
            results[index] = _failure(path, digest, f"{path}: {error}")
        elif report.conforms:
            nquads = written[index].nquads()
            results[index] = LetterResult(path, digest, "loaded", iri, nquads, items)
        else:
            messages = sorted({f"{r.message} ({r.focus})" for r in report.violations})
            results[index] = LetterResult(
                path, digest, "quarantined", iri, messages=tuple(messages)
            )


def _batches(paths: Iterable[Path], known: set[str], size: int) -> Iterator[list[LetterFile]]:
    batch: list[LetterFile] = []
    for path in paths:
        try:
            check_file(path)  # a pipe or a device would be hashed forever
            digest = file_digest(path)
        except LetterError as exc:
            batch.append(LetterFile(str(path), error=str(exc)))
        except OSError as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
            error = str(LetterError(path, f"cannot be read ({reason or type(exc).__name__})"))
            batch.append(LetterFile(str(path), error=error))
        else:
            batch.append(LetterFile(str(path), digest, digest in known))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _warm_up() -> None:
    """Parse the vocabularies and shapes, and compile the shapes, once, before the
    workers are forked."""
    from imrkg.loader.vocab import load_vocabulary
    from imrkg.shacl_sparql import compile_shapes
    from imrkg.validate import _class_facts, shapes_graph

    load_vocabulary()
    compile_shapes(shapes_graph())
    _class_facts()


def build(
    paths: Iterable[Path],
    store: LetterSink,
    on_error: Callable[[str], None] = lambda message: None,
    progress: Callable[[list[Path]], Iterable[Path]] = lambda items: items,
    *,
    jobs: int = 1,
    force: bool = False,
    batch_size: int = BATCH,
    cells_every: int | None = None,
    bulk: bool = False,
) -> BuildSummary:
    """Extract, map, validate and load every letter; see the module docstring.

    ``force`` reads every file again, even those the store already holds;
    ``batch_size`` letters are validated together and written in one transaction;
    the aggregate cells are written after every ``cells_every`` letters (by default
    :data:`CELLS_EVERY`, or :data:`BULK_CELLS_EVERY` with ``bulk``), and at the end;
    ``bulk`` writes letters with the store's bulk loader (see the module docstring).
    """
    if cells_every is None:
        cells_every = BULK_CELLS_EVERY if bulk else CELLS_EVERY
    summary = BuildSummary()
    store.load_vocabularies()
    digests = store.letter_digests()  # file digest -> graph
    # Letters a stopped bulk build loaded without getting to their digests (see the module
    # docstring): maybe loaded in part, so taken out; their files, if handed in, are read again.
    for iri in sorted(set(aggregates.letter_graphs(store)) - set(digests.values())):
        store.remove_graph(iri)
    # Cells counted with other definitions, or out of step after a build that was
    # stopped between writing letters and their cells, are counted afresh at the end.
    recount = not aggregates.is_current(store)
    if recount and not aggregates.letter_graphs(store):
        aggregates.refresh(store)  # nothing to count: just stamp the empty cells current
        recount = False
    cells: Counter[aggregates.Cell] = Counter()  # the cells of the changes not yet written
    unwritten = 0  # letters read since the cells were last written
    unflushed = 0  # letters read since the store was last flushed
    quarantine = store.read_quarantine()
    for entry in quarantine.values():
        for digest in entry.get("digests", ()):
            digests[digest] = entry["graph"]
    known = set() if force else set(digests)
    run_digests: dict[str, set[str]] = {}  # graph -> digests of this run's files for it
    pending: list[bytes] = []  # the letters' N-Quads not yet written
    pending_digests: list[bytes] = []  # and their files' digests, written after them
    pending_graphs: set[str] = set()
    items: dict[str, int] = {}  # graph -> items, of the letters this run loaded
    written: set[str] = set()  # graphs this run wrote

    def write_pending() -> None:
        if pending or pending_digests:
            store.add_letters(b"".join(pending), b"".join(pending_digests), bulk=bulk)
            pending.clear()
            pending_digests.clear()
            pending_graphs.clear()

    def write_batch(answer: BatchResult) -> None:
        """Write a batch's letters, and their cells every ``CELLS_EVERY`` letters: the
        cells a batch touches are thousands, and rewriting them cost as much as writing
        its letters. A letter a batch replaces is subtracted from the cells not yet
        written, so the sum stays right whatever the order."""
        nonlocal unwritten, unflushed
        for result in answer.results:
            take(result)
        cells.update(answer.cells)
        write_pending()
        unwritten += len(answer.results)
        unflushed += len(answer.results)
        if unwritten >= cells_every:
            write_cells()
        if unflushed >= FLUSH_EVERY:
            # Oxigraph keeps what it has written in memory until it is flushed to its files:
            # the writer grew by ~28 MB a batch (2.5 GB at 10,000 letters) without this.
            store.flush()
            unflushed = 0

    def write_cells() -> None:
        nonlocal unwritten
        if cells and not recount:
            aggregates.apply(store, cells, bulk=bulk)
        cells.clear()
        unwritten = 0

    def remove(iri: str) -> None:
        """Take a letter out of the store, and its cells out of the counts."""
        if not recount:
            cells.subtract(aggregates.stored_cells(store, [iri]))
        store.remove_graph(iri)

    def take(result: LetterResult) -> None:
        next(ticks, None)
        summary.read += 1
        if result.status == "failed":
            summary.failed += 1
            summary.failures.extend(result.messages)
            for message in result.messages:
                on_error(message)
            return
        if result.status == "unchanged":
            summary.unchanged += 1
            held = digests[result.digest]
            run_digests.setdefault(held, set()).add(result.digest)
            if held in written:
                # another file of this letter replaced its graph earlier in this run
                # (its PDF before its text): the graph keeps this file's digest too
                pending_digests.append(_digest_quads(held, [result.digest]))
            return
        iri = result.iri
        assert iri is not None
        earlier = run_digests.get(iri)
        if earlier:
            summary.repeated += 1
        # A later file of the same letter replaces the earlier one; the graph keeps
        # every digest of this run's files for it, so that a rerun skips them all.
        these = run_digests.setdefault(iri, set())
        these.add(result.digest)
        if iri in pending_graphs:
            write_pending()
        if store.has_graph(iri):
            remove(iri)
        if result.status == "loaded":
            quarantine.pop(iri, None)
            pending.append(result.nquads)
            pending_digests.append(_digest_quads(iri, these))
            pending_graphs.add(iri)
            written.add(iri)
            summary.loaded += 1
            items[iri] = result.items
        else:
            items.pop(iri, None)
            written.discard(iri)
            entry = quarantine.get(iri) if earlier else None
            kept = set(entry.get("digests", ())) if entry else set()
            quarantine[iri] = {
                "graph": iri,
                "source": result.path,
                "digests": sorted(kept | {result.digest}),
                "violations": list(result.messages),
            }
            summary.quarantined += 1
            summary.quarantine.append(f"{result.path}: {'; '.join(result.messages)}")

    letters = list(paths)
    ticks = iter(progress(letters))
    batches = _batches(letters, known, batch_size)
    try:
        if jobs > 1:
            _warm_up()
            # fork: workers inherit the loaded vocabularies and shapes instead of parsing them again
            context = multiprocessing.get_context("fork")
            # At most two batches per worker in flight: when the writer is the slower
            # side, finished batches (megabytes of N-Quads each) would otherwise pile up.
            slots = threading.Semaphore(2 * jobs)
            stopped = threading.Event()

            def throttled() -> Iterator[list[LetterFile]]:
                for batch in batches:
                    slots.acquire()
                    if stopped.is_set():
                        return
                    yield batch

            with context.Pool(jobs) as pool:
                try:
                    for answer in pool.imap(process_batch, throttled()):
                        slots.release()
                        write_batch(answer)
                finally:
                    # let the feeding thread go, or closing the pool would wait on it forever
                    stopped.set()
                    slots.release(2 * jobs)
        else:
            for batch in batches:
                write_batch(process_batch(batch))
        write_pending()
        write_cells()
    finally:
        write_pending()
        if recount:
            aggregates.refresh(store)
        store.write_quarantine(quarantine)
        store.flush()
    summary.items = sum(items.values())
    summary.triples = store.triple_count()
    return summary
