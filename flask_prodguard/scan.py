"""``python -m flask_prodguard.scan``: the scan without the ``flask`` command.

Kept at this path for pre-commit hooks and CI scripts that call it. It runs
the ``flask prodguard scan`` command itself (:mod:`flask_prodguard.tools.cli`),
so both have the same options, output and exit status: 0 clean, 1 findings,
2 usage error. The scan is :mod:`flask_prodguard.tools.scan`.
"""

from __future__ import annotations

if __name__ == "__main__":
    # Imported here only: importing flask_prodguard.scan loads nothing from tools/.
    from .tools.cli import scan_command

    # -h as well: the argparse entry point this replaces took it.
    scan_command(prog_name="python -m flask_prodguard.scan", help_option_names=["-h", "--help"])
