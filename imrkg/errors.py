"""The project's own error types.

Every failure that a user can cause with their input (a file that is not a
letter, a PDF without text, a letter without decisions) is raised as a
:class:`LetterError`, whose message is one line naming the file and the reason.
Anything else escaping the pipeline is a bug.
"""

from __future__ import annotations

from pathlib import Path


class ImrKgError(Exception):
    """Base class of every error imr-kg raises on purpose."""


class LetterError(ImrKgError):
    """A letter could not be read or understood.

    >>> str(LetterError("a/b.pdf", "no text layer (image-only PDF; OCR is not supported)"))
    'a/b.pdf: no text layer (image-only PDF; OCR is not supported)'
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.path}: {self.reason}")


class ResourceError(ImrKgError):
    """A data file that ships with imr-kg (ontology, vocabulary, shapes, query) is missing or broken."""


class QueryError(ImrKgError):
    """A query cannot be run as asked: an unknown named query, a parameter of the
    wrong type, SPARQL that does not parse, an update sent to a read-only graph."""
