"""pyserini's default English analyzer, token for token: the text side of BRIGHT's official BM25.

BRIGHT scores BM25 over ``pyserini.analysis.Analyzer(get_lucene_analyzer())`` tokens, which is
Anserini's ``DefaultEnglishAnalyzer`` (pyserini 0.22.1, Lucene 9.5.0), a chain of five steps:

1. ``StandardTokenizer``: Unicode word segmentation (UAX #29, Unicode 9.0 character data) as
   Lucene's JFlex grammar ``StandardTokenizerImpl.jflex`` writes it. A token is a run of letters and
   digits joined by the rule-allowed inner marks (``can't``, ``e.g``, ``3.14``, ``1,000``,
   ``mailto:a``, ``x_y``), a run of South-East-Asian letters, one Han or Hiragana character, or an
   emoji sequence; everything else (spaces, punctuation, symbols like ``∑`` or ``²``) is skipped.
   Among rules the longest match wins. Tokens longer than 255 UTF-16 units are cut into pieces,
   because the scanner's buffer holds 255. E-mail and URL rules are *not* part of this tokenizer.
2. ``EnglishPossessiveFilter``: drops a final ``'s``/``'S`` (apostrophe U+0027, U+2019 or U+FF07).
3. ``LowerCaseFilter``: Java's per-code-point ``Character.toLowerCase`` (so ``Σ`` is always ``σ``,
   never a final ``ς``, and ``İ`` is ``i``).
4. ``StopFilter`` with Lucene's 33 English stop words (``EnglishAnalyzer.ENGLISH_STOP_WORDS_SET``).
5. ``PorterStemFilter`` (see `reasonembed.retrieval.porter`).

The character classes come from the `regex` module's Unicode tables, which are newer than Lucene's
Unicode 9.0 / Emoji 11.0 ones; the ~17,000 code points whose role differs (mostly characters
assigned since, plus old pictographs such as U+2605 that Emoji 11.0 counted as emoji) are listed in
`lucene_unicode9.py`, measured against Lucene, and mapped back to their Unicode 9.0 role. Most
texts take fast paths: ASCII text, and text whose non-ASCII characters all have an ASCII
counterpart in the grammar, are tokenized by a plain ASCII pattern. The committed fixture
tests/retrieval/fixtures/lucene_tokens.jsonl (made with pyserini by
scripts/make_lucene_token_fixture.py) holds the analyzer to Lucene's output.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import regex

from reasonembed.retrieval.lucene_unicode9 import OVERRIDES
from reasonembed.retrieval.porter import porter_stem

LUCENE_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
MAX_TOKEN_UTF16 = 255  # StandardTokenizer's default maxTokenLength = the scanner's buffer size


# Lucene's character tables are Unicode 9.0 (and Emoji 11.0); the `regex` module's are newer. Each
# character whose role differs (lucene_unicode9.py, measured against Lucene) is swapped, before
# matching, for a character that plays its Unicode 9.0 role in the newer tables. The swap keeps
# every index, so tokens are still cut from the original text.
_ROLE_EXAMPLES = {
    "other": " ",
    "ext": "\u0301",
    "letter": "a",
    "numeric": "0",
    "midletter": ":",
    "midnum": ",",
    "midnumlet": ".",
    "enl": "_",
    "katakana": "\u30a2",
    "sea": "\u0e01",
    "single": "\u2600",  # a pictograph: a one-character emoji token
}


def _unicode9_swaps() -> dict[int, str]:
    swaps = {}
    for role, ranges in OVERRIDES.items():
        for item in ranges.split():
            first, _, last = item.partition("-")
            for code_point in range(int(first, 16), int(last or first, 16) + 1):
                swaps[code_point] = _ROLE_EXAMPLES[role]
    return swaps


_UNICODE9 = _unicode9_swaps()
_EXT_CLASS = r"[\p{WB=Format}\p{WB=Extend}\p{WB=ZWJ}]"
_EXT = f"{_EXT_CLASS}*"  # UAX #29 WB4: X (Extend | Format | ZWJ)* -> X


def _emoji_rule() -> str:
    """Lucene's EMOJI rule (UTS #51 emoji_sequence)."""
    ext = _EXT
    ext_sans_pres = rf"[{_EXT_CLASS}--[\uFE0E\uFE0F]]*"

    keycap_base = rf"[0-9#*]{ext_sans_pres}"
    keycap = rf"\u20E3{ext_sans_pres}"
    rkam = r"\p{WB=Regional_Indicator}0-9#*©®™\u3030\u303D\p{Emoji_Modifier}"
    pictographic = rf"[\p{{Extended_Pictographic}}[\p{{Emoji}}--[{rkam}]]]"
    emoji_char = rf"{pictographic}{ext_sans_pres}"
    modifier_base = rf"\p{{Emoji_Modifier_Base}}{ext_sans_pres}"
    modifier = rf"\p{{Emoji_Modifier}}{ext_sans_pres}"
    zwj = r"\p{WB=ZWJ}"
    char_or_seq = rf"(?:{zwj}*{emoji_char}\uFE0F?|(?:{zwj}*{modifier_base})?{modifier})"
    regional = rf"\p{{WB=Regional_Indicator}}{ext}"
    emoji = (
        rf"{char_or_seq}(?:(?:{zwj}{char_or_seq})*|[\U000E0020-\U000E007E]+\U000E007F)"
        rf"|{keycap_base}\uFE0F?{keycap}|{regional}{regional}"
    )
    return emoji


