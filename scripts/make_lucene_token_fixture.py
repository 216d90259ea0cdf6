"""Regenerate tests/retrieval/fixtures/lucene_tokens.jsonl: texts and the tokens Lucene makes of them.

The tokens come from the analyzer BRIGHT's official BM25 uses,
``pyserini.analysis.Analyzer(pyserini.analysis.get_lucene_analyzer())`` (Anserini's
DefaultEnglishAnalyzer: StandardTokenizer, EnglishPossessiveFilter, LowerCaseFilter, StopFilter
with Lucene's English stop words, PorterStemFilter). `retrieval/bm25.py` must reproduce them
token for token; tests/retrieval/test_lucene_analyzer.py checks it on every line.

This script does not run in the project's environment: it needs Java and pyserini. Made with
pyserini 0.22.1 (Anserini 0.22.1, Lucene 9.5.0) on OpenJDK 17, in a throwaway venv:

    python3 -m venv /tmp/pyserini-venv
    /tmp/pyserini-venv/bin/pip install --no-deps pyserini==0.22.1 pyjnius
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \\
        /tmp/pyserini-venv/bin/python scripts/make_lucene_token_fixture.py

(`--no-deps` skips torch, faiss and the rest: the analyzer only needs pyjnius and the bundled
Anserini jar.) The texts: the bundled dev sets' queries and documents (all of TheoremQA-Q, every
fifth EntailmentBank document), hand-written edge cases, seeded random strings over a character
pool chosen to hit every tokenizer rule, short probes around every 89th code point and around the
characters whose role changed since Unicode 9.0, and, for the stemmer, chunks of an English
vocabulary and of random words built from the suffixes the Porter rules name.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "reasonembed" / "data"
OUT = ROOT / "tests" / "retrieval" / "fixtures" / "lucene_tokens.jsonl"

EDGE_CASES = [
    # apostrophes and possessives
    "John's JOHN'S James' dogs’s O’Neil’s ＇s it’s that's this's",
    "don't can't won't I'm y'all rock'n'roll 'quoted' ''double'' ‘curly’",
    "the cat's whiskers, the cats' toys, Charles's book, CEO’S report",
    # hyphens, dots, commas, numbers
    "state-of-the-art e-mail re-enter x-ray COVID-19 ABC-123 --flag",
    "3.14 3,14 1,000,000 1.2.3 0.5x 3.14abc abc.123 v2.0 2.0.1-beta 1e-5 -7 +3",
    "e.g. i.e. U.S.A. x.y.z. a.b.c Ph.D. etc... end. 10.5% $8.6 €3,5 £12",
    "1st 2nd 3rd 21st 100km 5kg 2x2 3D 4K mp3 ipv6",
    "x_y __init__ foo_bar_ _x snake_case_name CONSTANT_VALUE a__b",
    # LaTeX and math
    r"Find the sum of $\sum_{n=1}^{\infty} \frac{2}{n^2 + 4n + 3}$",
    r"\frac{a}{b} $x^2$ \sum_{n=1} \mathbb{R}^n \alpha\beta \left( x \right) f'(x) f''(x)",
    "½ ² x² 10⁵ ３４５ ３.４ ∑∫∂ ≤ ≥ ≠ ∞ √2 π r² 𝑥 𝐀𝐁 ℝ ℕ ℵ₀",
    # URLs and emails (StandardTokenizer, not UAX29URLEmailTokenizer)
    "http://example.com/a?b=c foo@bar.org www.x.com https://arxiv.org/abs/2510.08252 C:\\path\\file.txt",
    "user.name+tag@sub.example.co.uk ftp://host:21/x mailto:a@b.c #hashtag @mention",
    # stop words and case
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with",
    "A AN AND THE The tHe It IS i me my we our you he him she her its what which who whom",
    # non-ASCII Latin, Greek, Cyrillic, case mapping
    "café naïve résumé über ÜBER straße STRASSE Ǆ ǅ ǆ K Å ﬁnance ﬂow Ⅻ ⅻ",
    "İstanbul ISTANBUL ıi ΟΔΟΣ Σ σς Ωmega Москва МОСКВА Ελλάδα",
    "x\u0301y e\u0301 a\u200bb a\u00adb a\u200db a\u200cb a\u2060b a\ufeffb",
    # CJK, Japanese, Korean, South-East Asian, Hebrew, Arabic, Devanagari
    "日本語のテキスト カタカナ ひらがな 한국어 ภาษาไทย ພາສາລາວ မြန်မာ ខ្មែរ",
    "中文文本，标点。ｆｕｌｌｗｉｄｔｈ ＡＢＣ ｶﾀｶﾅ",
    "hebrew: צה\"ל א' עברית ערבית: العربية ١٢٣ हिन्दी भाषा",
    # emoji
    "😀 👍🏽 👨\u200d👩\u200d👧 🇺🇸 1\ufe0f\u20e3 #\ufe0f\u20e3 *\u20e3 ℹ\ufe0f ©\ufe0f ™ ® Foo© bar™ a😀b 🏽 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "❤\ufe0f ✔ ☺\ufe0f 🙂\u200d↔\ufe0f 🧑🏿\u200d💻 👩\u200d❤\ufe0f\u200d💋\u200d👨 🇯🇵🇫🇷 🇦 ⌚ ↔\ufe0f",
    # long tokens (Lucene splits at 255 UTF-16 units)
    "a" * 300,
    "ab" * 200 + " x",
    "1" * 600,
    "x" * 254 + "'s and more",
    "y" * 250 + ".abcdefghij",
    "𝑥" * 200,
    "𐐀𐐁 Deseret 𐐨 𝑥s 𝑥S 𝐀es 𝑥ing 𝑥ies 𝑥𝑥y a𝑥e",
    "_" * 300 + "a",
    "a" + "\u0301" * 300 + "b",
    "x" * 200 + "\u200d" + "😀" * 100,
    "👍🏽\u200d" * 90,
    "3" * 254 + ",5",
    # whitespace and control characters
    "tab\tseparated\nnew\r\nlines\x0bvertical\x0cform\x1ffeed\u00a0nbsp\u2003em\u3000ideo",
    "",
    "   ",
    "...,,,;;;!!!???",
]

# one or two characters of each Word_Break class (and neighbours) that Lucene's grammar names
FUZZ_POOL = (
    list("abcXYZ019 '.,:;-_\"@/$%&()!?")
    + ["\u0301", "\u200d", "\u200c", "\u00ad", "\ufe0f", "\u20e3", "\u2019", "\uff07", "\u00b7"]
    + ["\u2027", "\u05f4", "\u037e", "\u066c", "\ufe10", "\ufe13", "\ufe14", "\ufe52", "\uff0e", "\u055f"]
    + ["\u2024", "\u202f", "\u203f", "\u2040", "\uff3f", "\u0640", "\u3005", "\u309b", "\u30fc"]
    + ["ß", "İ", "Σ", "é", "ω", "Ж", "²", "½", "３", "ａ", "𝑥", "©", "™", "®", "#", "*"]
    + ["日", "本", "の", "ひ", "カ", "ｶ", "한", "ภ", "ไ", "א", "ב", "'", '"', "ا", "١", "क"]
    + ["😀", "👍", "🏽", "🇺", "🇸", "\U000e0067", "\U000e007f", "❤", "✔", "⌚", "\u00a0", "\t", "\n"]
)


# letters, digits and joiners that have ASCII stand-ins in the analyzer's fast path
SIMPLE_POOL = (
    list("abSZ09 '.,:;-_@/")
    + list("éßİΣσωЖ²½３ａ·‧’‘＇﹒．․‿⁀＿٬;﹐“”–—…°×١اﬁⅫʻˈ‐⁄ꞌ")
    + [
        "\u00a0",
        "\u2003",
        "\u3000",
        "𝑥",
        "𝐀",
        "'s",
        "’S",
        "ing",
    ]
)


def dev_texts() -> list[str]:
    texts: list[str] = []
    for name, doc_step in (("theoremqa_q_dev", 1), ("entailmentbank_facts_dev", 5)):
        with open(DATA / name / "examples.jsonl", encoding="utf-8") as fh:
            texts += [json.loads(line)["query"] for line in fh]
        with open(DATA / name / "documents.jsonl", encoding="utf-8") as fh:
            docs = [json.loads(line)["content"] for line in fh]
        texts += docs[::doc_step]
    return texts


def fuzz_texts(count: int, seed: int = 13, pool: list[str] = FUZZ_POOL) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 24))) for _ in range(count)]


def stemmer_texts(count: int = 6000, words_per_text: int = 60, seed: int = 7) -> list[str]:
    """Random words ending in the suffixes the Porter rules test, to reach every rule."""
    suffixes = (
        "ational tional enci anci izer bli alli entli eli ousli ization ation ator alism iveness "
        "fulness ousness aliti iviti biliti logi icate ative alize iciti ical ful ness al ance ence er "
        "ic able ible ant ement ment ent ion sion tion ou ism ate iti ous ive ize s es sses ies ed ing "
        "eed y e ll at bl iz"
    ).split()
    rng = random.Random(seed)
    words = [
        "".join(rng.choice("aeiouybcdfghjklmnpqrstvwxz") for _ in range(rng.randint(0, 7)))
        + "".join(rng.choice(suffixes) for _ in range(rng.randint(1, 2)))
        for _ in range(count)
    ]
    return [" ".join(words[i : i + words_per_text]) for i in range(0, len(words), words_per_text)]


def code_point_texts(step: int = 89) -> list[str]:
    """Probes around every `step`-th code point up to U+323FF, and around the first code point of
    each range in the analyzer's Unicode 9.0 table (retrieval/lucene_unicode9.py)."""
    table = (ROOT / "src" / "reasonembed" / "retrieval" / "lucene_unicode9.py").read_text(encoding="utf-8")
    starts = {
        int(item.split("-")[0], 16) for item in re.findall(r"\b[0-9A-F]{2,5}(?:-[0-9A-F]{2,5})?\b", table)
    }
    code_points = sorted(set(range(0x80, 0x32400, step)) | starts)
    return [f"x{c}y 1{c}2 {c} {c}{c}x {c}s" for c in map(chr, code_points) if not 0xD800 <= ord(c) <= 0xDFFF]


