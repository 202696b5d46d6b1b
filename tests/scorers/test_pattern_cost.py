"""Pattern limits: what a pattern may cost is measured before it is compiled.

Huge repeats are only ever handed to the bounded path here: `regex.compile` is replaced by
a tripwire where a test proves that a pattern is refused without being compiled, and the
property test runs under an address-space ceiling, so a regression ends in a MemoryError
rather than in the kernel killing a shared machine.
"""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from launchgate.scorers.builtin import ScorerConfigError, regex_match, score, validate_config
from launchgate.scorers.builtin.pattern_cost import (
    MAX_EXPANDED_SIZE,
    MAX_LITERAL_RUN,
    MAX_NESTING,
    MAX_PATTERN_LENGTH,
    MAX_REPEAT,
    PatternTooCostly,
    measure,
)

HUGE = "a{1000000000}"  # allocated until the kernel killed the server
NESTED = "(a{1000}){1000}x"  # ~140 MB per compile, kept by the cache
# Peak memory while compiling a pattern within the limits: ~3 MB at the limit measured on
# regex 2026.12; ten times that leaves room for other versions, a thousand times less than
# what the unbounded patterns cost.
COMPILE_PEAK_LIMIT = 32 * 1024 * 1024


@pytest.fixture
def no_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call of regex.compile from the scorers fails the test instead of allocating."""

    def tripwire(pattern: str, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"regex.compile was called with {pattern[:40]!r}")

    monkeypatch.setattr(regex_match.regex, "compile", tripwire)


@pytest.fixture
def memory_ceiling() -> Iterator[None]:
    """At most 2 GiB more address space for this process while the test runs."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    ceiling = size_kb * 1024 + 2 * 1024**3
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (HUGE, "Repeat count 1,000,000,000 is too large; the limit is 10,000"),
        ("a{0,1000000000}", "Repeat count 1,000,000,000 is too large"),
        ("a{20000,}", "Repeat count 20,000 is too large"),
        (NESTED, "Pattern expands to 1,003,003 elements; the limit is 20,000"),
        ("((ab){100}){101}", "Pattern expands to 40,705 elements"),
        ("(?:(?:(?:a{30}){30}){30})", "Pattern expands to 28,863 elements"),
        ("(?:a{0,150}){0,150}", "Pattern expands to 22,802 elements"),  # upper bounds count
        ("(" * 60 + "a" + ")" * 60, f"the limit is {MAX_NESTING} levels"),
        ("(" * 2000 + "a" + ")" * 2000, "nested too deeply"),  # deeper than Python recursion
        ("a" * (MAX_PATTERN_LENGTH + 1), "Pattern is too long: 10,001 characters"),
        # Literal runs, counted as `regex` merges them (its first search of one builds tables
        # in time cubic in its length, holding the GIL): across groups of either kind, a
        # one-character class, and the prefix alternatives share.
        ("x" * 257, "run of 257 literal characters; the limit is 256"),
        ("ab" * 2000, "run of 4,000 literal characters"),
        ("x" * 100 + "(?:" + "x" * 100 + ")(" + "x" * 56 + ")[x]", "run of 257 literal"),
        ("y" * 100 + "(?:" + "x" * 156 + "a|b)c", "run of 257 literal"),
        ("(?:a|" + "x" * 300 + ")+", "run of 300 literal"),
        ("(?=" + "x" * 300 + ")", "run of 300 literal"),
    ],
)
def test_costly_patterns_are_refused_before_compiling(
    pattern: str, message: str, no_compile: None
) -> None:
    with pytest.raises(PatternTooCostly, match=message):
        measure(pattern)
    with pytest.raises(ScorerConfigError, match=message) as caught:
        validate_config("regex", {"pattern": pattern})
    assert caught.value.path == "config.pattern"


@pytest.mark.parametrize(
    ("pattern", "size"),
    [
        # Each node counts one (the sequence holding the whole pattern too).
        ("abc", 4),
        (r"^\d{3}-\d{4}$", 13),
        (r"[\s\S]{20,2000}", 6002),  # the rag-faithfulness template; a set counts its members
        (r"\p{Lu}{3}", 5),
        ("(?x) a{5}  # b{100000} is a comment in verbose mode\n", 7),
        (r"(?V1)[[a-z]--[aeiou]]{4}", 34),
        ("(?:abc){e<=2}", 6),
        ("a{9999}", 10_001),
        ("(?:a{140}){140}", 19_882),
        ("(a|b|c){1000}", 8002),
        ("a+b*c?", 7),
        ("(a{150})(?1)", 310),  # a called group is compiled once more, on its own
    ],
)
def test_measured_sizes(pattern: str, size: int) -> None:
    # measure() reads the `regex` module's grammar (the scorers hand it their patterns
    # translated from JavaScript), so its superset is measured here too.
    assert measure(pattern).size == size
    regex.compile(pattern, cache_pattern=False)


@pytest.mark.parametrize(
    "pattern",
    [
        "x" * MAX_LITERAL_RUN,
        ("x" * MAX_LITERAL_RUN + ".") * 3,  # each run on its own
        "x" * 200 + "a+" + "x" * 200,
        "(?:ab){2000}",  # a repeat is not written out as one string
        "x{9999}",
    ],
)
def test_literal_runs_within_the_limit_are_accepted(pattern: str) -> None:
    measure(pattern)
    assert validate_config("regex", {"pattern": pattern})["pattern"] == pattern


def test_nesting_is_counted_in_levels() -> None:
    assert measure("a").nesting == 1
    assert measure("((a))").nesting == 3
    assert measure("(" * (MAX_NESTING - 1) + "a" + ")" * (MAX_NESTING - 1)).nesting == MAX_NESTING


