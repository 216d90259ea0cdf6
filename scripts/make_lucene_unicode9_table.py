"""Regenerate src/reasonembed/retrieval/lucene_unicode9.py by asking Lucene about every code point.

Lucene 9.5's StandardTokenizer was compiled from Unicode 9.0 tables; the analyzer in
retrieval/lucene_analyzer.py reads the `regex` module's newer ones. For every code point from
U+0080 to U+323FF and the tag block, this script tokenizes a few short probes around it ("a{c}b",
"1{c}2", "{c}", ...) with Lucene (pyserini, stemming and stop words off) and with our analyzer
built without overrides. Where the two disagree it reads the character's role in Lucene off the
probes (extender, letter, digit, joiner, single-character token, ignored, ...) and records it.

Run in the throwaway venv of make_lucene_token_fixture.py, with `regex` added and the project on
PYTHONPATH:

    /tmp/pyserini-venv/bin/pip install regex
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 PYTHONPATH=src \\
        /tmp/pyserini-venv/bin/python scripts/make_lucene_unicode9_table.py
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "reasonembed" / "retrieval" / "lucene_unicode9.py"
CODE_POINTS = [cp for cp in range(0x80, 0x32400) if not 0xD800 <= cp <= 0xDFFF] + list(
    range(0xE0000, 0xE1000)
)


def probes(c: str) -> list[str]:
    return [f"a{c}b", f"1{c}2", c, c + c, f"a{c}", f"{c}a", f"a.{c}", f"1.{c}", f"{c}_{c}"]


def role(results: list[list[str]], c: str) -> str:
    """A character's part in the tokenizer's grammar, read off its probes' tokens."""
    letters, digits, alone, twice, after, before, after_letter_dot, after_digit_dot, enl_join = results
    c = c.lower()
    if not alone:
        if after == [f"a{c}"] and before == ["a"]:
            return "ext"
        joins_letters, joins_digits = f"a{c}b" in letters, f"1{c}2" in digits
        if joins_letters and joins_digits:
            return "midnumlet"
        if joins_letters:
            return "midletter"
        if joins_digits:
            return "midnum"
        return "enl" if f"{c}a" in before else "other"
    if f"a{c}b" in letters:
        return "numeric" if f"1.{c}" in after_digit_dot and f"a.{c}" not in after_letter_dot else "letter"
    if twice == [c + c]:
        return "katakana" if enl_join == [f"{c}_{c}"] else "sea"
    return "single"


def main() -> None:
    import reasonembed.retrieval.lucene_unicode9 as table

    table.OVERRIDES.clear()  # our analyzer as the regex module's tables alone make it
    from pyserini.analysis import Analyzer, get_lucene_analyzer

    from reasonembed.retrieval.lucene_analyzer import LuceneAnalyzer

    lucene = Analyzer(get_lucene_analyzer(stemming=False, stopwords=False))
    ours = LuceneAnalyzer(stopwords=frozenset(), stem=False)
    by_role: dict[str, list[int]] = defaultdict(list)
    for cp in CODE_POINTS:
        c = chr(cp)
        text = " ".join(probes(c))
        if lucene.analyze(text) == ours(text):
            continue
        by_role[role([lucene.analyze(p) for p in probes(c)], c)].append(cp)

    lines = []
    for name in sorted(by_role):
        ranges: list[list[int]] = []
        for cp in by_role[name]:
            if ranges and cp == ranges[-1][1] + 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
        items = [f"{a:X}" if a == b else f"{a:X}-{b:X}" for a, b in ranges]
        body, line = [], ""
        for item in items:
            if len(line) + len(item) > 84:
                body.append(f'        "{line}"')
                line = ""
            line += item + " "
        body.append(f'        "{line.rstrip()}"')
        lines.append(f'    "{name}": (  # {len(by_role[name])} code points\n' + "\n".join(body) + "\n    ),")
    source = OUT.read_text(encoding="utf-8")
    head = source[: source.index("OVERRIDES: dict[str, str] = ")]
    text = head + "OVERRIDES: dict[str, str] = {\n" + "\n".join(lines) + "\n}\n"
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    print({name: len(cps) for name, cps in sorted(by_role.items())}, "->", OUT)


if __name__ == "__main__":
    main()
