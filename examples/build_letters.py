"""Render the sample letters: examples/sources/*.letter -> examples/letters/NAME.txt, NAME.pdf.

Run from anywhere: ``python examples/build_letters.py`` (options: ``--sources``, ``--out``).
"""

import sys
from pathlib import Path

# The script lives outside the package; make the repository root importable
# so it works without installing imrkg.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imrkg.typeset import main

if __name__ == "__main__":
    raise SystemExit(main())
