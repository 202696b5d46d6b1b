"""Properties every scorer keeps, whatever the output and config."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchgate.scorers.builtin import score, validate_config

PATTERNS = [r"\d+", "^a", "b$", "(a|aa)+$", "[", "x*", r"\bword\b", "(?i)hello", ""]
SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "required": ["a"]},
    {"type": "array", "items": {"type": "integer"}},
    {"type": "string", "pattern": "^[a-z]+$"},
    {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "number"}]},
]

texts = st.text(max_size=60)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
outputs = (
    texts
    | json_values.map(lambda value: __import__("json").dumps(value))
    | st.sampled_from(['```json\n{"a": 1}\n```', "a" * 40 + "!", "line\none\r\ntwo\u2028three"])
)
flags = st.text(alphabet="imsugx", max_size=3)
value_lists = st.lists(texts, max_size=4)

configs = st.one_of(
    st.tuples(
        st.just("exact_match"),
        st.fixed_dictionaries(
            {}, optional={"case_sensitive": st.booleans(), "strip": st.booleans()}
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("contains"),
        st.fixed_dictionaries(
            {},
            optional={
                "values": value_lists,
                "mode": st.sampled_from(["all", "any"]),
                "case_sensitive": st.booleans(),
                "should_contain": st.booleans(),
            },
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("contains"),
        st.fixed_dictionaries(
            {},
            optional={
                "values": value_lists,
                "forbidden": value_lists,
                "case_sensitive": st.booleans(),
            },
        ),
        st.just(True),
    ),
    st.tuples(
        st.just("regex"),
        st.fixed_dictionaries(
            {"pattern": st.sampled_from(PATTERNS)},
            optional={"flags": flags, "should_match": st.booleans()},
        ),
        st.just(False),
    ),
    st.tuples(
        st.just("json_schema"),
        st.fixed_dictionaries({"schema": st.sampled_from(SCHEMAS)}),
        st.just(False),
    ),
)


def normalised_or_none(scorer_type: str, config: dict[str, Any], dual_sided: bool) -> Any:
    try:
        return validate_config(scorer_type, config, dual_sided=dual_sided)
    except ValueError:  # random configs may be invalid: only valid ones get scored
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=configs, output=outputs, expected=json_values)
def test_scores_stay_in_range_with_one_line_reasons(
    case: tuple[str, dict[str, Any], bool], output: str, expected: Any
) -> None:
    scorer_type, config, dual_sided = case
    normalised = normalised_or_none(scorer_type, config, dual_sided)
    if normalised is None:
        return
    result = score(scorer_type, normalised, output, expected, regex_timeout_s=0.05)
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.score, float)
    assert "\n" not in result.reason and "\r" not in result.reason
    assert 0 < len(result.reason) <= 300
    for ratio in (result.precision, result.recall):
        assert ratio is None or 0.0 <= ratio <= 1.0
    assert (result.precision is not None) == dual_sided
