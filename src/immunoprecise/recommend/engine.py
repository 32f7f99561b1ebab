"""Match an immune profile against the knowledge base: :func:`recommend`."""

from __future__ import annotations

import difflib
import functools
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

from immunoprecise.errors import FieldProblem, KnowledgeBaseError, ValidationError
from immunoprecise.knowledge import (
    CIVIC_LEVELS,
    ONCOKB_LEVELS,
    Effect,
    KnowledgeBase,
    Rule,
    Strategy,
    load_knowledge_base,
)
from immunoprecise.profile import ImmuneProfile
from immunoprecise.profile.values import cite
from immunoprecise.recommend.conditions import evaluate_condition
from immunoprecise.recommend.plan import (
    OptionStatus,
    PlanAnswer,
    PlannedStrategy,
    PlanStep,
    RuleFiring,
    StrategyOption,
    StrategyPlan,
    TimingInfo,
    UnevaluatedRule,
)
from immunoprecise.recommend.what_if import OverrideValue, apply_overrides, compare_plans
from immunoprecise.records import PatientRecord

__all__ = ["POINTS", "applicable_rules", "option_status", "recommend", "strategy_caution_rules"]

POINTS = {Effect.indicate: 3, Effect.favour: 1, Effect.disfavour: -2, Effect.contraindicate: 0}
"""Score points of each effect; the score of an option is the sum over the rules that fired."""
_STATUS_ORDER: dict[OptionStatus, int] = {
    "indicated": 0,
    "favoured": 1,
    "disfavoured": 2,
    "contraindicated": 3,
}


def option_status(effects: set[Effect], score: int) -> OptionStatus:
    """The status of an option from the effects of the rules that fired and its score.

    A contraindication wins; an indicating rule makes it indicated whatever cautions lower its
    score; otherwise conflicting favour/disfavour rules are weighed by the score.

    Examples
    --------
    >>> option_status({Effect.favour, Effect.disfavour}, 1 - 2)
    'disfavoured'
    >>> option_status({Effect.indicate, Effect.disfavour}, 3 - 2)
    'indicated'
    """
    if Effect.contraindicate in effects:
        return "contraindicated"
    if Effect.indicate in effects:
        return "indicated"
    return "favoured" if score > 0 else "disfavoured"


@functools.cache
def applicable_rules(
    kb: KnowledgeBase, code: str | None
) -> tuple[tuple[Rule, tuple[str, ...]], ...]:
    """The rules for disease ``code``, each with the therapies it can touch.

    A rule supporting a therapy (indicate, favour) touches all its therapies; a caution
    (disfavour, contraindicate) touches only therapies that some rule supports for this disease,
    so cautions never bring in therapies of other diseases.
    """
    rules = [r for r in kb.rules if kb.applies(r.diseases, code)]
    considered = {
        t
        for r in rules
        if r.effect in (Effect.indicate, Effect.favour)
        for t in kb.select_therapies(r.therapies)
    }
    out = []
    for rule in rules:
        therapies = tuple(t for t in kb.select_therapies(rule.therapies) if t in considered)
        if therapies:
            out.append((rule, therapies))
    return tuple(out)


@functools.cache
def strategy_caution_rules(
    kb: KnowledgeBase, code: str | None
) -> tuple[tuple[Rule, tuple[str, ...]], ...]:
    """The cautions (disfavour, contraindicate) for disease ``code`` that touch a step of one of
    its strategies which :func:`applicable_rules` leaves out (no rule supports that therapy for
    this disease), each with those therapies.

    A strategy proposes its steps whether or not they are options of their own, so each step
    must still carry the cautions that hold for it.
    """
    touched = {t for _rule, therapies in applicable_rules(kb, code) for t in therapies}
    steps = {
        step.therapy
        for strategy in kb.strategies
        if kb.applies(strategy.diseases, code)
        for step in strategy.steps
    }
    out = []
    for rule in kb.rules:
        if rule.effect not in (Effect.disfavour, Effect.contraindicate):
            continue
        if not kb.applies(rule.diseases, code):
            continue
        therapies = tuple(
            t for t in kb.select_therapies(rule.therapies) if t in steps and t not in touched
        )
        if therapies:
            out.append((rule, therapies))
    return tuple(out)


def _best(levels: list[str | None], scale: tuple[str, ...]) -> str | None:
    known = [lv for lv in levels if lv is not None and lv in scale[:5]]
    return min(known, key=scale.index) if known else None


