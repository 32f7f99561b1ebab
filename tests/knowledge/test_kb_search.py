"""``search_knowledge_base`` and ``find_entries``: the lookups behind `kb search`, `kb show` and
``/api/v1/kb/search``, on the shipped knowledge base."""

from __future__ import annotations

import pytest

from immunoprecise.errors import KnowledgeBaseError
from immunoprecise.knowledge import find_entries, load_knowledge_base, search_knowledge_base


def test_search_ignores_case_and_names_the_fields_it_matched() -> None:
    kb = load_knowledge_base()
    found = {(m.kind, m.id): m for m in search_knowledge_base(kb, "  Cd19 ")}
    car_t = found[("therapy", "tisagenlecleucel")]
    assert car_t.name == "Tisagenlecleucel (CD19 CAR-T)"
    assert "targets" in car_t.fields
    assert ("strategy", "ball_debulk_lymphodeplete_car_t") in found
    assert ("rule", "ball_cd19_car_t") in found
    kinds = [m.kind for m in search_knowledge_base(kb, "cd19")]
    assert kinds == sorted(kinds, key=["therapy", "strategy", "rule", "reference"].index)


def test_search_reads_reference_authors_and_titles_and_disease_codes() -> None:
    kb = load_knowledge_base()
    (maude,) = search_knowledge_base(kb, "MAUDE SL", kind="reference")
    assert (maude.id, maude.fields) == ("maude2018", ("authors",))
    assert maude.name == "Maude SL et al., N Engl J Med 2018"
    titles = search_knowledge_base(kb, "lymphoblastic leukemia", kind="reference")
    assert "maude2018" in [m.id for m in titles]
    assert all(m.fields == ("title",) for m in titles)
    by_code = search_knowledge_base(kb, "bll", kind="strategy")
    assert {m.id for m in by_code} >= {"ball_debulk_lymphodeplete_car_t"}
    assert all("diseases" in m.fields for m in by_code)


def test_search_with_a_kind_keeps_to_it_and_nothing_found_is_empty() -> None:
    kb = load_knowledge_base()
    assert {m.kind for m in search_knowledge_base(kb, "cd19", kind="rule")} == {"rule"}
    assert search_knowledge_base(kb, "no-such-word-anywhere") == ()


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_search_text_is_refused_in_words(text: str) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"search text: got .*; expected a word"):
        search_knowledge_base(load_knowledge_base(), text)


def test_an_unknown_kind_is_refused_naming_the_four() -> None:
    with pytest.raises(KnowledgeBaseError, match="kind: got 'drug'; expected one of therapy"):
        search_knowledge_base(load_knowledge_base(), "cd19", kind="drug")  # type: ignore[arg-type]


def test_find_entries_by_id_or_name_in_any_case_and_across_kinds() -> None:
    kb = load_knowledge_base()
    strategy = kb.strategy("ball_debulk_lymphodeplete_car_t")
    assert find_entries(kb, strategy.name.upper()) == (("strategy", strategy),)
    assert find_entries(kb, "MAUDE2018") == (("reference", kb.reference("maude2018")),)
    both = find_entries(kb, "melanoma_til_after_pd1")
    assert [kind for kind, _ in both] == ["strategy", "rule"]
    assert [kind for kind, _ in find_entries(kb, "melanoma_til_after_pd1", kind="rule")] == ["rule"]
    assert find_entries(kb, "tisagen") == ()
    with pytest.raises(KnowledgeBaseError, match="no strategy 'nope'"):
        kb.strategy("nope")
