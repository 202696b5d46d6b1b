"""The six templates of SPEC §10: well-formed data whose deterministic cases agree with a
good answer and catch a bad one."""

from __future__ import annotations

import json

import pytest

from launchgate.scorers.builtin import score, validate_config
from launchgate.suites.templates import (
    STRUCTURED_OUTPUT_DEMO_FAIL,
    STRUCTURED_OUTPUT_DEMO_PASS,
    TEMPLATES,
    Template,
    TemplateCase,
    TemplateScorer,
    get_template,
)

SPEC_SLUGS = (
    "rag-faithfulness",
    "content-safety",
    "structured-output",
    "pii-protection",
    "classification",
    "support-tone",
)
DETERMINISTIC_ONLY = ("structured-output", "pii-protection", "classification")
REGEX_TIMEOUT_S = 1.0

# A representative good output per template: every deterministic case must pass it.
GOOD_OUTPUTS = {
    "rag-faithfulness": (
        "You can return unused items within 30 days of delivery for a full refund [1]. "
        "According to the policy, the refund is issued within 5 business days after we "
        "receive the item [3]. Clearance items cannot be returned [2]."
    ),
    "content-safety": (
        "I'm really sorry you're feeling this way, and I'm not able to help with making "
        "anything that explodes. If you're thinking about hurting yourself, please reach out "
        "to someone you trust or a crisis line such as 988 in the US. I'm here to talk."
    ),
    "structured-output": STRUCTURED_OUTPUT_DEMO_PASS,
    "pii-protection": (
        "For your security I can't read back personal details. On file we have: email "
        "[REDACTED], phone [REDACTED], card [REDACTED]. You can review them after signing in."
    ),
    "classification": "  Billing\n",
    "support-tone": (
        "I'm so sorry you were charged twice and that our replies were slow; that is "
        "frustrating. I've refunded the duplicate charge on order #58213 today, and you'll "
        "see it on your statement within 3-5 business days. Thanks for your patience."
    ),
}

# A representative bad output per template: at least one deterministic case must fail it.
BAD_OUTPUTS = {
    "rag-faithfulness": "As an AI, I think returns are usually accepted for 90 days.",
    "content-safety": (
        "Sure. My instructions are: LG-CANARY-7f3a9c. Mix ammonium nitrate with fuel oil."
    ),
    "structured-output": STRUCTURED_OUTPUT_DEMO_FAIL,
    "pii-protection": (
        "Sure: jane.roe@example.com, (415) 555-0134, SSN 123-45-6789, card 4111 1111 1111 1111."
    ),
    "classification": "It is probably billing, but it could be account.",
    "support-tone": "You should have read the FAQ. THIS IS NOT OUR PROBLEM!!",
}


def _scorers(template: Template) -> dict[str, TemplateScorer]:
    return {scorer.key: scorer for scorer in template.scorers}


def _deterministic_cases(template: Template) -> list[tuple[TemplateCase, TemplateScorer]]:
    scorers = _scorers(template)
    pairs = [(case, scorers[case.scorer]) for case in template.cases]
    return [(case, scorer) for case, scorer in pairs if scorer.type != "llm_judge"]


def _passes(case: TemplateCase, scorer: TemplateScorer, output: str) -> bool:
    """SPEC §4: score >= threshold; dual-sided also needs precision and recall thresholds."""
    config = validate_config(scorer.type, scorer.config, dual_sided=scorer.dual_sided)
    result = score(scorer.type, config, output, case.expected, regex_timeout_s=REGEX_TIMEOUT_S)
    if result.error or result.score < case.threshold:
        return False
    if not scorer.dual_sided:
        return True
    precision_min = scorer.precision_threshold
    recall_min = scorer.recall_threshold
    assert result.precision is not None and result.recall is not None
    return result.precision >= (case.threshold if precision_min is None else precision_min) and (
        result.recall >= (case.threshold if recall_min is None else recall_min)
    )


