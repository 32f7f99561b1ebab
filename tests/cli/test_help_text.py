"""``--help`` prose is wrapped by the terminal, not at the docstring's source line length."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from immunoprecise.cli import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """The command and, for a group, its subcommands, each with its path of names."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_help_paragraph_is_one_line_unless_it_is_an_indented_example() -> None:
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) > 20  # the whole tree: groups and their subcommands
    for path, command in commands:
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.splitlines()
            if not any(line.startswith(" ") for line in lines):
                assert len(lines) <= 1, f"immunoprecise {' '.join(path)}: {paragraph!r}"


def test_examples_keep_their_line_breaks() -> None:
    simulate_help = dict(_commands(typer.main.get_command(app)))[("simulate",)].help or ""
    assert "-f csv\n    -r " in simulate_help


def test_rendered_help_wraps_a_sentence_only_at_the_terminal_width() -> None:
    result = CliRunner().invoke(app, ["score-expression", "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert (
        "a signature with fewer than half of its genes is not scored, and the missing genes are "
        "named" in result.output
    )


def test_cutpoint_help_names_every_adjusted_p_method_it_accepts() -> None:
    from immunoprecise.cohort.cutpoint import P_METHODS

    command = dict(_commands(typer.main.get_command(app)))[("cohort", "cutpoint")]
    (option,) = [p for p in command.params if p.name == "p_method"]
    for name in P_METHODS:
        assert name in (option.help or ""), name
