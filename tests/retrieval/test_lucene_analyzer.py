"""The BM25Q analyzer makes exactly the tokens of pyserini's default Lucene analyzer (BRIGHT's BM25).

The fixture holds texts and Lucene's tokens for them, made once with pyserini and Java by
scripts/make_lucene_token_fixture.py (tests/retrieval/fixtures/README.md says how).
"""

from __future__ import annotations

import json
from pathlib import Path

from reasonembed.retrieval.lucene_analyzer import LuceneAnalyzer

FIXTURE = Path(__file__).parent / "fixtures" / "lucene_tokens.jsonl"


def _fixture() -> list[dict]:
    with open(FIXTURE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh][1:]  # line 1 names the Lucene that made it


def test_fixture_covers_thousands_of_texts() -> None:
    rows = _fixture()
    assert len(rows) > 3000 and sum(len(r["tokens"]) for r in rows) > 30_000


def test_tokens_equal_lucene_on_every_fixture_text() -> None:
    analyze = LuceneAnalyzer()
    wrong = [(r["text"], r["tokens"], got) for r in _fixture() if (got := analyze(r["text"])) != r["tokens"]]
    shown = "\n".join(f"{t[:80]!r}\n  lucene {want[:12]}\n  ours   {got[:12]}" for t, want, got in wrong[:5])
    assert not wrong, f"{len(wrong)} of {len(_fixture())} texts differ from Lucene, e.g.\n{shown}"


def test_chain_on_a_hand_read_example() -> None:
    """Each step once: tokenizer joins, possessive, lower case, stop words, Porter (Lucene's output)."""
    text = "The studies of John's running dogs, e.g. in 3.14 cases! mailto:a@b.org ΟΔΟΣ İstanbul 😀"
    assert LuceneAnalyzer()(text) == [
        "studi", "john", "run", "dog", "e.g", "3.14", "case", "mailto:a", "b.org", "οδοσ", "istanbul", "😀"
    ]  # fmt: skip


def test_long_tokens_are_cut_at_lucenes_buffer() -> None:
    assert [len(t) for t in LuceneAnalyzer()("x" * 600)] == [255, 255, 90]
