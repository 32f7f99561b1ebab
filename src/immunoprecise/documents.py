"""Reading the YAML that users write: patient records, trial designs, regimen files, uploads.

One loader serves them all, so a document means the same wherever it is given:

- a mapping that gives a key twice is an error (PyYAML keeps the last value without a word; YAML
  itself requires keys to be unique), naming the key and both lines;
- plain scalars are resolved by the YAML 1.2 core schema, so values read as written. PyYAML
  resolves them by YAML 1.1, which turns ``0012`` into the octal number 10, ``12:30`` into 750
  (base 60), ``no``/``yes``/``on``/``off`` into booleans and ``2024-01-05`` into a date, yet
  leaves ``1e3`` as text. Here only ``true``/``false`` are booleans, a number is decimal digits
  (``61``, ``-2``, ``2.5``, ``1e3``, ``.5``, ``.inf``, ``.nan``), and everything else is text as
  written: ``0012``, ``007.5`` (a leading zero is not how a number is written), ``0x1F``,
  ``1_000``, ``12:30``, ``no``, ``2024-01-05`` (dates are read from ISO text by the fields that
  hold them).

An integer whose written form is not its decimal text (``+12``; ``0x1F`` given the explicit tag
``!!int``) is a :class:`WrittenInteger`: an ``int`` that keeps the text as written, so that a
field that holds text (an identifier) can refuse it rather than store ``12``.

The knowledge base (``knowledge.base``) reads its files with :class:`UniqueKeyLoader` but keeps
PyYAML's scalar rules: its files are the maintainers', checked by ``kb validate``.
"""

from __future__ import annotations

import re
from typing import Any, Self

import yaml

__all__ = ["CoreSchemaLoader", "UniqueKeyLoader", "WrittenInteger", "load_yaml"]


class WrittenInteger(int):
    """An integer that keeps how it was written, where that is not its decimal text.

    A document's reader makes one for ``+12`` (YAML), ``-0`` (JSON, YAML) or an explicit
    ``!!int 0x1F`` (YAML); it is an ``int`` everywhere else. A field of text (an identifier)
    reads an integer as its decimal text, and refuses one whose written form differs, since
    storing ``12`` for ``+12`` would change the identifier without a word.

    Parameters
    ----------
    value
        The number.
    written
        The text it was written as.

    Examples
    --------
    >>> n = WrittenInteger(12, "+12")
    >>> n + 1, n.written
    (13, '+12')
    """

    written: str

    def __new__(cls, value: int, written: str) -> Self:
        number = super().__new__(cls, value)
        number.written = written
        return number

    def __getnewargs__(self) -> tuple[int, str]:  # type: ignore[override]
        # copy and pickle call __new__ with these
        return int(self), self.written


def integer_as_written(written: str, number: int) -> int:
    """``number`` as a plain ``int`` when ``written`` is its decimal text, else a
    :class:`WrittenInteger` keeping ``written``.

    Examples
    --------
    >>> type(integer_as_written("12", 12)).__name__, type(integer_as_written("+12", 12)).__name__
    ('int', 'WrittenInteger')
    """
    return number if written.strip() == str(number) else WrittenInteger(number, written.strip())


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that gives a key twice.

    Keys brought in by a merge (``<<: *defaults``) may still be overridden. The error is a
    ``yaml.constructor.ConstructorError`` whose ``problem`` names the key and the line it was
    first given on, and whose ``problem_mark`` is where it is repeated.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: the safe loader refuses it itself
                if first is None:
                    seen[key] = key_node.start_mark.line
                else:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"the key {key!r} is given twice (first at line {first + 1}); "
                        "give each key once",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


_YAML_1_1_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "timestamp")
)


class CoreSchemaLoader(UniqueKeyLoader):
    """:class:`UniqueKeyLoader` with the YAML 1.2 core schema's plain scalars (see the module)."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's class attribute, read-only here)
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML_1_1_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _construct_int(loader: CoreSchemaLoader, node: yaml.ScalarNode) -> int:
    number = yaml.SafeLoader.construct_yaml_int(loader, node)
    return integer_as_written(str(node.value), number)


CoreSchemaLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
CoreSchemaLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?[eE][-+]?[0-9]+
        |(?:0|[1-9][0-9]*)\.[0-9]*
        |\.[0-9]+(?:[eE][-+]?[0-9]+)?
        |\.(?:inf|Inf|INF))
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Read a YAML document as written: unique keys, YAML 1.2 core scalars (see the module).

    Parameters
    ----------
    text
        The document.

    Returns
    -------
    Any
        The data: mappings, lists, text, numbers, ``True``/``False``/``None``; never an object
        of another type (a safe loader). An integer not written as its decimal text (``+12``)
        is a :class:`WrittenInteger`, which keeps the text.

    Raises
    ------
    yaml.YAMLError
        Invalid YAML, or a repeated key (a ``ConstructorError`` whose ``problem`` names the key
        and whose ``problem_mark`` is where it is repeated).

    Examples
    --------
    >>> load_yaml("{id: 0012, sex: no, dose: 1e3, t: 12:30}")
    {'id': '0012', 'sex': 'no', 'dose': 1000.0, 't': '12:30'}
    >>> try:
    ...     load_yaml("{age: 50, age: 70}")
    ... except yaml.YAMLError as exc:
    ...     print(exc.problem)
    the key 'age' is given twice (first at line 1); give each key once
    """
    return yaml.load(text, Loader=CoreSchemaLoader)  # a SafeLoader: constructs no objects