def _option(kb: KnowledgeBase, therapy_id: str, firings: list[RuleFiring]) -> StrategyOption:
    therapy = kb.therapy(therapy_id)
    support = tuple(f for f in firings if f.effect in (Effect.indicate, Effect.favour))
    score = sum(POINTS[f.effect] for f in firings)
    return StrategyOption(
        rank=1,
        therapy_id=therapy_id,
        name=therapy.name,
        therapy_class=therapy.therapy_class,
        development=therapy.development,
        status=option_status({f.effect for f in firings}, score),
        score=score,
        oncokb_level=_best([f.evidence.oncokb for f in support], ONCOKB_LEVELS),
        civic_level=_best([f.evidence.civic for f in support], CIVIC_LEVELS),
        mechanism=therapy.mechanism,
        targets=therapy.targets,
        tags=therapy.tags,
        typical_regimen=therapy.typical_regimen,
        key_toxicities=therapy.key_toxicities,
        rationale=support,
        cautions=tuple(f for f in firings if f not in support),
        references=tuple(cite(kb, r) for r in therapy.references),
    )


def _option_order(o: StrategyOption) -> tuple[int, int, int, int, str]:
    return (
        _STATUS_ORDER[o.status],
        -o.score,
        ONCOKB_LEVELS.index(o.oncokb_level) if o.oncokb_level else len(ONCOKB_LEVELS),
        CIVIC_LEVELS.index(o.civic_level) if o.civic_level else len(CIVIC_LEVELS),
        o.therapy_id,
    )


def _ranked(options: list[StrategyOption]) -> tuple[StrategyOption, ...]:
    ordered = sorted(options, key=_option_order)
    return tuple(o.model_copy(update={"rank": i}) for i, o in enumerate(ordered, start=1))


def _timing(kb: KnowledgeBase, window_id: str | None) -> TimingInfo | None:
    if window_id is None:
        return None
    w = kb.timing_window(window_id)
    return TimingInfo(
        window_id=w.id,
        name=w.name,
        anchor=w.anchor,
        start_day=w.start_day,
        end_day=w.end_day,
        peak_day=w.peak_day,
        days=w.days_text,
        purpose=w.purpose,
        references=tuple(cite(kb, r) for r in w.references),
    )


def _today(strategy: Strategy, profile: ImmuneProfile, steps: tuple[PlanStep, ...]) -> int | None:
    if strategy.anchor_history is None:
        return None
    value = profile.get(f"days_since.{strategy.anchor_history}")
    if value is None or value.status != "assessed" or not isinstance(value.value, int):
        return None
    last = max((s.window.end_day for s in steps if s.window), default=0)
    return value.value if value.value <= last else None


def _planned(
    kb: KnowledgeBase,
    strategy: Strategy,
    profile: ImmuneProfile,
    because: tuple[str, ...],
    by_id: Mapping[str, StrategyOption],
) -> PlannedStrategy:
    steps = tuple(
        PlanStep(
            therapy_id=step.therapy,
            name=kb.therapy(step.therapy).name,
            timing=step.timing,
            day=step.day,
            window=_timing(kb, step.window),
            purpose=step.purpose,
            optional=step.optional,
            option_status=by_id[step.therapy].status if step.therapy in by_id else None,
            cautions=tuple(f.rule_id for f in by_id[step.therapy].cautions)
            if step.therapy in by_id
            else (),
        )
        for step in strategy.steps
    )
    cautions = []
    blocked = False
    for step in steps:
        option = by_id.get(step.therapy_id)
        if option is None or option.status not in ("contraindicated", "disfavoured"):
            continue
        rules = ", ".join(f.rule_id for f in option.cautions)
        cautions.append(f"{step.name}: {option.status} ({rules})")
        blocked |= option.status == "contraindicated" and not step.optional
    return PlannedStrategy(
        rank=1,
        strategy_id=strategy.id,
        name=strategy.name,
        kind=strategy.kind,
        status="contraindicated" if blocked else "proposed",
        anchor=strategy.anchor,
        today_day=_today(strategy, profile, steps),
        steps=steps,
        evidence=strategy.evidence,
        rationale=strategy.rationale,
        because=because,
        cautions=tuple(cautions),
        references=tuple(cite(kb, r) for r in strategy.references),
    )


def _strategies(
    kb: KnowledgeBase, profile: ImmuneProfile, by_id: Mapping[str, StrategyOption]
) -> tuple[tuple[PlannedStrategy, ...], list[UnevaluatedRule]]:
    planned, unevaluated = [], []
    for strategy in kb.strategies:
        if not kb.applies(strategy.diseases, profile.disease.oncotree_code):
            continue
        verdict = evaluate_condition(strategy.when, profile)
        if verdict.holds is None:
            unevaluated.append(
                UnevaluatedRule(
                    rule_id=strategy.id,
                    kind="strategy",
                    therapies=tuple(s.therapy for s in strategy.steps),
                    effect=None,
                    missing=verdict.missing,
                )
            )
        elif verdict.holds:
            planned.append(_planned(kb, strategy, profile, verdict.reasons, by_id))

    def order(s: PlannedStrategy) -> tuple[int, int, int, str]:
        support = sum(by_id[st.therapy_id].score for st in s.steps if st.therapy_id in by_id)
        return (s.status != "proposed", CIVIC_LEVELS.index(s.evidence.civic), -support, s.name)

    ordered = sorted(planned, key=order)
    ranked = tuple(s.model_copy(update={"rank": i}) for i, s in enumerate(ordered, start=1))
    return ranked, unevaluated