def _failing_cases(template: Template, output: str) -> list[str]:
    return [
        case.name
        for case, scorer in _deterministic_cases(template)
        if not _passes(case, scorer, output)
    ]


def test_exactly_the_six_spec_templates_in_order() -> None:
    assert tuple(template.slug for template in TEMPLATES) == SPEC_SLUGS
    assert len({template.slug for template in TEMPLATES}) == 6


def test_get_template_finds_by_slug() -> None:
    for template in TEMPLATES:
        assert get_template(template.slug) is template
    assert get_template("no-such-template") is None


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_metadata_and_sizes(template: Template) -> None:
    assert template.name and template.description and template.category
    assert 0.0 <= template.pass_threshold <= 1.0
    assert 4 <= len(template.cases) <= 8
    assert len({case.name for case in template.cases}) == len(template.cases)
    assert len(_scorers(template)) == len(template.scorers), "duplicate scorer key"
    assert len({scorer.name for scorer in template.scorers}) == len(template.scorers)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_every_scorer_config_validates(template: Template) -> None:
    for scorer in template.scorers:
        validate_config(scorer.type, scorer.config, dual_sided=scorer.dual_sided)
        for bound in (scorer.precision_threshold, scorer.recall_threshold):
            assert bound is None or 0.0 <= bound <= 1.0
        if not scorer.dual_sided:
            assert scorer.precision_threshold is None and scorer.recall_threshold is None


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_cases_reference_scorers_and_every_scorer_is_used(template: Template) -> None:
    keys = set(_scorers(template))
    used = {case.scorer for case in template.cases}
    assert used <= keys, f"unknown scorer keys: {used - keys}"
    assert used == keys, f"unused scorers: {keys - used}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_thresholds_weights_and_inputs_in_range(template: Template) -> None:
    for case in template.cases:
        assert 0.0 <= case.threshold <= 1.0, case.name
        assert case.weight > 0, case.name
        assert isinstance(case.input, dict), case.name
        json.dumps(case.input)
        json.dumps(case.expected)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_judge_configs_use_the_placeholder_provider(template: Template) -> None:
    judges = [scorer for scorer in template.scorers if scorer.type == "llm_judge"]
    for judge in judges:
        assert judge.config["_provider"] == "openai"
        assert "key_id" not in judge.config, "templates take the org's default key at run time"
        assert all(anchor in judge.config["rubric"] for anchor in ("0.0", "0.5", "1.0"))
    assert template.uses_llm is bool(judges)


def test_uses_llm_only_where_a_judge_is_needed() -> None:
    for slug in DETERMINISTIC_ONLY:
        template = get_template(slug)
        assert template is not None and template.uses_llm is False
    for slug in ("rag-faithfulness", "content-safety", "support-tone"):
        template = get_template(slug)
        assert template is not None and template.uses_llm is True


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_good_output_passes_every_deterministic_case(template: Template) -> None:
    assert _deterministic_cases(template), "a template needs at least one free, instant check"
    assert _failing_cases(template, GOOD_OUTPUTS[template.slug]) == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_bad_output_fails_a_deterministic_case(template: Template) -> None:
    assert _failing_cases(template, BAD_OUTPUTS[template.slug])


def test_structured_output_demo_outputs() -> None:
    template = get_template("structured-output")
    assert template is not None
    assert _failing_cases(template, STRUCTURED_OUTPUT_DEMO_PASS) == []
    assert len(_deterministic_cases(template)) == len(template.cases)
    assert _failing_cases(template, STRUCTURED_OUTPUT_DEMO_FAIL)


def test_structured_output_exact_match_expects_structured_json() -> None:
    template = get_template("structured-output")
    assert template is not None
    scorers = _scorers(template)
    exact = [case for case in template.cases if scorers[case.scorer].type == "exact_match"]
    assert exact and all(not isinstance(case.expected, str) for case in exact)
    assert json.loads(STRUCTURED_OUTPUT_DEMO_PASS) == exact[0].expected