def vocabulary_texts(words_per_text: int = 60) -> list[str]:
    """Every distinct alphabetic word of the dev sets and of Python's own reference text."""
    import pydoc_data.topics

    words: set[str] = set()
    sources = ["\n".join(pydoc_data.topics.topics.values())]
    for name in ("theoremqa_q_dev", "entailmentbank_facts_dev"):
        sources.append((DATA / name / "documents.jsonl").read_text(encoding="utf-8"))
    for text in sources:
        words.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
    vocab = sorted(words)
    return [" ".join(vocab[i : i + words_per_text]) for i in range(0, len(vocab), words_per_text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--fuzz", type=int, default=800, help="number of random strings")
    args = parser.parse_args()

    from pyserini.analysis import Analyzer, get_lucene_analyzer
    from pyserini.pyclass import autoclass  # jnius, after pyserini has set the classpath

    analyzer = Analyzer(get_lucene_analyzer())
    lucene = autoclass("org.apache.lucene.util.Version").LATEST.toString()
    sources = EDGE_CASES + dev_texts() + fuzz_texts(args.fuzz) + fuzz_texts(args.fuzz // 2, 17, SIMPLE_POOL)
    sources += code_point_texts() + vocabulary_texts() + stemmer_texts()
    texts = list(dict.fromkeys(sources))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"made_by": "pyserini 0.22.1 get_lucene_analyzer()", "lucene": lucene}) + "\n")
        for text in texts:
            fh.write(json.dumps({"text": text, "tokens": analyzer.analyze(text)}, ensure_ascii=False) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)
    print(f"{len(texts)} texts -> {args.out} (Lucene {lucene})")


if __name__ == "__main__":
    main()