def _word_rule(
    letter: str, numeric: str, mid_letter: str, mid_numeric: str, extend_num_let: str, ext: str
) -> str:
    """Lucene's ALPHANUM rule (UAX #29 WB5-WB13b); its NUM rule is a sub-case, so is HANGUL."""
    ah_letter, numeric = f"{letter}{ext}", f"{numeric}{ext}"
    mid_letter, mid_numeric, enl = f"{mid_letter}{ext}", f"{mid_numeric}{ext}", f"(?:{extend_num_let}{ext})"
    # ExtendNumLet between two units is the outer loop's job, so a unit is a run of letters (or
    # digits) with single mid-letter (mid-number) joiners: tight inner loops, same language
    units = [
        rf"(?:{numeric})+(?:{mid_numeric}(?:{numeric})+)*",
        rf"(?:{ah_letter})+(?:{mid_letter}(?:{ah_letter})+)*",
    ]
    katakana = ""
    if ext:  # Unicode text: Hebrew quote joins and the KATAKANA rule
        hebrew = rf"\p{{WB=Hebrew_Letter}}{ext}"
        units.insert(0, rf"{hebrew}(?:\p{{WB=Single_Quote}}{ext}|\p{{WB=Double_Quote}}{ext}{hebrew})")
        kata = r"\p{WB=Katakana}"
        katakana = rf"{kata}{ext}(?:{enl}*{kata}{ext})*|"
    unit = f"(?:{katakana}(?:{'|'.join(units)})+)"
    return rf"{enl}*{unit}(?:{enl}+{unit})*{enl}*"


def _unicode_pattern() -> str:
    """All of StandardTokenizer's rules, Lucene's macros by name, for any text."""
    word = _word_rule(
        letter=r"[\p{WB=ALetter}\p{WB=Hebrew_Letter}]",
        numeric=r"[\p{WB=Numeric}[\p{Block=Halfwidth_And_Fullwidth_Forms}&&\p{Nd}]]",
        mid_letter=r"[\p{WB=MidLetter}\p{WB=MidNumLet}\p{WB=Single_Quote}]",
        mid_numeric=r"[\p{WB=MidNum}\p{WB=MidNumLet}\p{WB=Single_Quote}]",
        extend_num_let=r"\p{WB=ExtendNumLet}",
        ext=_EXT,
    )
    sea, han, hiragana = (
        r"\p{Line_Break=Complex_Context}",
        r"\p{Script=Han}",
        r"\p{Script=Hiragana}",
    )
    south_east_asian = rf"(?:{sea}{_EXT})+"
    single = rf"{han}{_EXT}|{hiragana}{_EXT}"
    return rf"{_emoji_rule()}|{word}|{south_east_asian}|{single}"


# The same rules for ASCII text, where only ALPHANUM can match: letters, digits, "_" joins anything,
# ":" "." "'" join letters, "," ";" "." "'" join digits.
_ASCII = re.compile(_word_rule("[A-Za-z]", "[0-9]", "[:.']", "[,;.']", "_", ""))

# Most non-ASCII characters in English text (accented letters, curly quotes, dashes, symbols) play
# one simple part in the grammar, which an ASCII character plays too; swapping each for its ASCII
# stand-in keeps every token's span, so the fast ASCII rules can find the tokens. Characters in the
# complex rules (extenders, emoji, Hebrew, Katakana, CJK, South-East Asian) have no stand-in ("\0").
_STAND_IN_ROLES = [
    (
        r"[\p{WB=Format}\p{WB=Extend}\p{WB=ZWJ}\p{WB=Hebrew_Letter}\p{WB=Katakana}\p{WB=Regional_Indicator}"
        r"\p{Emoji}\p{Extended_Pictographic}\p{Line_Break=Complex_Context}\p{Script=Han}\p{Script=Hiragana}]",
        "\0",
    ),
    (r"\p{WB=ALetter}", "a"),
    (r"[\p{WB=Numeric}[\p{Block=Halfwidth_And_Fullwidth_Forms}&&\p{Nd}]]", "0"),
    (r"[\p{WB=MidNumLet}\p{WB=Single_Quote}]", "."),
    (r"\p{WB=MidLetter}", ":"),
    (r"\p{WB=MidNum}", ","),
    (r"\p{WB=ExtendNumLet}", "_"),
]
_STAND_IN_PATTERNS = [(regex.compile(p, regex.V1), ascii_char) for p, ascii_char in _STAND_IN_ROLES]


