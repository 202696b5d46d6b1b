r"""What a regular expression may cost, measured before it is compiled.

The `regex` module compiles a counted repeat by writing its body out `min` times: `a{1000}`
is a thousand copies of `a`, `(a{1000}){1000}` a million (about 140 MB, for one scorer), and
`a{1000000000}` allocates until the kernel kills the server. Compiling is also pure Python
holding the GIL, about 10 µs per copy. So a pattern is measured first, and refused with a
message naming the limit, when it is:

- longer than `MAX_PATTERN_LENGTH` characters;
- counting a repeat beyond `MAX_REPEAT` (either bound of `{m,n}`);
- expanding to more than `MAX_EXPANDED_SIZE` elements, where every node of the parsed
  pattern (character, class member, group, repeat, alternation…) counts one and a repeat
  counts its body times its upper bound (its lower bound when unbounded), so nested
  repeats multiply;
- nesting groups, repeats and lookarounds more than `MAX_NESTING` levels deep;
- holding a run of more than `MAX_LITERAL_RUN` literal characters in a row.

The last one is about searching, not compiling. `regex` searches for a literal run with
Boyer-Moore tables it builds on the first search that needs them, holding the GIL and
outside the time limit, in time that grows with the cube of the run's length when the
run repeats itself: `x` written 4,000 times took 20 s on its first search (10,000, the
longest a pattern may be, would take minutes), and with the GIL held every thread waits,
the event loop too. At 256 characters it takes at most ~5 ms. The runs are counted as
`regex` merges them: literal characters (a one-character class too) are joined across
non-capturing and capturing groups, and the common prefixes of alternatives are
factored out and joined to what precedes them, so a group or an alternation counts as
long as its longest edge run.

Built, a pattern takes 100–700 bytes per element (at the 20,000 limit: 2–14 MB of peak
memory, ~0.2 s). RE2 caps one repeat
at 1,000; ours is higher because `regex` writes out only the lower bound (`.{0,5000}` costs
what `.` does) and because length limits such as `[\s\S]{20,2000}` (a built-in template)
are common; the expanded size, counted on the upper bound, is what keeps the product of
nested repeats in check.

How it is measured: with the `regex` module's own parser (`regex._regex_core`), the code
`regex.compile` runs before it generates anything. That parser is private, but it is the
only one that knows the exact grammar that will be compiled: the stdlib's `re._parser`
refuses much of the `regex` superset that users write (`\p{Lu}`, nested sets `[[a-z]--[aeiou]]`
under `(?V1)`, fuzzy constraints `{e<=1}`, `(?|…)`, `(?R)`), and a hand-written tokenizer
would have to get character classes, verbose-mode comments and `\p{…}` braces exactly right
or miss a quantifier. Parsing is linear in the pattern and allocates only the tree (no
repeat is expanded before code generation), and the length is checked before it starts.
The tree is walked generically (any attribute that is a node, or a list of nodes, is a
child; any node with `min_count`/`max_count` is a repeat), so new node kinds in a future
`regex` release are still counted; tests/scorers/test_pattern_cost.py pins the behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex
from regex import _regex_core as core

MAX_PATTERN_LENGTH = 10_000
MAX_REPEAT = 10_000
MAX_EXPANDED_SIZE = 20_000
MAX_NESTING = 50
MAX_LITERAL_RUN = 256

# Nodes that only hold others together; they add no level of nesting.
_GLUE = (core.Sequence, core.Branch)


class PatternTooCostly(ValueError):
    """A pattern is over one of the limits above; the message names it and the limit."""


@dataclass(frozen=True, slots=True)
class PatternCost:
    """What a pattern measured: its expanded size (the unit of the limits) and nesting."""

    size: int
    nesting: int


def measure(pattern: str, flags: int = 0) -> PatternCost:
    """Measure `pattern` without compiling it; raise PatternTooCostly over a limit, or
    `regex.error` when it does not parse."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternTooCostly(
            f"Pattern is too long: {len(pattern):,} characters; the limit is {MAX_PATTERN_LENGTH:,}"
        )
    try:
        walk = _Walk()
        tree = _parse(pattern, flags)
        size, nesting = walk.node(tree, 0)
        run = _literal_runs(tree).longest
    except RecursionError:
        raise _too_deep() from None
    if walk.calls_groups:
        # A group called by (?1), (?&name) or (?R) is compiled once more, on its own.
        size *= 2
    if size > MAX_EXPANDED_SIZE:
        raise PatternTooCostly(
            f"Pattern expands to {size:,} elements; the limit is {MAX_EXPANDED_SIZE:,} "
            "(each character, class, group and repeat counts one, a repeated part as many "
            "times as its upper bound; nested repeats multiply)"
        )
    if run > MAX_LITERAL_RUN:
        raise PatternTooCostly(
            f"Pattern has a run of {run:,} literal characters; the limit is "
            f"{MAX_LITERAL_RUN} (a longer fixed text is a contains scorer's job)"
        )
    return PatternCost(size=size, nesting=nesting)


