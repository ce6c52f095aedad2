"""imr-kg: a knowledge graph of California workers' compensation IMR determination letters.

The pipeline runs one way: read a letter (PDF or text) into normalized text,
find its layout and sections, extract a :class:`~imrkg.record.LetterRecord`
whose every value carries its span in that text, and (in later layers) map
records to RDF.

>>> from imrkg import __version__
>>> isinstance(__version__, str)
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("imr-kg")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
