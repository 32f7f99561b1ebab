"""Writing to a stdout (and stderr) whose encoding is not UTF-8.

A Windows redirect (``> out.json``) is written in the ANSI code page (cp1252), a POSIX locale
may be Latin-1 or ASCII, and ``PYTHONIOENCODING`` may name any codec. The command line's
output holds characters many of these cannot take (µ, ², ≥, χ², γδ, –), so:

* text for people (help, tables, messages) shows such a character as its escape (``\\u2265``),
  as Python shows it on stderr, instead of ending the command (:func:`tolerate_any_encoding`);
* JSON is written in ASCII, characters beyond it as JSON escapes, which read the same
  (:func:`write_json`);
* a CSV or TSV table is written in the stdout's encoding when every character fits, and
  refused otherwise with what to do instead (:func:`write_table`): an escape would change the
  data, a dropped character would lose it.
"""

from __future__ import annotations

import codecs
import re
import sys

import typer

__all__ = [
    "EXIT_UNWRITABLE",
    "NON_ASCII",
    "ascii_json",
    "json_escape",
    "stdout_is_utf8",
    "tolerate_any_encoding",
    "write_json",
    "write_table",
]

EXIT_UNWRITABLE = 2
"""Exit code when a table cannot be written to stdout in its encoding."""

NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _is_utf8(stream: object) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def stdout_is_utf8() -> bool:
    """Whether stdout writes UTF-8.

    Returns
    -------
    bool
        ``True`` for a UTF-8 stdout (or one without an encoding), ``False`` for any other.

    Examples
    --------
    >>> isinstance(stdout_is_utf8(), bool)
    True
    """
    return _is_utf8(sys.stdout)


def json_escape(match: re.Match[str]) -> str:
    """The JSON escape of the one character ``match`` found.

    Parameters
    ----------
    match
        A match of one character.

    Returns
    -------
    str
        ``\\uXXXX``, or a surrogate pair of them beyond the Basic Multilingual Plane.

    Examples
    --------
    >>> NON_ASCII.sub(json_escape, '"≥ 𝛾"')
    '"\\\\u2265 \\\\ud835\\\\udefe"'
    """
    code = ord(match.group())
    if code > 0xFFFF:  # a surrogate pair, as JSON writes characters beyond the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def ascii_json(text: str) -> str:
    """JSON ``text`` in ASCII: every other character as its JSON escape (outside strings, JSON
    is ASCII, so the document reads the same).

    Parameters
    ----------
    text
        One or more JSON documents.

    Returns
    -------
    str
        The same documents in ASCII.

    Examples
    --------
    >>> print(ascii_json('{"unit": "cells/µL"}'))
    {"unit": "cells/\\u00b5L"}
    """
    return NON_ASCII.sub(json_escape, text)


def tolerate_any_encoding() -> None:
    """Let stdout and stderr show a character their encoding cannot take as its escape.

    Called once by the ``immunoprecise`` command before it runs: help, tables and messages
    then print in any encoding (``≥`` as ``\\u2265`` in cp1252 or ASCII) rather than end the
    command with ``UnicodeEncodeError``. A UTF-8 stream is left as it is.

    Examples
    --------
    >>> tolerate_any_encoding()
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not _is_utf8(stream):
            reconfigure(errors="backslashreplace")


def write_json(text: str) -> None:
    """Write JSON ``text`` to stdout; in ASCII (:func:`ascii_json`) when stdout is not UTF-8.

    Parameters
    ----------
    text
        One or more JSON documents (JSON Lines too), with their line ends.

    Examples
    --------
    >>> write_json('{"a": 1}\\n')
    {"a": 1}
    """
    sys.stdout.write(text if stdout_is_utf8() else ascii_json(text))


def write_table(text: str, *, what: str, fix: str) -> None:
    """Write a CSV or TSV table to stdout in its encoding, or refuse it whole.

    A table is data: a character the stdout's encoding cannot take is neither escaped (that
    would change the value) nor dropped. The command then ends with exit code 2, nothing
    written, and a message naming the character, where it is and what to do.

    Parameters
    ----------
    text
        The table, with its line ends.
    what
        What the table is, for the message ("the trajectories CSV").
    fix
        How to write it to a file instead ("write it to a file with --out DIR").

    Raises
    ------
    typer.Exit
        With code 2 when the stdout's encoding cannot take a character of ``text``.

    Examples
    --------
    >>> write_table("a,b\\n1,2\\n", what="the table", fix="use --out")
    a,b
    1,2
    """
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    if not stdout_is_utf8():
        try:
            text.encode(encoding)
        except UnicodeEncodeError as exc:
            char = text[exc.start]
            line = text.count("\n", 0, exc.start) + 1
            sys.stderr.write(
                f"error: {what} holds {char!r} (U+{ord(char):04X}, line {line}), which this "
                f"stdout's encoding ({encoding}) cannot write; {fix}, or set "
                "PYTHONIOENCODING=utf-8 to write it in UTF-8\n"
            )
            raise typer.Exit(EXIT_UNWRITABLE) from None
    sys.stdout.write(text)