def _parse(pattern: str, flags: int) -> core.RegexBase:
    """The parse `regex.compile` does first (see `regex._main._compile`), and no more."""
    global_flags = flags
    while True:
        source = core.Source(pattern)
        info = core.Info(global_flags, source.char_type, {})
        info.guess_encoding = core.UNICODE
        source.ignore_space = bool(info.flags & core.VERBOSE)
        source.use_unicode_space(bool(info.flags & core.VERSION1))
        try:
            tree = core._parse_pattern(source, info)
        except core._UnscopedFlagSet:
            # A global flag such as (?x) in the middle: parse again with it set, as regex does.
            global_flags = info.global_flags
            continue
        if not source.at_end():
            raise regex.error("unbalanced parenthesis", pattern, source.pos)
        return tree


class _Walk:
    """One walk over a parse tree: (expanded size, deepest nesting) of each node."""

    def __init__(self) -> None:
        self.calls_groups = False

    def node(self, node: core.RegexBase, depth: int) -> tuple[int, int]:
        # Every node is compiled to code of its own (a group's open and close, a repeat's
        # guard), so each counts one; a repeat's body counts once per copy.
        level = depth if isinstance(node, _GLUE) else depth + 1
        if level > MAX_NESTING:
            raise _too_deep()
        self.calls_groups = self.calls_groups or isinstance(node, core.CallGroup)
        body, nesting = 0, level
        for child in _children(node):
            child_size, child_nesting = self.node(child, level)
            body += child_size
            nesting = max(nesting, child_nesting)
        if hasattr(node, "min_count") and hasattr(node, "max_count"):
            body *= _repeat_bound(node.min_count, node.max_count)
        return 1 + body, nesting


@dataclass(frozen=True, slots=True)
class _Runs:
    """The literal runs of a node: at its start, at its end, the longest anywhere, and
    whether the whole node is one literal run (then `head` == `tail` == its length)."""

    head: int
    tail: int
    longest: int
    whole: bool


_BROKEN = _Runs(0, 0, 0, False)


def _literal_runs(node: core.RegexBase) -> _Runs:
    """The runs `regex` may merge into one searched string (see the module's docstring);
    anything but a literal, a group or an alternation ends a run, and counts the runs
    inside it on their own."""
    if isinstance(node, core.Character):
        literal = node.positive and not getattr(node, "zerowidth", False)
        return _Runs(1, 1, 1, True) if literal else _BROKEN
    if isinstance(node, core.String):
        length = len(node.characters)
        return _Runs(length, length, length, True)
    if isinstance(node, core.Sequence):
        return _sequence_runs([_literal_runs(item) for item in node.items])
    if isinstance(node, core.Group):
        return _literal_runs(node.subpattern)
    if isinstance(node, core.Branch):
        runs = [_literal_runs(branch) for branch in node.branches]
        return _Runs(
            max((r.head for r in runs), default=0),
            max((r.tail for r in runs), default=0),
            max((r.longest for r in runs), default=0),
            False,
        )
    inner = max((_literal_runs(child).longest for child in _children(node)), default=0)
    return _Runs(0, 0, inner, False)


def _sequence_runs(items: list[_Runs]) -> _Runs:
    head, current, longest, whole = 0, 0, 0, True
    for item in items:
        current += item.head
        longest = max(longest, current, item.longest)
        if whole:
            head = current
        if not item.whole:
            whole = False
            current = item.tail
    return _Runs(head, current, max(longest, current), whole)


def _children(node: core.RegexBase) -> list[core.RegexBase]:
    found: list[core.RegexBase] = []
    for value in vars(node).values():
        if isinstance(value, core.RegexBase):
            found.append(value)
        elif isinstance(value, list | tuple):
            found.extend(item for item in value if isinstance(item, core.RegexBase))
    return found


def _repeat_bound(minimum: int, maximum: int | None) -> int:
    for count in (minimum, maximum):
        if count is not None and count > MAX_REPEAT:
            raise PatternTooCostly(
                f"Repeat count {count:,} is too large; the limit is {MAX_REPEAT:,} per "
                "repeat (use + or * for an open-ended repeat)"
            )
    return max(maximum if maximum is not None else minimum, 1)


def _too_deep() -> PatternTooCostly:
    return PatternTooCostly(
        f"Pattern is nested too deeply; the limit is {MAX_NESTING} levels of groups, "
        "repeats and lookarounds"
    )
