"""The ``immunoprecise`` command line (Typer): thin wrappers over the library functions.

Examples
--------
>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["--version"])
>>> result.exit_code, result.output.startswith("immunoprecise ")
(0, True)
"""

from immunoprecise.cli.app import app, main

__all__ = ["app", "main"]
