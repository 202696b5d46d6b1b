r"""The translated pattern (js_regex's `regex` syntax) rewritten for RE2, when that is exact.

RE2 (`google-re2`) matches in time linear in the text: it has no backtracking, so no
pattern can run away on it, and the engine may search on the event loop instead of in a
thread under a time limit. It also has none of the features that need backtracking
(lookaround, backreferences), and writes some things differently (`\x{2028}`, not
`\u2028`; `\z`, not `\Z`).

The rewrite works on what `js_regex.translate` writes, not on what the user wrote: that
output uses a small, known set of tokens, each of which is mapped here to the RE2 token
of the same meaning. Anything else — a lookaround (which is also how `^`/`$` with `m`,
a negated class under `i` and the empty class `[]` are written), a backreference, a
Unicode property (RE2's tables and names are not the `regex` module's) — makes the
rewrite give up, and the pattern stays on `regex` in a thread.

Capturing groups give up too, for now. Not for their meaning (only the whole match is
reported, and it is the same on both engines) but because the engine's tests pin
`(a|aa)+$` — a capturing group — as the pattern that must time out on `regex`; on RE2
it would answer at once. `(?:…)` groups run on RE2. So a pattern either means
the same on both engines token for token, or is not run on RE2 at all; the property test
in tests/scorers/test_re2_agreement.py checks the engines agree, whole matches included.

What the engines share beyond the tokens: the match is the leftmost, and among those the
one a backtracking engine finds first (RE2's default, "leftmost-first", is defined as
that); case-insensitive matching is Unicode simple case folding on both. Texts RE2
cannot take (a lone surrogate, which has no UTF-8 form) stay on `regex`, see
regex_match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

try:  # the server extra installs it; without it every pattern stays on `regex`
    # The binding under `re2`'s Python wrapper: the wrapper's search is a generator that
    # maps byte offsets back to characters, ~4 µs a call, ten times `regex`'s own search
    # on a short output; the binding's Match is what it calls. google-re2 ≥ 1.1 has it.
    from re2 import _re2
except ImportError:  # pragma: no cover - exercised only where google-re2 is missing
    _re2 = None

import regex

# One token of the translated pattern outside a class, in the order they are tried.
_TOKEN = re.compile(
    r"""
      (?P<unicode>\\u[0-9a-f]{4}|\\U[0-9a-f]{8})
    | (?P<boundary>\(\?a:\\[bB]\))
    | (?P<opener>\(\?:|\(\?-i:|\(\?s:)
    | (?P<reject>\(\?)
    | (?P<same>\\A|[)|.*+?]|[A-Za-z0-9_])
    | (?P<end>\\Z)
    | (?P<count>\{[0-9]+(?:,[0-9]*)?\})
    | (?P<any>\[\\s\\S\])
    | (?P<klass>\[)
    """,
    re.VERBOSE,
)
# One member of a class: a literal (a letter, a digit, _ or an escape), a range dash, or
# the two control escapes of NOT_LINE_TERMINATOR.
_MEMBER = re.compile(r"\\u[0-9a-f]{4}|\\U[0-9a-f]{8}|\\[nr]|[A-Za-z0-9_]|-")


def rewrite(pattern: str, flags: int) -> str | None:
    """The RE2 pattern that means what the translated `pattern` (with the `regex` flag
    bits of the translation) means, or None when there is none we can prove."""
    if flags & ~(regex.IGNORECASE | regex.DOTALL):
        return None
    out: list[str] = []
    if flags & regex.IGNORECASE:
        out.append("(?i)")
    if flags & regex.DOTALL:
        out.append("(?s)")
    pos = 0
    while pos < len(pattern):
        found = _TOKEN.match(pattern, pos)
        if found is None or found.lastgroup == "reject":
            return None  # a lookaround, a backreference, a property…: not ours to map
        kind = found.lastgroup
        text = found.group()
        pos = found.end()
        if kind == "unicode":
            out.append(_code_point(text))
        elif kind == "end":
            out.append(r"\z")
        elif kind == "boundary":
            out.append(text[4:6])  # RE2's \b and \B are ASCII, as (?a:\b) is
        elif kind == "klass":
            end = _class_end(pattern, pos)
            if end is None:
                return None
            body = _class_body(pattern[pos:end])
            if body is None:
                return None
            out.append(f"[{body}]")
            pos = end + 1
        else:  # opener, same, count, any
            out.append(text)
    return "".join(out)


def _code_point(escape: str) -> str:
    return "\\x{" + format(int(escape[2:], 16), "x") + "}"


def _class_end(pattern: str, start: int) -> int | None:
    """The index of the `]` closing the class whose body starts at `start` (the
    translator escapes every `]` it means literally, so the first bare one closes)."""
    index = start
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "]":
            return index
        index += 1
    return None


def _class_body(body: str) -> str | None:
    out: list[str] = []
    pos = 0
    if body.startswith("^"):
        out.append("^")
        pos = 1
    if pos == len(body):
        return None  # never written by the translator ([] is (?!), [^] is [\s\S])
    while pos < len(body):
        found = _MEMBER.match(body, pos)
        if found is None:
            return None  # \p{…} and anything unforeseen
        text = found.group()
        out.append(_code_point(text) if text[:2] in ("\\u", "\\U") else text)
        pos = found.end()
    return "".join(out)


# RE2's memory per compiled pattern (program and lazily built DFA together); its default
# is 8 MiB. Patterns stay cached by the thousand (regex_match's cache), so less: a pattern
# whose program does not fit is refused by RE2 and stays on `regex`, and a DFA that fills
# its share falls back to RE2's NFA, slower but still linear.
MAX_MEM = 2 << 20


@dataclass(frozen=True, slots=True)
class Linear:
    """A pattern compiled on RE2."""

    regexp: Any  # _re2.RE2: the package ships no type information

    def search(self, text: str) -> str | None:
        """The leftmost(-first) match of the pattern in `text`, or None. `text` must be
        encodable as UTF-8 (regex_match.linear_for checks)."""
        data = text.encode("utf-8")
        start, end = self.regexp.Match(_re2.RE2.Anchor.UNANCHORED, data, 0, len(data))[0]
        if start < 0:
            return None
        return data[start:end].decode("utf-8")  # RE2 spans fall on character boundaries


def compile_linear(pattern: str, flags: int) -> Linear | None:
    """RE2's compiled form of a translated pattern, or None (no rewrite, no RE2 here, or
    RE2 refuses it: a repeat over 1,000, a program over MAX_MEM)."""
    if _re2 is None:
        return None
    rewritten = rewrite(pattern, flags)
    if rewritten is None:
        return None
    options = _re2.RE2.Options()
    options.max_mem = MAX_MEM
    options.log_errors = False  # a refusal is an answer here (we fall back), not a log line
    options.never_capture = True  # only the whole match is reported
    regexp = _re2.RE2(rewritten.encode("utf-8"), options)
    return Linear(regexp) if regexp.ok() else None
