"""Build the knowledge graph: letters in, validated named graphs out, into the store.

For each letter :func:`build` extracts the record, maps it to its named graph,
checks the graph against the shapes and loads it into the store in place of
any earlier version; a letter whose graph violates a shape is quarantined
instead (its graph is removed from the store and it is listed, with the
shapes' messages, in the store's quarantine report). Letters are validated in
batches, which is much faster than one by one. Every letter handed in ends up
counted as loaded, quarantined or failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import rdflib

from imrkg.errors import ImrKgError
from imrkg.graph import letter_graph
from imrkg.loader.extract import extract_letter
from imrkg.record import LetterRecord
from imrkg.store import KnowledgeStore
from imrkg.validate import validate_letters

BATCH = 64


@dataclass
class BuildSummary:
    """What a build did. ``repeated`` counts files holding a letter that an
    earlier file of the same run held too (its text and its PDF): the later
    one replaces the earlier in the store."""

    read: int = 0
    loaded: int = 0
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
        return (
            f"{self.read} letters read: {self.loaded} loaded{repeated}, {self.quarantined} quarantined, "
            f"{self.failed} failed; {self.items} items; {self.triples} triples in the store"
        )


def build(
    paths: Iterable[Path],
    store: KnowledgeStore,
    on_error: Callable[[str], None] = lambda message: None,
    progress: Callable[[list[Path]], Iterable[Path]] = lambda items: items,
) -> BuildSummary:
    """Extract, map, validate and load every letter; see the module docstring."""
    summary = BuildSummary()
    quarantine = store.read_quarantine()
    items_loaded: dict[str, int] = {}
    batch: list[tuple[Path, LetterRecord, rdflib.Graph]] = []
    store.load_vocabularies()

    def flush() -> None:
        if not batch:
            return
        reports = validate_letters(graph for _, _, graph in batch)
        for path, record, graph in batch:
            iri = str(graph.identifier)
            report = reports[rdflib.URIRef(iri)]
            if report.conforms:
                store.replace_graph(graph)
                quarantine.pop(iri, None)
                summary.loaded += 1
                items_loaded[iri] = len(record.items)
            else:
                store.remove_graph(iri)
                items_loaded.pop(iri, None)
                messages = sorted({f"{r.message} ({r.focus})" for r in report.violations})
                quarantine[iri] = {"graph": iri, "source": str(path), "violations": messages}
                summary.quarantined += 1
                summary.quarantine.append(f"{path}: {'; '.join(messages)}")
        batch.clear()

    seen: set[str] = set()
    for path in progress(list(paths)):
        summary.read += 1
        try:
            record = extract_letter(path)
            graph = letter_graph(record)
        except ImrKgError as exc:
            summary.failed += 1
            summary.failures.append(str(exc))
            on_error(str(exc))
            continue
        except Exception as exc:  # a bug must not cost the other letters
            message = f"{path}: internal error ({type(exc).__name__}: {exc})"
            summary.failed += 1
            summary.failures.append(message)
            on_error(message)
            continue
        iri = str(graph.identifier)
        if iri in seen:
            summary.repeated += 1
            flush()  # the earlier copy goes in first, so that this one replaces it
        seen.add(iri)
        batch.append((path, record, graph))
        if len(batch) >= BATCH:
            flush()
    flush()
    store.write_quarantine(quarantine)
    store.flush()
    summary.items = sum(items_loaded.values())
    summary.triples = store.triple_count()
    return summary
