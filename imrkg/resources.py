"""The one place that knows where imr-kg's RDF artifacts live.

The ontology, SKOS vocabularies, SHACL shapes and SPARQL queries sit at the top
of the repository (``ontology/``, ``shapes/``, ``queries/``) where other RDF
tools read them. An installed wheel carries the same folders inside the
package, under ``imrkg/data/``. This module looks in the package first and
falls back to the source tree, so code never builds such paths itself.

>>> (vocab_dir() / "treatments.ttl").name
'treatments.ttl'
>>> ontology_dir().name
'ontology'
"""

from __future__ import annotations

from pathlib import Path

from imrkg.errors import ResourceError

_PACKAGE_DATA = Path(__file__).resolve().parent / "data"
_SOURCE_TREE = Path(__file__).resolve().parent.parent


def _artifact_dir(name: str) -> Path:
    for base in (_PACKAGE_DATA, _SOURCE_TREE):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise ResourceError(f"the {name}/ folder is missing from the installation ({_PACKAGE_DATA})")


def ontology_dir() -> Path:
    """The folder holding the OWL ontology and the JSON-LD context."""
    return _artifact_dir("ontology")


def vocab_dir() -> Path:
    """The folder holding the SKOS vocabularies (Turtle)."""
    return ontology_dir() / "vocab"


def shapes_dir() -> Path:
    """The folder holding the SHACL shapes."""
    return _artifact_dir("shapes")


def queries_dir() -> Path:
    """The folder holding the named SPARQL queries (``*.rq``)."""
    return _artifact_dir("queries")


def web_dir() -> Path:
    """The folder holding the endpoint's browser page, script and style (inside the package)."""
    folder = Path(__file__).resolve().parent / "web"
    if not folder.is_dir():
        raise ResourceError(f"the web/ folder is missing from the installation ({folder})")
    return folder


def vocab_files() -> list[Path]:
    """Every vocabulary file, in a stable order."""
    files = sorted(vocab_dir().glob("*.ttl"))
    if not files:
        raise ResourceError(f"no vocabularies in {vocab_dir()}")
    return files


def published_statistics_file() -> Path:
    """The CSV of published IMR figures (DWC, CWCI), each value with its source."""
    path = Path(__file__).resolve().parent / "reference" / "published-imr-statistics.csv"
    if not path.is_file():
        raise ResourceError(
            f"the published IMR statistics are missing from the installation ({path})"
        )
    return path
