"""The Porter stemmer exactly as Lucene's `PorterStemFilter` runs it (BRIGHT's BM25 analyzer).

Lucene's `PorterStemmer` follows Martin Porter's own C release of the algorithm, which departs
from the 1980 paper (M. F. Porter, "An algorithm for suffix stripping", Program 14(3)) in three
places, all kept here:

* words of one or two characters are returned unchanged;
* step 2 maps ``-bli`` to ``-ble`` (the paper: ``-abli`` to ``-able``);
* step 2 maps ``-logi`` to ``-log`` (not in the paper).

Snowball's "porter" (PyStemmer) and NLTK's ``ORIGINAL_ALGORITHM`` implement the paper and so
differ on words such as "possibly", "technology" and "os"; NLTK's ``MARTIN_EXTENSIONS`` mode is the
same algorithm as this one. Only ``a e i o u`` are vowels (``y`` after a consonant too); every
other character, digits and non-ASCII letters included, counts as a consonant, and a character
beyond the Basic Multilingual Plane counts as two (Lucene works on UTF-16 code units).
The step numbering below is the paper's (1a, 1b, 1c, 2, 3, 4, 5).
"""

from __future__ import annotations

# step 2 and step 3 rules, keyed on the suffix's penultimate (step 2) or last (step 3) letter; the
# first suffix that matches ends the step, whether or not its measure condition holds
_STEP2 = {
    "a": (("ational", "ate"), ("tional", "tion")),
    "c": (("enci", "ence"), ("anci", "ance")),
    "e": (("izer", "ize"),),
    "l": (("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous")),
    "o": (("ization", "ize"), ("ation", "ate"), ("ator", "ate")),
    "s": (("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous")),
    "t": (("aliti", "al"), ("iviti", "ive"), ("biliti", "ble")),
    "g": (("logi", "log"),),
}
_STEP3 = {
    "e": (("icate", "ic"), ("ative", ""), ("alize", "al")),
    "i": (("iciti", "ic"),),
    "l": (("ical", "ic"), ("ful", "")),
    "s": (("ness", ""),),
}
# step 4 suffixes removed when the measure before them exceeds 1 ("ion" only after s or t)
_STEP4 = {
    "a": ("al",),
    "c": ("ance", "ence"),
    "e": ("er",),
    "i": ("ic",),
    "l": ("able", "ible"),
    "n": ("ant", "ement", "ment", "ent"),
    "o": ("ion", "ou"),
    "s": ("ism",),
    "t": ("ate", "iti"),
    "u": ("ous",),
    "v": ("ive",),
    "z": ("ize",),
}
_VOWELS = frozenset("aeiou")


class _Word:
    """One word being stemmed: the letters in `b`, the stem end `j` set by the last `ends`."""

    def __init__(self, word: str) -> None:
        self.b = word
        self.j = 0
        self._cv_of = ""
        self._cv = ""

    @property
    def cv(self) -> str:
        """ "c" or "v" per letter of `b`: y is a vowel after a consonant, a consonant otherwise."""
        if self._cv_of is not self.b:
            kinds: list[str] = []
            for ch in self.b:
                if ch in _VOWELS:
                    kinds.append("v")
                elif ch == "y":
                    kinds.append("v" if kinds and kinds[-1] == "c" else "c")
                else:
                    kinds.append("c")
            self._cv_of, self._cv = self.b, "".join(kinds)
        return self._cv

    def measure(self) -> int:
        """m in [C](VC)^m[V] over b[0..j]: the number of vowel-to-consonant steps."""
        return self.cv[: self.j + 1].count("vc")

    def vowel_in_stem(self) -> bool:
        return "v" in self.cv[: self.j + 1]

    def double_cons(self, i: int) -> bool:
        return i >= 1 and self.b[i] == self.b[i - 1] and self.cv[i] == "c"

    def cvc(self, i: int) -> bool:
        """consonant-vowel-consonant ending at i, the last not w, x or y."""
        return i >= 2 and self.cv[i - 2 : i + 1] == "cvc" and self.b[i] not in "wxy"

    def ends(self, suffix: str) -> bool:
        if not self.b.endswith(suffix):
            return False
        self.j = len(self.b) - len(suffix) - 1
        return True

    def set_to(self, suffix: str) -> None:
        self.b = self.b[: self.j + 1] + suffix

    def replace_if_measured(self, suffix: str) -> None:
        if self.measure() > 0:
            self.set_to(suffix)

    def step1ab(self) -> None:
        if self.b.endswith("s"):
            if self.ends("sses"):
                self.b = self.b[:-2]
            elif self.ends("ies"):
                self.set_to("i")
            elif self.b[-2] != "s":
                self.b = self.b[:-1]
        if self.ends("eed"):
            if self.measure() > 0:
                self.b = self.b[:-1]
        elif (self.ends("ed") or self.ends("ing")) and self.vowel_in_stem():
            self.b = self.b[: self.j + 1]
            if self.ends("at"):
                self.set_to("ate")
            elif self.ends("bl"):
                self.set_to("ble")
            elif self.ends("iz"):
                self.set_to("ize")
            elif self.double_cons(len(self.b) - 1):
                if self.b[-1] not in "lsz":
                    self.b = self.b[:-1]
            elif self.measure() == 1 and self.cvc(len(self.b) - 1):
                self.set_to("e")

    def step1c(self) -> None:
        if self.ends("y") and self.vowel_in_stem():
            self.b = self.b[:-1] + "i"

    def rule_table(self, table: dict[str, tuple[tuple[str, str], ...]], key_from_end: int) -> None:
        if len(self.b) < key_from_end:
            return
        for suffix, replacement in table.get(self.b[-key_from_end], ()):
            if self.ends(suffix):
                self.replace_if_measured(replacement)
                return

    def step4(self) -> None:
        if len(self.b) < 2:
            return
        for suffix in _STEP4.get(self.b[-2], ()):
            if self.ends(suffix):
                if suffix == "ion" and not (self.j >= 0 and self.b[self.j] in "st"):
                    continue
                break
        else:
            return
        if self.measure() > 1:
            self.b = self.b[: self.j + 1]

    def step5(self) -> None:
        self.j = len(self.b) - 1
        m = self.measure()  # both rules measure the word as it enters the step, final e included
        if self.b[-1] == "e" and (m > 1 or (m == 1 and not self.cvc(len(self.b) - 2))):
            self.b = self.b[:-1]
        if self.b[-1] == "l" and self.double_cons(len(self.b) - 1) and m > 1:
            self.b = self.b[:-1]


def porter_stem(word: str) -> str:
    """Stem one lower-cased token as Lucene's PorterStemFilter does."""
    if not word.isascii() and any(ord(ch) > 0xFFFF for ch in word):
        # Lucene stems UTF-16 code units: a character beyond the BMP is two consonants there
        units = "".join(_utf16_units(ch) for ch in word)
        return _stem(units).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    return _stem(word)


def _utf16_units(ch: str) -> str:
    code = ord(ch) - 0x10000
    return ch if code < 0 else chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def _stem(word: str) -> str:
    if len(word) <= 2:
        return word
    w = _Word(word)
    w.step1ab()
    w.step1c()
    w.rule_table(_STEP2, 2)
    w.rule_table(_STEP3, 1)
    w.step4()
    w.step5()
    return w.b