def _answers(kb: KnowledgeBase, options: tuple[StrategyOption, ...]) -> tuple[PlanAnswer, ...]:
    answers = []
    for q in kb.questions:
        hits = [o for o in options if set(o.tags) & set(q.tags) and o.status != "disfavoured"]
        if not hits:
            answers.append(
                PlanAnswer(question_id=q.id, question=q.question, answer=q.none, therapy_ids=())
            )
            continue
        best = hits[0]
        label = next((q.labels[t] for t in q.tags if t in best.tags and t in q.labels), None)
        levels = ", ".join(
            x
            for x in (
                best.oncokb_level and f"OncoKB {best.oncokb_level}",
                best.civic_level and f"CIViC {best.civic_level}",
            )
            if x
        )
        text = f"{best.name} ({best.status}{'; ' + levels if levels else ''})"
        others = [o.name for o in hits[1:3]]
        if others:
            text += "; also " + ", ".join(others)
        answers.append(
            PlanAnswer(
                question_id=q.id,
                question=q.question,
                answer=f"{label}: {text}" if label else text,
                therapy_ids=tuple(o.therapy_id for o in hits[:3]),
            )
        )
    return tuple(answers)


def _firing(kb: KnowledgeBase, rule: Rule, reasons: tuple[str, ...]) -> RuleFiring:
    return RuleFiring(
        rule_id=rule.id,
        family=rule.family,
        effect=rule.effect,
        evidence=rule.evidence,
        rationale=rule.rationale,
        because=reasons,
        window=_timing(kb, rule.window),
        references=tuple(cite(kb, r) for r in rule.references),
    )


def _plan(profile: ImmuneProfile, kb: KnowledgeBase) -> StrategyPlan:
    code = profile.disease.oncotree_code
    fired: dict[str, list[RuleFiring]] = defaultdict(list)
    listed: set[str] = set()
    unevaluated: list[UnevaluatedRule] = []
    for rule, therapies in applicable_rules(kb, code):
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
        firing = _firing(kb, rule, verdict.reasons)
        for therapy_id in therapies:
            fired[therapy_id].append(firing)
        if rule.effect is not Effect.disfavour or rule.diseases is not None:
            listed.update(therapies)
    # A therapy is listed when a rule supports or contraindicates it, or a rule written for
    # this disease weighs against it; general cautions alone do not bring a therapy in.
    options = [_option(kb, t, firings) for t, firings in fired.items() if t in listed]
    by_id = {o.therapy_id: o for o in options}
    ranked = _ranked([o for o in options if o.status != "contraindicated"])
    # A strategy's steps carry every caution that fired for their therapy, also a therapy that is
    # not an option of its own (hit only by general cautions, or supported by no rule here).
    step_fired = {t: list(f) for t, f in fired.items()}
    for rule, therapies in strategy_caution_rules(kb, code):
        verdict = evaluate_condition(rule.when, profile)
        if verdict.holds:
            for therapy_id in therapies:
                step_fired.setdefault(therapy_id, []).append(_firing(kb, rule, verdict.reasons))
    steps_by_id = {
        t: by_id[t] if t in by_id else _option(kb, t, firings) for t, firings in step_fired.items()
    }
    strategies, undecided = _strategies(kb, profile, steps_by_id)
    return StrategyPlan(
        patient_id=profile.patient_id,
        options=ranked,
        contraindicated=_ranked([o for o in options if o.status == "contraindicated"]),
        strategies=strategies,
        answers=_answers(kb, ranked),
        not_evaluated=(*unevaluated, *undecided),
        disease_note=disease_note(kb, code),
        knowledge_base=profile.knowledge_base,
    )


