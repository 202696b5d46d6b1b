r"""RE2 and `regex` agree on every pattern we run on RE2 (SPEC §4's JavaScript meaning).

A regex scorer searches on RE2 when `re2_dialect` can rewrite the translated pattern token
for token (regex_match.runs_inline); anything else stays on `regex`. Evidence:

- generated JavaScript patterns, flags and texts, from the characters where dialects part
  ways (line terminators, Unicode digits and spaces, letters whose case folds unusually:
  ſ, the Kelvin sign, ß and ẞ, İ and ı; a character beyond U+FFFF), scored on both
  engines: the same ScoreResult — the same match, so the same reason, which quotes it —
  for should_match true and false;
- a table of which patterns go to RE2 and which stay on `regex`, and why.

(The node-backed test in test_js_regex.py holds `regex` to JavaScript; this one holds RE2
to `regex`.)
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launchgate.scorers.builtin.regex_match import (
    INLINE_BUDGET,
    Prepared,
    prepare,
    runs_inline,
    score_prepared,
)
from launchgate.scorers.builtin.result import ScoreResult

FLAGS = ["", "i", "s", "is", "u", "iu", "m", "g"]
TIMEOUT_S = 2.0


def _leaf() -> st.SearchStrategy[str]:
    chars = st.sampled_from(
        ["a", "b", "k", "s", "A", "K", "S", "0", "7", " ", "-", "_", "é", "ß", "\\.", "\\-"]
    )
    escapes = st.sampled_from(
        [r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", r"\n", r"\r", r"\x41", r"\u017f", r"\u212a"]
    )
    members = st.sampled_from(
        ["a", "k", "s", "a-c", "K-Z", "0-9", r"\d", r"\w", r"\s", r"\W", "é", "-", r"\n", "ß"]
    )
    classes = st.builds(
        lambda negated, items: "[" + ("^" if negated else "") + "".join(items) + "]",
        st.booleans(),
        st.lists(members, max_size=3),
    )
    anchors = st.sampled_from(["^", "$", r"\b", r"\B"])
    return st.one_of(chars, escapes, classes, anchors, st.just("."), st.just(r"\u{1F600}"))


def _quantified(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    quantifier = st.sampled_from(
        ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "+?", "*?", "??", "{0,2}?"]
    )
    return st.builds(
        lambda atom, q: atom if atom in ("^", "$", r"\b", r"\B") else atom + q, inner, quantifier
    )


def _groups(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    sequence = st.lists(_quantified(children), min_size=0, max_size=3).map("".join)
    alternation = st.lists(sequence, min_size=1, max_size=3).map("|".join)
    # Mostly non-capturing groups (what RE2 runs), some captures and lookarounds (which
    # keep the pattern on `regex`: the scorer's answer must not change either way).
    opener = st.sampled_from(["(?:", "(?:", "(?:", "(", "(?=", "(?!"])
    return st.builds(lambda head, body: head + body + ")", opener, alternation)


PATTERNS = st.lists(_quantified(st.recursive(_leaf(), _groups, max_leaves=8)), max_size=4).map(
    "".join
)
TEXT = st.text(
    alphabet=st.sampled_from(
        [
            *"abkAKsS07 -_.éß\t\n\r\u2028\u2029\u00a0\u0085\ufeff٣\u017f\u212a\u1e9e\u0130\u0131",
            "\U0001f600",
        ]
    ),
    max_size=14,
)


def _both(prepared: Prepared, text: str) -> tuple[ScoreResult, ScoreResult] | None:
    """The scorer's answer on RE2 and on `regex`; None when `regex` gave up (a nest of
    empty loops can be exponential there: on `regex` the case ends in error)."""
    on_re2 = score_prepared(prepared, text, timeout_s=TIMEOUT_S, linear=True)
    on_regex = score_prepared(prepared, text, timeout_s=TIMEOUT_S, linear=False)
    if on_regex.error:
        return None
    return on_re2, on_regex


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=PATTERNS, flags=st.sampled_from(FLAGS), text=TEXT, should_match=st.booleans())
def test_both_engines_give_the_same_answer(
    pattern: str, flags: str, text: str, should_match: bool
) -> None:
    prepared = prepare({"pattern": pattern, "flags": flags, "should_match": should_match})
    if prepared.compiled is None or prepared.compiled.linear is None:
        return  # refused, or not for RE2: `regex` answers, as it always did
    answers = _both(prepared, text)
    if answers is not None:
        assert answers[0] == answers[1], (pattern, flags, text)


@pytest.mark.parametrize(
    ("pattern", "flags"),
    [
        (r"\"confidence\"\s*:\s*0\.\d+", "i"),  # bench/run_latency.py's pattern
        (r"^\d{3}-\d{4}$", ""),
        (r"(?:a|aa)+$", ""),  # exponential when backtracking; linear on RE2
        (r"\bcolou?r\b", "i"),
        ("a.b", "s"),
        ("a.b", ""),
        (r"[^\W_]+", ""),
        (r"\u{1F600}", "u"),
        ("[^]", ""),
        ("x*?y{2,3}", "g"),
    ],
)
def test_patterns_that_run_on_re2(pattern: str, flags: str) -> None:
    prepared = prepare({"pattern": pattern, "flags": flags, "should_match": True})
    assert prepared.compiled is not None and prepared.compiled.linear is not None
    assert runs_inline(prepared, "short text")


@pytest.mark.parametrize(
    ("pattern", "flags", "why"),
    [
        ("^abc$", "m", "with m, ^ and $ are lookarounds at JavaScript's line terminators"),
        (r"(?<=\$)\d+", "", "lookbehind"),
        (r"(?!x)y", "", "lookahead"),
        (r"(?:(a)\1)", "", "backreference"),
        (r"(a|aa)+$", "", "a capturing group (see re2_dialect)"),
        (r"\p{Lu}", "u", "Unicode properties: RE2's tables are not `regex`'s"),
        (r"[^a\W]", "i", "a negated class of folded and exact parts under i is a lookahead"),
        ("[]", "", "the empty class is (?!)"),
        ("a{1001}", "", "RE2 refuses repeats over 1,000"),
    ],
)
def test_patterns_that_stay_on_regex(pattern: str, flags: str, why: str) -> None:
    prepared = prepare({"pattern": pattern, "flags": flags, "should_match": True})
    assert prepared.compiled is not None and prepared.compiled.linear is None, why
    assert not runs_inline(prepared, "short text")


def test_texts_re2_cannot_take_stay_on_regex() -> None:
    prepared = prepare({"pattern": "a+", "flags": "", "should_match": True})
    assert runs_inline(prepared, "aé😀")
    assert not runs_inline(prepared, "a\ud800")  # a lone surrogate has no UTF-8 form
    result = score_prepared(prepared, "a\ud800", timeout_s=TIMEOUT_S)
    assert result == ScoreResult(1.0, 'Pattern matched: "a"')
    assert prepared.compiled is not None
    over = "a" * (INLINE_BUDGET // max(prepared.compiled.size, 1) + 1)
    assert not runs_inline(prepared, over)  # too long for the event loop: a thread


def test_a_backtracking_catastrophe_answers_at_once_on_re2() -> None:
    prepared = prepare({"pattern": "(?:a|aa)+$", "flags": "", "should_match": False})
    text = "a" * 40 + "!"
    assert score_prepared(prepared, text, timeout_s=0.2) == ScoreResult(
        1.0, "Pattern did not match, as required"
    )
    assert score_prepared(prepared, text, timeout_s=0.2, linear=False) == ScoreResult(
        0.0, "Regex timed out after 200 ms", error=True
    )
