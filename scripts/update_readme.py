"""Regenerate the generated sections of README.md from the code (run by ``make docs``).

The data-model table comes from the pydantic models and the column list from the table reader,
so the README cannot drift from what the software accepts; ``tests/test_docs.py`` checks it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from immunoprecise.records import column_catalogue, data_model_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def columns_markdown() -> str:
    """The table columns as a Markdown table."""
    rows = ["| column | record field |", "|---|---|"]
    rows += [f"| `{column}` | `{field}` |" for column, field in column_catalogue()]
    return "\n".join(rows)


def sections() -> dict[str, str]:
    """Generated content by marker name."""
    return {"data-model": data_model_markdown(), "columns": columns_markdown()}


def render(text: str) -> str:
    """Return ``text`` with every generated section replaced by fresh content."""
    for name, content in sections().items():
        pattern = re.compile(
            rf"(<!-- begin generated: {name} -->\n).*?(<!-- end generated: {name} -->)", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md lacks the markers of section {name!r}")
        text = pattern.sub(lambda m, new=content: m.group(1) + new + "\n" + m.group(2), text)
    return text


def main() -> int:
    """Rewrite README.md in place; print whether it changed."""
    old = README.read_text(encoding="utf-8")
    new = render(old)
    README.write_text(new, encoding="utf-8")
    print("README.md updated" if new != old else "README.md already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
