"""Match an immune profile against the knowledge base: :func:`recommend`."""

from __future__ import annotations

from collections import defaultdict

from immunoprecise.knowledge import (
    CIVIC_LEVELS,
    ONCOKB_LEVELS,
    Effect,
    KnowledgeBase,
    load_knowledge_base,
)
from immunoprecise.profile import Citation, ImmuneProfile
from immunoprecise.recommend.conditions import evaluate_condition
from immunoprecise.recommend.plan import (
    OptionStatus,
    RuleFiring,
    StrategyOption,
    StrategyPlan,
    UnevaluatedRule,
)

__all__ = ["recommend"]

_POINTS = {Effect.indicate: 3, Effect.favour: 1, Effect.disfavour: -2, Effect.contraindicate: 0}
_STATUS_ORDER: dict[OptionStatus, int] = {
    "indicated": 0,
    "favoured": 1,
    "disfavoured": 2,
    "contraindicated": 3,
}


def _status(firings: list[RuleFiring]) -> OptionStatus:
    effects = {f.effect for f in firings}
    if Effect.contraindicate in effects:
        return "contraindicated"
    if Effect.indicate in effects:
        return "indicated"
    if Effect.favour in effects:
        return "favoured"
    return "disfavoured"


def _best(levels: list[str | None], scale: tuple[str, ...]) -> str | None:
    known = [lv for lv in levels if lv is not None and lv in scale[:5]]
    return min(known, key=scale.index) if known else None


def recommend(
    profile: ImmuneProfile, *, knowledge_base: KnowledgeBase | None = None
) -> StrategyPlan:
    """Rank therapy strategies for a profile, each with rationale, evidence and cautions.

    Parameters
    ----------
    profile
        The patient's immune profile (:func:`immunoprecise.profile`).
    knowledge_base
        Rules, therapies and references; the shipped knowledge base when omitted.

    Returns
    -------
    StrategyPlan
        Options ranked by status, score and evidence; rules that could not be decided are listed
        with the record fields that are missing.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    >>> best = ip.recommend(ip.profile(record)).options[0]
    >>> best.therapy_id, best.status, best.civic_level
    ('tisagenlecleucel', 'indicated', 'A')
    """
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    code = profile.disease.oncotree_code
    rules = [r for r in kb.rules if kb.applies(r.diseases, code)]
    # Therapies some rule for this disease could support; cautions apply only to those.
    considered = {
        t for r in rules if r.effect in (Effect.indicate, Effect.favour) for t in r.therapies
    }
    fired: dict[str, list[RuleFiring]] = defaultdict(list)
    unevaluated: list[UnevaluatedRule] = []
    for rule in rules:
        therapies = tuple(t for t in rule.therapies if t in considered)
        if not therapies:
            continue
        verdict = evaluate_condition(rule.when, profile)
        if verdict.holds is None:
            unevaluated.append(
                UnevaluatedRule(
                    rule_id=rule.id,
                    therapies=therapies,
                    effect=rule.effect,
                    missing=verdict.missing,
                )
            )
            continue
        if not verdict.holds:
            continue
        refs = tuple(
            Citation(id=r.id, short=r.short, text=r.text, doi=r.doi, url=r.url)
            for r in map(kb.reference, rule.references)
        )
        for therapy_id in therapies:
            fired[therapy_id].append(
                RuleFiring(
                    rule_id=rule.id,
                    effect=rule.effect,
                    evidence=rule.evidence,
                    rationale=rule.rationale,
                    because=verdict.reasons,
                    references=refs,
                )
            )
    options = []
    for therapy_id, firings in fired.items():
        therapy = kb.therapy(therapy_id)
        support = tuple(f for f in firings if f.effect in (Effect.indicate, Effect.favour))
        options.append(
            StrategyOption(
                rank=1,
                therapy_id=therapy_id,
                name=therapy.name,
                therapy_class=therapy.therapy_class,
                status=_status(firings),
                score=sum(_POINTS[f.effect] for f in firings),
                oncokb_level=_best([f.evidence.oncokb for f in support], ONCOKB_LEVELS),
                civic_level=_best([f.evidence.civic for f in support], CIVIC_LEVELS),
                mechanism=therapy.mechanism,
                typical_regimen=therapy.typical_regimen,
                key_toxicities=therapy.key_toxicities,
                rationale=support,
                cautions=tuple(f for f in firings if f not in support),
            )
        )

    def order(o: StrategyOption) -> tuple[int, int, int, int, str]:
        return (
            _STATUS_ORDER[o.status],
            -o.score,
            ONCOKB_LEVELS.index(o.oncokb_level) if o.oncokb_level else len(ONCOKB_LEVELS),
            CIVIC_LEVELS.index(o.civic_level) if o.civic_level else len(CIVIC_LEVELS),
            o.therapy_id,
        )

    ranked = tuple(
        o.model_copy(update={"rank": i}) for i, o in enumerate(sorted(options, key=order), start=1)
    )
    return StrategyPlan(
        patient_id=profile.patient_id,
        options=ranked,
        not_evaluated=tuple(unevaluated),
        knowledge_base=profile.knowledge_base,
    )
