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
Unicode 9.0: characters assigned after Unicode 9.0 are tokenized here while Lucene skips them, and
the emoji skin-tone modifiers are kept out of the "extend" class as Unicode 9.0 had them. The
committed fixture tests/retrieval/fixtures/lucene_tokens.jsonl (made with pyserini by
scripts/make_lucene_token_fixture.py) holds the analyzer to Lucene's output.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

from reasonembed.retrieval.porter import porter_stem

LUCENE_STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
MAX_TOKEN_UTF16 = 255  # StandardTokenizer's default maxTokenLength = the scanner's buffer size


def _token_pattern() -> str:
    """The tokenizer's rules as one regex (rule by rule, Lucene's macros by name)."""
    ext = r"[\p{WB=Format}\p{WB=Extend}\p{WB=ZWJ}]*"
    ext_sans_pres = r"[[\p{WB=Format}\p{WB=Extend}\p{WB=ZWJ}]--[\uFE0E\uFE0F]]*"

    # emoji sequences (Lucene follows UTS #51's emoji_sequence)
    keycap_base = rf"[0-9#*]{ext_sans_pres}"
    keycap = rf"\u20E3{ext_sans_pres}"
    rkam = r"\p{WB=Regional_Indicator}0-9#*©®™\u3030\u303D\p{Emoji_Modifier}"
    emoji_char = rf"[\p{{Extended_Pictographic}}[\p{{Emoji}}--[{rkam}]]]{ext_sans_pres}"
    modifier_base = rf"\p{{Emoji_Modifier_Base}}{ext_sans_pres}"
    modifier = rf"\p{{Emoji_Modifier}}{ext_sans_pres}"
    zwj = r"\p{WB=ZWJ}"
    char_or_seq = rf"(?:{zwj}*{emoji_char}\uFE0F?|(?:{zwj}*{modifier_base})?{modifier})"
    regional = rf"\p{{WB=Regional_Indicator}}{ext}"
    emoji = (
        rf"{char_or_seq}(?:(?:{zwj}{char_or_seq})*|[\U000E0020-\U000E007E]+\U000E007F)"
        rf"|{keycap_base}\uFE0F?{keycap}|{regional}{regional}"
    )

    # words and numbers (UAX #29 WB5-WB13b); the NUM, HANGUL and KATAKANA rules are sub-cases
    ah_letter = rf"[\p{{WB=ALetter}}\p{{WB=Hebrew_Letter}}]{ext}"
    numeric = rf"[\p{{WB=Numeric}}[\p{{Block=Halfwidth_And_Fullwidth_Forms}}&&\p{{Nd}}]]{ext}"
    katakana = rf"\p{{WB=Katakana}}{ext}"
    # Unicode 9.0 had U+FE10 and U+FE14 as MidNum and not yet U+055F as MidLetter
    mid_letter = rf"[[\p{{WB=MidLetter}}\p{{WB=MidNumLet}}\p{{WB=Single_Quote}}]--[\u055F]]{ext}"
    mid_numeric = rf"[\p{{WB=MidNum}}\p{{WB=MidNumLet}}\p{{WB=Single_Quote}}\uFE10\uFE14]{ext}"
    extend_num_let = rf"\p{{WB=ExtendNumLet}}{ext}"
    hebrew = rf"\p{{WB=Hebrew_Letter}}{ext}"
    quotes = rf"\p{{WB=Single_Quote}}{ext}|\p{{WB=Double_Quote}}{ext}{hebrew}"
    unit = (
        rf"{katakana}(?:(?:{extend_num_let})*{katakana})*"
        rf"|(?:{hebrew}(?:{quotes})"
        rf"|{numeric}(?:(?:(?:{extend_num_let})*|{mid_numeric}){numeric})*"
        rf"|{ah_letter}(?:(?:(?:{extend_num_let})*|{mid_letter}){ah_letter})*)+"
    )
    word = rf"(?:{extend_num_let})*(?:{unit})(?:(?:{extend_num_let})+(?:{unit}))*(?:{extend_num_let})*"

    south_east_asian = rf"(?:\p{{Line_Break=Complex_Context}}{ext})+"
    single = rf"\p{{Script=Han}}{ext}|\p{{Script=Hiragana}}{ext}"
    return rf"{emoji}|{word}|{south_east_asian}|{single}"


# Lucene's scanner takes the longest match among its rules. A backtracking regex takes the first
# alternative that matches, which is the longest for letters, digits and their joiners; only
# Hebrew quote rules and emoji sequences can make it stop early. POSIX (leftmost-longest) mode is
# exact but ~50x slower, so it re-matches only tokens that touch such characters.
_FAST = regex.compile(_token_pattern(), regex.V1)
_LONGEST = regex.compile("(?p)" + _token_pattern(), regex.V1)
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


def _token_end(text: str, start: int, end: int, limit: int, careful: bool) -> int:
    """Where Lucene's token starting at `start` ends, given the fast match's `end`."""
    if careful and _NEEDS_LONGEST.search(text, start, min(end + 1, limit)):
        end = _LONGEST.match(text, start, limit).end()
    return end


def standard_tokens(text: str) -> Iterator[str]:
    """Lucene StandardTokenizer's tokens of `text`, case and all."""
    careful = _NEEDS_LONGEST.search(text) is not None
    pos: int | None = 0
    while pos is not None:
        resume = None
        for match in _FAST.finditer(text, pos):
            start = match.start()
            end = _token_end(text, start, match.end(), len(text), careful)
            if end - start > MAX_TOKEN_UTF16 // 2 and _utf16_len(text[start:end]) > MAX_TOKEN_UTF16:
                # longer than the scanner's buffer: Lucene takes the longest match that fits in it,
                # or, when no rule matches inside the buffer, skips one character
                limit = _prefix_end(text, start, MAX_TOKEN_UTF16)
                cut = _FAST.match(text, start, limit)
                end = _token_end(text, start, cut.end(), limit, careful) if cut else start
            if end > start:
                yield text[start:end]
            if end != match.end():
                resume = max(end, start + 1)
                break
        pos = resume


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

    def __init__(self, stopwords: frozenset[str] = LUCENE_STOP_WORDS, stem: bool = True) -> None:
        self.stopwords = stopwords
        self.stem = stem
        self._stems: dict[str, str] = {}  # a corpus has far fewer distinct words than tokens

    def __call__(self, text: str) -> list[str]:
        out = []
        stems = self._stems
        for raw in standard_tokens(text):
            token = java_lower(strip_possessive(raw))
            if token in self.stopwords:
                continue
            if self.stem:
                stemmed = stems.get(token)
                if stemmed is None:
                    stemmed = stems[token] = porter_stem(token)
                token = stemmed
            out.append(token)
        return out
