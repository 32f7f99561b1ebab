"""Every reference's full citation reads as one: authors, title and journal each end in one full
stop (``Chen DS, Mellman I. Elements of ...``, not ``Chen DS, Mellman I Elements``, and
``et al.`` or a title ending in ``?`` get no second one), and a reference without a DOI shows its
PMID or URL, so that a clinician can find it."""

from __future__ import annotations

import re

from immunoprecise.knowledge import load_knowledge_base
from immunoprecise.knowledge.schema import sentence


def test_authors_and_title_are_separated_by_one_full_stop() -> None:
    kb = load_knowledge_base()
    for ref in kb.references:
        text = ref.text
        assert text.startswith(f"{sentence(ref.authors)} {sentence(ref.title)} {ref.journal} ")
        assert ".." not in text, text
        assert "?." not in text, text
    chen = kb.reference("chen2017").text
    assert chen.startswith("Chen DS, Mellman I. Elements of cancer immunity"), chen


def test_a_reference_without_a_doi_is_still_traceable() -> None:
    kb = load_knowledge_base()
    for ref in kb.references:
        text = ref.text
        assert re.search(r"(doi:10\.\S+|PMID:\d+|https?://\S+)$", text), text


def test_the_reference_page_has_no_doubled_full_stops() -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "knowledge_base" / "references.md"
    text = page.read_text(encoding="utf-8")
    assert "et al.." not in text
    assert "?." not in text
