r"""JavaScript regular expressions, translated to the `regex` module's syntax.

SPEC §4 says patterns are written the JavaScript way, and users bring them from JavaScript
code, promptfoo configs and JSON Schemas (whose `pattern` is ECMA-262). Python's dialect
reads many of them differently without a word: `^abc$` matches "abc\n" (Python's `$` also
matches before a final newline), `.` matches "\r", `\d` and `\w` match Arabic digits and
accented letters, and valid JavaScript (`[^]`, `\k<name>`, `\cJ`, `\u{1F600}`) is refused.
So a pattern is parsed here with JavaScript's grammar and written out again as an
explicit `regex` pattern that means what JavaScript means:

- `^` / `$` are `\A` / `\Z` (the very start and end), or with `m` lookarounds at each of
  JavaScript's line terminators (\n, \r, U+2028, U+2029, each on its own);
- `.` excludes those four terminators (with `s` it matches anything);
- `\d`, `\w`, `\b` are ASCII as in JavaScript, `\s` is JavaScript's list of white space
  and line terminators; every class is written out as code point ranges;
- a backreference to a group that has not matched matches the empty string, as in
  JavaScript (`(?(1)\g<1>)`), and group names become numbers;
- every literal character is written as a `\uXXXX` escape, so nothing of the `regex`
  module's own superset (fuzzy `{e<=1}`, `(?V1)` set operations…) can be reached.

Only `i` (Unicode simple case folding, as JavaScript with `u`) and `s` (the engine's `.`
is then any character) are left to the engine as flags; `m` is written into the pattern.

Where we differ from JavaScript, on purpose (docs/scorers.md says the same to users):

- The text is matched as code points, as JavaScript does with `u`; without `u`,
  JavaScript sees a character beyond U+FFFF as two UTF-16 units (so `^.$` does not match
  an emoji there, and does here). `\p{…}` and `\u{…}` always have their `u` meaning: the
  literal "p{L}" and "u{41}" that JavaScript reads without `u` are never what was meant.
- An escaped ASCII letter or digit that JavaScript has no escape for (`\A`, `\Z`, `\z`,
  `\h`, `\e`), Annex B's octal escapes (`\012`, `\8`) and references to groups that do
  not exist are refused. Without `u` JavaScript reads `\A` as the letter A, but a user
  who wrote it meant Python's or PCRE's anchor, and reading it as a letter would make a
  gate silently pass. JavaScript refuses all of these with `u`.
- Annex B's lenient forms whose meaning is plain are accepted with or without `u`: an
  escaped punctuation mark (`\-`, `\_`, `\/`), a lone `{`, `}` or `]`, a repeated
  lookahead, a class range next to a class escape (`[\w-.]` is `\w`, `-` and `.`).
- Case-insensitive matching uses Unicode simple case folding (JavaScript with `u`);
  without `u` JavaScript upper-cases instead, which differs for a handful of characters
  (ſ, the Kelvin sign K) — and `\w`, `\b` with `i` stay ASCII here.
- Captures inside a repeated group are not reset at each repetition (JavaScript resets
  them), which only shows in a backreference to such a group.
- Python-only syntax — `(?i)`, `(?P<name>…)`, `(?#…)`, `(?>…)`, possessive `a++` — is
  refused, as JavaScript refuses it.

Why not the `js-regex` package (Zac Hatfield-Dodds, 1.0.1, 2019): it compiles to the
stdlib `re`, which has no match timeout (we run patterns on `regex` for its timeout); it
rewrites the pattern with textual substitutions, which go wrong inside character classes
(`[\d]` becomes `[[0-9]]`, a `$` in a class becomes `\Z`), after an escaped backslash and
for `\w` (`[A-Za-z]`, without digits or `_`); it leaves `.`, `^` with `m`, `[^]`,
`\k<name>` and `\u{…}` to Python's meaning; and it has had no release since 2019.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import regex

from launchgate.scorers.builtin.pattern_cost import MAX_NESTING, MAX_REPEAT, PatternTooCostly

FLAG_LETTERS = "imsug"
MAX_CODE_POINT = 0x10FFFF
NOT_LINE_TERMINATOR = r"[^\n\r\u2028-\u2029]"

Ranges = tuple[tuple[int, int], ...]


def _complement(ranges: Ranges) -> Ranges:
    """The code points not in `ranges` (sorted, disjoint)."""
    out: list[tuple[int, int]] = []
    start = 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return tuple(out)


DIGIT: Ranges = ((0x30, 0x39),)
WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
# ECMA-262 WhiteSpace and LineTerminator: \t \n \v \f \r, space, NBSP, the Zs characters
# (U+1680, U+2000–U+200A, U+202F, U+205F, U+3000), U+2028, U+2029 and the BOM U+FEFF.
SPACE: Ranges = (
    (0x09, 0x0D),
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFEFF, 0xFEFF),
)
CLASS_ESCAPES: dict[str, Ranges] = {
    "d": DIGIT,
    "D": _complement(DIGIT),
    "w": WORD,
    "W": _complement(WORD),
    "s": SPACE,
    "S": _complement(SPACE),
}
CONTROL_ESCAPES = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
# What a user who escapes one of these letters most likely meant, for the refusal.
PYTHON_ESCAPES = {
    "A": "the start of the text: write ^ (without the m flag)",
    "Z": "the end of the text: write $ (without the m flag)",
    "z": "the end of the text: write $ (without the m flag)",
    "G": "where the previous match ended",
    "h": "a horizontal space: write [ \\t]",
    "e": "an escape character: write \\x1b",
    "a": "a bell character: write \\x07",
}
SYNTAX_HINTS = {
    "?P": "(?P<name>…) is Python's spelling: JavaScript writes (?<name>…)",
    "?#": "(?#…) comments are not JavaScript",
    "?>": "atomic groups (?>…) are not JavaScript",
}


class JsRegexError(ValueError):
    """A pattern is not a JavaScript regular expression we run; the message says where."""


@dataclass(frozen=True, slots=True)
class Translation:
    """A JavaScript pattern as the `regex` module must compile it."""

    pattern: str
    flags: int


def parse_flags(flags: str) -> tuple[str, ...]:
    """The flags, checked: only i, m, s, u, g, each at most once."""
    for position, flag in enumerate(flags):
        if flag not in FLAG_LETTERS:
            raise JsRegexError(f"Unsupported regex flag {flag!r}; allowed: i, m, s, u, g")
        if flag in flags[:position]:
            raise JsRegexError(f"Repeated regex flag {flag!r}")
    return tuple(flags)


def translate(pattern: str, flags: str = "") -> Translation:
    """Translate a JavaScript pattern and flags; raise JsRegexError when it is not one."""
    letters = parse_flags(flags)
    body = _Translator(
        pattern, multiline="m" in letters, dotall="s" in letters, ignore_case="i" in letters
    ).run()
    bits = (regex.IGNORECASE if "i" in letters else 0) | (regex.DOTALL if "s" in letters else 0)
    return Translation(body, bits)


@dataclass(slots=True)
class _ClassSet:
    """The members of a character class: code point ranges written as characters (which
    `i` folds), the ranges of class escapes such as `\\W` (which it must not fold: under
    `i` the Kelvin sign in `\\W` would let it match "k") and `\\p{…}` properties."""

    ranges: list[tuple[int, int]] = field(default_factory=list)
    exact: list[tuple[int, int]] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)

    def add(self, other: _ClassSet) -> None:
        self.ranges.extend(other.ranges)
        self.exact.extend(other.exact)
        self.properties.extend(other.properties)


@dataclass(slots=True)
class _Groups:
    """The capturing groups of the whole pattern, numbered in order of their `(`."""

    count: int = 0
    names: dict[str, int] = field(default_factory=dict)


class _Translator:
    """A recursive-descent parser of ECMA-262 patterns that writes `regex` syntax."""

    def __init__(self, pattern: str, *, multiline: bool, dotall: bool, ignore_case: bool) -> None:
        self.source = pattern
        self.pos = 0
        self.ignore_case = ignore_case
        self.multiline = multiline
        self.dotall = dotall
        self.groups = _prescan_groups(pattern)
        self.next_group = 0
        self.open_groups: list[int] = []
        self.depth = 0

    def error(self, message: str, position: int | None = None) -> JsRegexError:
        where = self.pos if position is None else position
        return JsRegexError(f"{message} at position {where}")

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.source[index] if index < len(self.source) else ""

    def run(self) -> str:
        out = self.disjunction()
        if self.pos < len(self.source):
            raise self.error("unbalanced parenthesis: ')' without '('")
        return out

    def disjunction(self) -> str:
        parts = [self.alternative()]
        while self.peek() == "|":
            self.pos += 1
            parts.append(self.alternative())
        return "|".join(parts)

    def alternative(self) -> str:
        out: list[str] = []
        while self.pos < len(self.source) and self.peek() not in "|)":
            out.append(self.term())
        return "".join(out)

    def term(self) -> str:
        start = self.pos
        atom, kind = self.atom()
        quantifier = self.quantifier()
        if quantifier is None:
            return atom
        if kind == "assertion":
            raise self.error("nothing to repeat", start)
        if kind == "lookahead":  # Annex B: a repeated lookahead, grouped for `regex`
            return f"(?:{atom}){quantifier}"
        return atom + quantifier

    # --- atoms ---------------------------------------------------------------------------

    def atom(self) -> tuple[str, str]:
        """One atom and its kind: "atom", "assertion" (not repeatable) or "lookahead"."""
        char = self.peek()
        if char == "^":
            self.pos += 1
            return (f"(?<!{NOT_LINE_TERMINATOR})" if self.multiline else r"\A"), "assertion"
        if char == "$":
            self.pos += 1
            return (f"(?!{NOT_LINE_TERMINATOR})" if self.multiline else r"\Z"), "assertion"
        if char == "\\":
            return self.atom_escape()
        if char == "(":
            return self.group()
        if char == "[":
            return self.character_class(), "atom"
        if char == ".":
            self.pos += 1
            # With s the DOTALL bit is set, so the engine's "." is any character.
            return ("." if self.dotall else NOT_LINE_TERMINATOR), "atom"
        if char in "*+?" or (char == "{" and self.braced_quantifier() is not None):
            raise self.error("nothing to repeat")
        self.pos += 1
        return _literal(ord(char)), "atom"

    def quantifier(self) -> str | None:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.pos += 1
            text = char
        elif char == "{" and (braced := self.braced_quantifier()) is not None:
            text, self.pos = braced
        else:
            return None
        if self.peek() == "?":
            self.pos += 1
            text += "?"
        if self.peek() == "+":
            raise self.error("possessive quantifiers (a++) are not JavaScript")
        following = self.peek()
        if following in ("*", "+", "?") or (following == "{" and self.braced_quantifier()):
            raise self.error("nothing to repeat")
        return text

    def braced_quantifier(self) -> tuple[str, int] | None:
        """`{n}`, `{n,}` or `{n,m}` at the position (text, end), or None: a `{` that starts
        no quantifier is a literal brace (Annex B)."""
        found = _BRACED.match(self.source, self.pos)
        if found is None:
            return None
        low, comma, high = (_digits(found.group(1)), found.group(2) or "", found.group(3))
        high = _digits(high) if high else ""
        for count in (low, high):
            _check_count(count)
        if high and int(high) < int(low):
            raise self.error("numbers out of order in {} quantifier")
        return "{" + low + comma + high + "}", found.end()

    def group(self) -> tuple[str, str]:
        start = self.pos
        self.pos += 1
        self.depth += 1
        if self.depth > MAX_NESTING:
            # Refused here, with pattern_cost's words, before this parser's own recursion
            # could run out of stack.
            raise PatternTooCostly(
                f"Pattern is nested too deeply; the limit is {MAX_NESTING} levels of groups, "
                "repeats and lookarounds"
            )
        head, kind, capture = self.group_head(start)
        if capture:
            self.next_group += 1
            self.open_groups.append(self.next_group)
        body = self.disjunction()
        if self.peek() != ")":
            raise self.error("missing ), unterminated subpattern", start)
        self.pos += 1
        if capture:
            self.open_groups.pop()
        self.depth -= 1
        return f"{head}{body})", kind

    def group_head(self, start: int) -> tuple[str, str, bool]:
        """What opens the group in `regex` syntax, its kind, and whether it captures."""
        if self.peek() != "?":
            return "(", "atom", True
        for opener, kind in (("?:", "atom"), ("?=", "lookahead"), ("?!", "lookahead")):
            if self.source.startswith(opener, self.pos):
                self.pos += 2
                return "(" + opener, kind, False
        for opener in ("?<=", "?<!"):
            if self.source.startswith(opener, self.pos):
                self.pos += 3
                return "(" + opener, "assertion", False
        if self.source.startswith("?<", self.pos):
            self.pos += 2
            self.group_name(start)
            return "(", "atom", True
        hint = SYNTAX_HINTS.get(self.source[self.pos : self.pos + 2])
        if hint is None and _INLINE_FLAGS.match(self.source, self.pos):
            hint = 'inline flags such as (?i) are not JavaScript: set them in flags ("i")'
        raise self.error(hint or "invalid group: (? must be followed by :, =, !, <=, <! or <name>")

    def group_name(self, start: int) -> str:
        end = self.source.find(">", self.pos)
        name = self.source[self.pos : end] if end >= 0 else ""
        if not _is_identifier(name):
            raise self.error("invalid group name: (?<name> needs a name such as (?<year>…)", start)
        self.pos = end + 1
        return name

    # --- escapes -------------------------------------------------------------------------

    def atom_escape(self) -> tuple[str, str]:
        start = self.pos
        self.pos += 1
        char = self.peek()
        if char == "":
            raise self.error("\\ at end of pattern", start)
        if char in "bB":
            self.pos += 1
            # ASCII word boundary, as JavaScript's \b (word characters are [A-Za-z0-9_]).
            return f"(?a:\\{char})", "assertion"
        if char in "123456789":
            return self.backreference(start), "atom"
        if char == "k":
            return self.named_backreference(start), "atom"
        if char in CLASS_ESCAPES or char in "pP":
            return self.class_text(self.class_escape(start), negated=False), "atom"
        return _literal(self.character_escape(start)), "atom"

    def backreference(self, start: int) -> str:
        digits = _DIGITS.match(self.source, self.pos)
        assert digits is not None
        number = int(digits.group())
        if number > self.groups.count:
            raise self.error(
                f"\\{digits.group()} refers to group {number}, but the pattern has "
                f"{self.groups.count} capturing group(s) (octal escapes such as \\012 are "
                "not supported: write \\x0a)",
                start,
            )
        self.pos = digits.end()
        return self.reference(number)

    def named_backreference(self, start: int) -> str:
        self.pos += 1
        if self.peek() != "<":
            raise self.error("\\k must be followed by <name> of a named group", start)
        self.pos += 1
        name = self.group_name(start)
        if name not in self.groups.names:
            raise self.error(f"\\k<{name}> names no group of the pattern", start)
        return self.reference(self.groups.names[name])

    def reference(self, number: int) -> str:
        # In JavaScript a reference to a group that has not matched (yet), or is still
        # open, matches the empty string; in `regex` it would fail the match.
        if number in self.open_groups:
            return ""
        return f"(?({number})\\g<{number}>)"

    def class_escape(self, start: int) -> _ClassSet:
        """`\\d \\D \\w \\W \\s \\S \\p{…} \\P{…}` (the backslash already read)."""
        char = self.peek()
        self.pos += 1
        if char in CLASS_ESCAPES:
            return _ClassSet(exact=list(CLASS_ESCAPES[char]))
        found = _PROPERTY.match(self.source, self.pos)
        if found is None or not _known_property(found.group(1)):
            raise self.error(
                f"\\{char} must be followed by a Unicode property such as {{L}}, {{Lu}} or "
                "{Script=Greek}",
                start,
            )
        self.pos = found.end()
        return _ClassSet(properties=[f"\\{char}{{{found.group(1)}}}"])

    def character_escape(self, start: int) -> int:
        """One character written with a backslash (already read): its code point."""
        char = self.peek()
        self.pos += 1
        if char in CONTROL_ESCAPES:
            return CONTROL_ESCAPES[char]
        if char == "c":
            letter = self.peek()
            if not (letter.isascii() and letter.isalpha()):
                raise self.error("\\c must be followed by a letter (\\cJ is a line feed)", start)
            self.pos += 1
            return ord(letter) % 32
        if char == "x":
            return self.hex_digits(2, start, "\\x must be followed by two hex digits")
        if char == "u":
            return self.unicode_escape(start)
        if char == "0" and not self.peek().isdigit():
            return 0
        if char.isascii() and char.isalnum():
            meaning = PYTHON_ESCAPES.get(char)
            hint = f" (elsewhere it means {meaning})" if meaning else ""
            raise self.error(f"\\{char} is not a JavaScript escape{hint}", start)
        return ord(char)  # an escaped punctuation mark (or any other character) is itself

    def hex_digits(self, count: int, start: int, message: str) -> int:
        text = self.source[self.pos : self.pos + count]
        if len(text) != count or not all(c in "0123456789abcdefABCDEF" for c in text):
            raise self.error(message, start)
        self.pos += count
        return int(text, 16)

    def unicode_escape(self, start: int) -> int:
        message = "\\u must be followed by four hex digits or {hex} (\\u{1F600})"
        if self.peek() == "{":
            end = self.source.find("}", self.pos)
            text = self.source[self.pos + 1 : end] if end > 0 else ""
            if not text or not all(c in "0123456789abcdefABCDEF" for c in text):
                raise self.error(message, start)
            if int(text, 16) > MAX_CODE_POINT:
                raise self.error("\\u{…} is beyond U+10FFFF", start)
            self.pos = end + 1
            return int(text, 16)
        unit = self.hex_digits(4, start, message)
        if 0xD800 <= unit <= 0xDBFF and (trail := _TRAIL.match(self.source, self.pos)):
            # A surrogate pair written as two escapes is one character of the text here.
            self.pos = trail.end()
            return 0x10000 + ((unit - 0xD800) << 10) + (int(trail.group(1), 16) - 0xDC00)
        return unit

    # --- character classes ---------------------------------------------------------------

    def character_class(self) -> str:
        start = self.pos
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        members = _ClassSet()
        while self.peek() != "]":
            if self.peek() == "":
                raise self.error("unterminated character set", start)
            members.add(self.class_range())
        self.pos += 1
        return self.class_text(members, negated=negated)

    def class_text(self, members: _ClassSet, *, negated: bool) -> str:
        """The class in `regex` syntax; under `i` the class escapes' part is not folded."""
        if not (self.ignore_case and members.exact):
            merged = _ClassSet(members.ranges + members.exact, [], members.properties)
            return _class_text(merged, negated=negated)
        exact = "(?-i:" + _class_text(_ClassSet(exact=members.exact), negated=False) + ")"
        if members.ranges or members.properties:
            folded = _ClassSet(members.ranges, [], members.properties)
            either = f"{_class_text(folded, negated=False)}|{exact}"
            return f"(?:(?!{either})(?s:.))" if negated else f"(?:{either})"
        return f"(?:(?!{exact})(?s:.))" if negated else exact  # one atom: it may be repeated

    def class_range(self) -> _ClassSet:
        """One class atom, or a range `a-z` of two (Annex B: next to a class escape the
        `-` is itself)."""
        first = self.class_atom()
        if self.peek() != "-" or self.peek(1) in ("]", ""):
            return first
        dash = self.pos
        self.pos += 1
        second = self.class_atom()
        low, high = _single(first), _single(second)
        if low is None or high is None:
            first.add(_ClassSet(ranges=[(0x2D, 0x2D)]))
            first.add(second)
            return first
        if low > high:
            raise self.error("range out of order in character class", dash)
        return _ClassSet(ranges=[(low, high)])

    def class_atom(self) -> _ClassSet:
        char = self.peek()
        if char != "\\":
            self.pos += 1
            return _ClassSet(ranges=[(ord(char), ord(char))])
        start = self.pos
        self.pos += 1
        escaped = self.peek()
        if escaped == "b":
            self.pos += 1
            return _ClassSet(ranges=[(0x08, 0x08)])  # backspace, inside a class
        if escaped in CLASS_ESCAPES or escaped in "pP":
            return self.class_escape(start)
        if escaped == "":
            raise self.error("\\ at end of pattern", start)
        if escaped in "123456789" or escaped in "Bk":
            raise self.error(f"\\{escaped} is not allowed in a character class", start)
        code = self.character_escape(start)
        return _ClassSet(ranges=[(code, code)])