def disease_note(kb: KnowledgeBase, code: str | None) -> str | None:
    """Why the disease-specific rules of ``kb`` were not checked for disease ``code``, or None.

    Without a code, or with one the knowledge base does not list (a typo, or a disease it does
    not cover), only the rules written for every disease apply; a plan that says nothing about
    it would read as "nothing applies to this patient".

    Parameters
    ----------
    kb
        The knowledge base the plan is made with.
    code
        The record's ``disease.oncotree_code``.

    Returns
    -------
    str or None
        One sentence for the plan, None when the code is one the knowledge base lists.

    Examples
    --------
    >>> from immunoprecise.knowledge import load_knowledge_base
    >>> kb = load_knowledge_base()
    >>> disease_note(kb, "LUAD") is None
    True
    >>> print(disease_note(kb, "LUDA"))  # doctest: +ELLIPSIS
    The disease code 'LUDA' is not in knowledge base ... (did you mean LUAD?), so only ...
    """
    if code is None:
        return (
            "No OncoTree code is recorded for the disease, so only the rules written for every "
            "disease were checked; the disease-specific rules were not evaluated. Add "
            "disease.oncotree_code to the record."
        )
    codes = sorted(d.code for d in kb.diseases)
    if code in codes:
        return None
    close = difflib.get_close_matches(code, codes, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return (
        f"The disease code {code!r} is not in knowledge base {kb.version}{hint}, so only the "
        "rules written for every disease were checked; the disease-specific rules were not "
        f"evaluated. Codes it lists: {', '.join(codes)}."
    )


def _not_a_profile(given: object) -> ValidationError:
    """The error for ``recommend`` given a record, a path or a mapping instead of a profile."""
    if isinstance(given, str | Path):
        problem = FieldProblem(
            "profile",
            str(given),
            "expected an ImmuneProfile, not a file path; read and profile the file first: "
            "ip.recommend(ip.profile(ip.read_patient(path)))",
        )
    else:
        how = (
            "profile the record first: ip.recommend(ip.profile(record))"
            if isinstance(given, PatientRecord)
            else "give the ImmuneProfile that ip.profile returns"
        )
        problem = FieldProblem(
            "profile", None, f"expected an ImmuneProfile, not a {type(given).__name__}; {how}"
        )
    return ValidationError([problem])


def recommend(
    profile: ImmuneProfile,
    *,
    knowledge_base: KnowledgeBase | None = None,
    overrides: Mapping[str, OverrideValue] | None = None,
) -> StrategyPlan:
    """Rank therapy options and multi-step strategies for a profile, each explained and cited.

    Parameters
    ----------
    profile
        The patient's immune profile (:func:`immunoprecise.profile`).
    knowledge_base
        Rules, therapies, strategies and references; the shipped knowledge base when omitted.
    overrides
        Hypothetical profile values, by key (e.g. ``{"msi_status": "MSI-H", "crp": 40}``; units
        those of the profile value, here mg/L). The plan is made with them and its ``what_if``
        section lists how options and strategies changed against the actual profile.

    Returns
    -------
    StrategyPlan
        Options ranked by status, score and evidence; contraindicated options listed apart;
        strategies (sequences and combinations with timing windows); the answers to the plan's
        questions; rules that could not be decided, with the record fields that are missing.

    Raises
    ------
    ValidationError
        If an override names no profile value or gives a value of the wrong kind.
    KnowledgeBaseError
        If the profile was made with another knowledge base than ``knowledge_base`` (its
        categories come from that one's thresholds): pass the same one to both.

    Examples
    --------
    >>> import immunoprecise as ip
    >>> record = ip.read_patient(ip.data.example_path("ball_cd19.json"))
    >>> plan = ip.recommend(ip.profile(record))
    >>> best = plan.options[0]
    >>> best.therapy_id, best.status, best.civic_level
    ('tisagenlecleucel', 'indicated', 'A')
    >>> [c.rule_id for c in best.cautions]
    ['crs_risk_high_burden', 'car_hematotox_high_caution', 'ongoing_crs_icans_caution']
    """
    if not isinstance(profile, ImmuneProfile):
        raise _not_a_profile(profile)
    kb = knowledge_base if knowledge_base is not None else load_knowledge_base()
    made_with = profile.knowledge_base
    if made_with.sha256 != kb.sha256:
        # the plan would carry the profile's knowledge base, while its rules came from another
        given = "given" if knowledge_base is not None else "shipped"
        raise KnowledgeBaseError(
            f"profile of patient {profile.patient_id} was made with knowledge base "
            f"{made_with.version} (sha256 {made_with.sha256[:12]}…), not the {given} "
            f"{kb.version} (sha256 {kb.sha256[:12]}…); pass the same knowledge base to "
            "ip.profile and ip.recommend (knowledge_base=...)"
        )
    if not overrides:
        return _plan(profile, kb)
    actual = _plan(profile, kb)
    changed, applied = apply_overrides(profile, overrides, knowledge_base=kb)
    hypothetical = _plan(changed, kb)
    return hypothetical.model_copy(update={"what_if": compare_plans(actual, hypothetical, applied)})
