"""ICD-10-CM codes for diagnoses, where the words determine the code.

A diagnosis is coded only when its words, compared as a set (case, plurals,
filler words and the generic "unspecified", "region", "site" aside), equal
the description of exactly one ICD-10-CM code, or of one code and its own
subcodes (then the parent code is given). "Lumbar radiculopathy" is M54.16
("Radiculopathy, lumbar region"); "neck pain" has no exact description and
stays uncoded. A diagnosis copied word for word from a description is that
description's code. The code set is that of the simple-icd-10-cm package.

>>> code_for("lumbar radiculopathy")
('M54.16', 'Radiculopathy, lumbar region')
>>> code_for("Umbilical hernia without obstruction or gangrene")[0]
'K42.9'
>>> code_for("multiple orthopedic complaints") is None
True
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import warnings
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

_GENERIC = frozenset({"unspecified", "region", "site", "of", "the", "and", "a", "an", "nos", "or"})


def _key(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    folded = {
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "is", "us")) else w
        for w in words
    }
    return frozenset(folded - _GENERIC)


def _codes_module() -> ModuleType:
    with warnings.catch_warnings():
        # simple-icd-10-cm reads its data through a deprecated importlib API.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


@cache
def _index() -> dict[frozenset[str], tuple[tuple[str, str] | None, tuple[tuple[str, str], ...]]]:
    """Description key -> (the code the key determines, or None; every (code, description) with it).

    Building it parses the whole code set (seconds), so it is kept in the user's
    cache folder, one file per package version, and rebuilt when missing.
    """
    cache_file = _cache_dir() / f"icd10cm-{_package_version()}-v3.pickle"
    try:
        with cache_file.open("rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, dict):
            return cached
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
        pass
    cm = _codes_module()
    grouped: dict[frozenset[str], list[str]] = {}
    for code in cm.get_all_codes(True):
        if not cm.is_chapter_or_block(code):
            grouped.setdefault(_key(cm.get_description(code)), []).append(code)
    index: dict[frozenset[str], tuple[tuple[str, str] | None, tuple[tuple[str, str], ...]]] = {}
    for key, codes in grouped.items():
        roots = [c for c in codes if not any(o != c and cm.is_ancestor(o, c) for o in codes)]
        determined = len(roots) == 1 and all(
            c == roots[0] or cm.is_ancestor(roots[0], c) for c in codes
        )
        root = (roots[0], cm.get_description(roots[0])) if determined else None
        index[key] = (root, tuple((c, cm.get_description(c)) for c in codes))
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=cache_file.parent, delete=False) as out:
            pickle.dump(index, out, protocol=pickle.HIGHEST_PROTOCOL)
        Path(out.name).replace(cache_file)
        for stale in cache_file.parent.glob("icd10cm-*.pickle"):
            if stale != cache_file:
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return index


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "imr-kg"


def _package_version() -> str:
    try:
        return version("simple-icd-10-cm")
    except PackageNotFoundError:
        return "unknown"


@cache
def description_words() -> frozenset[str]:
    """The words of the ICD-10-CM descriptions (plurals folded): a medical English
    lexicon of some 7,000 words ("tenderness", "false", "condition")."""
    return frozenset(word for key in _index() for word in key if word.isalpha() and len(word) > 1)


def code_for(diagnosis: str) -> tuple[str, str] | None:
    """(code, description) when the diagnosis' words determine one code, else None.

    A diagnosis written exactly as a code's description ("Dorsalgia, unspecified")
    is that code, even where its words alone would also fit the parent code.

    >>> code_for("dorsalgia, unspecified")
    ('M54.9', 'Dorsalgia, unspecified')
    """
    key = _key(diagnosis)
    if not key or key not in _index():
        return None
    root, candidates = _index()[key]
    wanted = " ".join(re.findall(r"[a-z0-9]+", diagnosis.lower()))
    for code, description in candidates:
        if " ".join(re.findall(r"[a-z0-9]+", description.lower())) == wanted:
            return code, description
    return root
