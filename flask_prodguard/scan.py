"""``python -m flask_prodguard.scan``: the scan without the ``flask`` command.

Kept at this path for pre-commit hooks and CI scripts that call it; the scan
itself is :mod:`flask_prodguard.tools.scan`.
"""

from __future__ import annotations

import sys

from .tools.scan import main

if __name__ == "__main__":
    sys.exit(main())