class _StandIns(dict):
    """code point -> its ASCII stand-in (" " for a character no rule uses), found on first use."""

    def __missing__(self, code_point: int) -> str:
        ch = chr(code_point)
        if ch.isascii():
            stand_in = " " if ch == "\0" else ch
        else:
            ch = _UNICODE9.get(code_point, ch)
            stand_in = (
                ch if ch.isascii() else next((a for p, a in _STAND_IN_PATTERNS if p.fullmatch(ch)), " ")
            )
        self[code_point] = stand_in
        return stand_in


_STAND_INS = _StandIns()

# Lucene's scanner takes the longest match among its rules. A backtracking regex takes the first
# alternative that matches, which is the longest for letters, digits and their joiners; only
# Hebrew quote rules and emoji sequences can make it stop early. POSIX (leftmost-longest) mode is
# exact but ~50x slower, so it re-matches only tokens that touch such characters.
_FAST = regex.compile(_unicode_pattern(), regex.V1)
_LONGEST = regex.compile("(?p)" + _unicode_pattern(), regex.V1)
_NEEDS_LONGEST = regex.compile(
    r"[[\p{Emoji}\p{Extended_Pictographic}\p{WB=Hebrew_Letter}\u200D\uFE0F\u20E3]--[0-9#*]]", regex.V1
)


def _utf16_len(s: str) -> int:
    return len(s) if s.isascii() else len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def _prefix_end(text: str, start: int, units: int) -> int:
    """The index in `text` after at most `units` UTF-16 code units from `start`."""
    end = start
    while end < len(text):
        units -= 2 if ord(text[end]) > 0xFFFF else 1
        if units < 0:
            break
        end += 1
    return end


def _scan(
    text: str, source: str, pattern: regex.Pattern[str] | re.Pattern[str], careful: bool
) -> Iterator[str]:
    """Tokens of `text` found in `source` (the same length) one match at a time: for texts with long
    tokens or with emoji/Hebrew characters."""

    def token_end(start: int, end: int, limit: int) -> int:
        if careful and _NEEDS_LONGEST.search(source, start, min(end + 1, limit)):
            end = _LONGEST.match(source, start, limit).end()
        return end

    pos: int | None = 0
    while pos is not None:
        resume = None
        for match in pattern.finditer(source, pos):
            start = match.start()
            end = token_end(start, match.end(), len(source))
            if end - start > MAX_TOKEN_UTF16 // 2 and _utf16_len(text[start:end]) > MAX_TOKEN_UTF16:
                # longer than the scanner's buffer: Lucene takes the longest match that fits in it,
                # or, when no rule matches inside the buffer, skips one character
                limit = _prefix_end(text, start, MAX_TOKEN_UTF16)
                cut = pattern.match(source, start, limit)
                end = token_end(start, cut.end(), limit) if cut else start
            if end > start:
                yield text[start:end]
            if end != match.end():
                resume = max(end, start + 1)
                break
        pos = resume


def standard_tokens(text: str) -> list[str]:
    """Lucene StandardTokenizer's tokens of `text`, case and all."""
    short = MAX_TOKEN_UTF16 // 2  # a token of at most this many code points fits Lucene's buffer
    if text.isascii():
        tokens = _ASCII.findall(text)
        if len(text) <= short or all(len(t) <= short for t in tokens):
            return tokens
        return list(_scan(text, text, _ASCII, careful=False))
    stand_in = text.translate(_STAND_INS)
    if "\0" not in stand_in:
        spans = [m.span() for m in _ASCII.finditer(stand_in)]
        if all(end - start <= short for start, end in spans):
            return [text[start:end] for start, end in spans]
    source = text.translate(_UNICODE9)
    return list(_scan(text, source, _FAST, _NEEDS_LONGEST.search(source) is not None))


def java_lower(token: str) -> str:
    """`Character.toLowerCase` per code point: Python's `lower` less its two context/special rules."""
    if token.isascii():
        return token.lower()
    return token.replace("\u0130", "i").replace("\u03a3", "\u03c3").lower()


def strip_possessive(token: str) -> str:
    if len(token) >= 2 and token[-1] in "sS" and token[-2] in "'\u2019\uff07":
        return token[:-2]
    return token


class LuceneAnalyzer:
    """Callable text -> tokens, equal to pyserini's ``Analyzer(get_lucene_analyzer()).analyze``."""

    CACHE_SIZE = 1_000_000  # distinct raw tokens remembered; a corpus has far fewer than tokens

    def __init__(self, stopwords: frozenset[str] = LUCENE_STOP_WORDS, stem: bool = True) -> None:
        self.stopwords = stopwords
        self.stem = stem
        self._cache: dict[str, str] = {}  # raw token -> analyzed token, "" for a stop word

    def analyze_token(self, raw: str) -> str:
        """One tokenizer token through possessive, lower case, stop words and Porter ("" if stopped)."""
        token = java_lower(strip_possessive(raw))
        if token in self.stopwords:
            return ""
        return porter_stem(token) if self.stem else token

    def __call__(self, text: str) -> list[str]:
        cache = self._cache
        if len(cache) > self.CACHE_SIZE:
            cache.clear()
        out = []
        for raw in standard_tokens(text):
            token = cache.get(raw)
            if token is None:
                token = cache[raw] = self.analyze_token(raw)
            if token:
                out.append(token)
        return out