_COUNT_DIGITS = 18  # far above MAX_REPEAT, far below what int() refuses
_INLINE_FLAGS = regex.compile(r"\?[a-zA-Z-]+[:)]")
_BRACED = regex.compile(r"\{([0-9]+)(?:(,)([0-9]*))?\}")
_DIGITS = regex.compile(r"[0-9]+")
_PROPERTY = regex.compile(r"\{([A-Za-z0-9_]+(?:=[A-Za-z0-9_]+)?)\}")
_TRAIL = regex.compile(r"\\u(d[c-f][0-9a-f]{2})", regex.IGNORECASE)


def _prescan_groups(pattern: str) -> _Groups:
    """Number the capturing groups before parsing: a backreference may name a later one."""
    groups = _Groups()
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(" and not pattern.startswith("?", index + 1):
            groups.count += 1
        elif char == "(" and pattern.startswith("?<", index + 1):
            end = pattern.find(">", index)
            name = pattern[index + 3 : end] if end > 0 else ""
            if pattern[index + 3 : index + 4] not in ("=", "!"):
                groups.count += 1
                if name in groups.names:
                    raise JsRegexError(f"duplicate group name {name!r} at position {index}")
                groups.names[name] = groups.count
        index += 1
    return groups


def _digits(number: str) -> str:
    return number.lstrip("0") or "0"


def _check_count(count: str) -> None:
    """pattern_cost's limit on one repeat count, checked here too: the `regex` parser that
    pattern_cost uses refuses counts past 2³² in vaguer words ("repeat count too big"),
    and Python's int() refuses thousands of digits in its own."""
    if len(count) > _COUNT_DIGITS:
        raise PatternTooCostly(
            f"A repeat count of {len(count):,} digits is too large; the limit is "
            f"{MAX_REPEAT:,} per repeat (use + or * for an open-ended repeat)"
        )
    if count and int(count) > MAX_REPEAT:
        raise PatternTooCostly(
            f"Repeat count {int(count):,} is too large; the limit is {MAX_REPEAT:,} per "
            "repeat (use + or * for an open-ended repeat)"
        )


def _is_identifier(name: str) -> bool:
    """A JavaScript identifier ($ allowed), as far as Python's identifier rules agree."""
    return bool(name) and name.replace("$", "_").isidentifier()


@lru_cache(maxsize=256)
def _known_property(name: str) -> bool:
    """Whether the `regex` module knows the Unicode property (JavaScript's names are a
    subset of its names)."""
    try:
        regex.compile(f"\\p{{{name}}}", cache_pattern=False)
    except regex.error:
        return False
    return True


def _single(members: _ClassSet) -> int | None:
    """The code point of a one-character class atom, or None for a class escape."""
    if members.properties or members.exact or len(members.ranges) != 1:
        return None
    low, high = members.ranges[0]
    return low if low == high else None


def _class_text(members: _ClassSet, *, negated: bool) -> str:
    if not members.ranges and not members.exact and not members.properties:
        # [] matches nothing, [^] any character (line terminators included).
        return r"[\s\S]" if negated else "(?!)"
    items = [
        _literal(low) if low == high else f"{_literal(low)}-{_literal(high)}"
        for low, high in _merged(members.ranges + members.exact)
    ]
    return "[" + ("^" if negated else "") + "".join(items + members.properties) + "]"


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping and adjacent ranges joined: every member is an element of the pattern's
    cost (`[\\s\\S]` is one range, not twenty-one)."""
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _literal(code: int) -> str:
    char = chr(code)
    if char.isascii() and (char.isalnum() or char == "_"):
        return char
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