@pytest.mark.parametrize("pattern", ["(", "a**", "[z-a]", "(?P<1>a)", "a{2,1}"])
def test_invalid_patterns_are_still_reported_as_invalid(pattern: str) -> None:
    with pytest.raises(regex.error):
        measure(pattern)
    with pytest.raises(ScorerConfigError, match="Invalid regex"):
        validate_config("regex", {"pattern": pattern})


@pytest.mark.parametrize(
    "pattern", [HUGE, NESTED, "a" * (MAX_PATTERN_LENGTH + 1), "a" * (MAX_LITERAL_RUN + 1)]
)
def test_a_stored_costly_pattern_is_a_case_error_and_never_compiled(
    pattern: str, no_compile: None
) -> None:
    # Configs saved before the limits existed reach `score` without `validate_config`.
    config = {"pattern": pattern, "flags": "", "should_match": True}
    result = score("regex", config, "aaaa", None, regex_timeout_s=0.2)
    assert result.error is True and result.score == 0.0
    assert result.reason.startswith("Pattern refused: ")


def test_a_stored_invalid_pattern_is_a_case_error() -> None:
    config = {"pattern": "(", "flags": "", "should_match": True}
    result = score("regex", config, "aaaa", None, regex_timeout_s=0.2)
    assert result.error is True and result.reason.startswith("Invalid regex")


def test_the_cache_is_bounded_by_weight_not_count() -> None:
    # Patterns near the expanded-size limit: the budget of 100,000 units holds five.
    patterns = [f"(?:{letter}{{140}}){{140}}" for letter in "abcdefghijkl"]
    for pattern in patterns:
        assert measure(pattern).size > MAX_EXPANDED_SIZE * 0.99
        regex_match.compile_pattern(pattern)
    assert regex_match._cache.currsize <= regex_match.CACHE_BUDGET
    kept = [pattern for pattern in patterns if (pattern, "") in regex_match._cache]
    assert len(kept) < len(patterns)
    assert patterns[-1] in kept  # least recently used go first


# --- the property: refused, or compiled within a bounded memory ----------------------------

counts = st.one_of(
    st.integers(0, 20),
    st.integers(0, 300),
    st.sampled_from([99, 100, 101, 999, 1000, 1001, 9999, 10_000, 10_001, 20_000, 100_000]),
    st.integers(0, 10**9),
)


@st.composite
def quantifiers(draw: st.DrawFn) -> str:
    low = draw(counts)
    kind = draw(st.sampled_from(["exact", "range", "open", "upto", "plain"]))
    if kind == "exact":
        return f"{{{low}}}"
    if kind == "range":
        return f"{{{low},{low + draw(counts)}}}"
    if kind == "open":
        return f"{{{low},}}"
    if kind == "upto":
        return f"{{,{low}}}"
    return draw(st.sampled_from(["*", "+", "?", "*?", "++"]))


atoms = st.sampled_from(["a", "b", ".", r"\d", "[a-z]", r"\p{L}", "(?:xy)", r"\w"])


def quantified(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    grouped = inner.map(lambda body: body if len(body) == 1 else f"(?:{body})")
    return st.tuples(grouped, quantifiers()).map("".join)


@st.composite
def nested_repeats(draw: st.DrawFn) -> str:
    """`((body){m}tail){n}…`: the nested-quantifier family of the memory bombs."""
    pattern = draw(st.lists(atoms, min_size=1, max_size=3).map("".join))
    for _ in range(draw(st.integers(1, 4))):
        opener = draw(st.sampled_from(["(", "(?:", "(?>", "(?="]))
        tail = draw(st.sampled_from(["", "x", r"\d", "|y"]))
        pattern = f"{opener}{pattern}{tail}){draw(quantifiers())}"
    return pattern


def patterns() -> st.SearchStrategy[str]:
    return nested_repeats() | st.recursive(
        atoms,
        lambda inner: st.one_of(
            quantified(inner),
            quantified(inner),
            st.lists(inner, min_size=2, max_size=3).map("".join),
            st.lists(inner, min_size=2, max_size=3).map("|".join),
            inner.map(lambda body: f"({body})"),
        ),
        max_leaves=12,
    )


FIXTURES_HOLD_FOR_ALL_EXAMPLES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=50, deadline=None, suppress_health_check=FIXTURES_HOLD_FOR_ALL_EXAMPLES)
@given(pattern=patterns())
def test_generated_patterns_are_refused_or_compile_within_bounded_memory(
    pattern: str, memory_ceiling: None
) -> None:
    try:
        cost = measure(pattern)
    except PatternTooCostly:
        event("refused")
        return
    except regex.error:  # e.g. a repeat of a repeat, which the generator can produce
        event("invalid")
        return
    event("compiled")
    target(float(cost.size), label="expanded size")  # steer towards the limit
    assert cost.size <= MAX_EXPANDED_SIZE
    tracemalloc.start()
    try:
        regex.compile(pattern, cache_pattern=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= COMPILE_PEAK_LIMIT, (pattern, cost, peak)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES_HOLD_FOR_ALL_EXAMPLES)
@given(count=st.integers(MAX_REPEAT + 1, 2**32 - 2), outer=st.integers(2, 10**6))
def test_any_repeat_over_the_limit_is_refused(count: int, outer: int, no_compile: None) -> None:
    for pattern in (f"a{{{count}}}", f"(a{{{count}}}){{{outer}}}", f"(?:b{{0,{count}}})"):
        with pytest.raises(PatternTooCostly):
            measure(pattern)
