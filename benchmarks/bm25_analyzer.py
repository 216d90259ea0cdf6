"""BM25Q analyzer speed: the Lucene-exact `LuceneAnalyzer` vs the approximation it replaced.

Peers, on the same texts in the same run:

* ``regex+pystemmer``: the BM25Q analyzer before it was made token-exact (one `re` pattern for
  Lucene-like tokens, possessive strip, lower case, stop words, PyStemmer's Snowball "porter"),
  kept here as the yardstick; skipped when PyStemmer is not installed;
* ``lower-w+``: classic BM25's tokenizer (`simple_tokenize`), the floor for any analyzer.

Each repeat builds a fresh analyzer (empty stem cache) and analyzes every text once, as building a
BM25 index does. Runs are interleaved (peer, ours, peer, ours, ...) so load drift hits both alike.
Prints per-run seconds, the median of each, and the median ratios ours/peer (time; lower is faster).

    python benchmarks/bm25_analyzer.py                 # EntailmentBank corpus (11,518 docs), 3 repeats
    python benchmarks/bm25_analyzer.py --repeats 5
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from reasonembed.io import iter_jsonl
from reasonembed.retrieval.bm25 import simple_tokenize
from reasonembed.retrieval.lucene_analyzer import LUCENE_STOP_WORDS, LuceneAnalyzer

DATA = Path(__file__).resolve().parents[1] / "src" / "reasonembed" / "data"
_OLD_TOKEN = re.compile(r"\w+(?:(?:['\u2019]|(?<=\d)[.,](?=\d)|(?<=[^\W\d_])\.(?=[^\W\d_]))\w+)*")


def old_analyzer() -> Callable[[str], list[str]] | None:
    """The pre-exact BM25Q analyzer, as it was in retrieval/bm25.py."""
    try:
        import Stemmer
    except ImportError:
        return None
    stemmer = Stemmer.Stemmer("porter")
    stemmer.maxCacheSize = 1_000_000

    def analyze(text: str) -> list[str]:
        tokens = []
        for match in _OLD_TOKEN.finditer(text):
            tok = match.group(0).lower()
            if tok.endswith(("'s", "\u2019s")):
                tok = tok[:-2]
            if tok and tok not in LUCENE_STOP_WORDS:
                tokens.append(tok)
        return stemmer.stemWords(tokens)

    return analyze


def run_once(make: Callable[[], Callable[[str], list[str]]], texts: list[str]) -> float:
    start = time.perf_counter()
    analyze = make()
    for text in texts:
        analyze(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DATA / "entailmentbank_facts_dev" / "documents.jsonl")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    texts = [rec["content"] for _, rec in iter_jsonl(args.corpus)]
    peers: dict[str, Callable[[], Callable[[str], list[str]]]] = {"lower-w+": lambda: simple_tokenize}
    if old_analyzer() is not None:
        peers["regex+pystemmer"] = old_analyzer  # type: ignore[assignment]
    else:
        print("PyStemmer not installed: the regex+pystemmer peer is skipped")
    times: dict[str, list[float]] = {name: [] for name in [*peers, "LuceneAnalyzer"]}
    print(f"{len(texts)} texts from {args.corpus}")
    for r in range(args.repeats):
        for name, make in peers.items():
            times[name].append(run_once(make, texts))
        times["LuceneAnalyzer"].append(run_once(LuceneAnalyzer, texts))
        print(f"repeat {r + 1}: " + ", ".join(f"{n} {t[-1]:.3f}s" for n, t in times.items()))
    ours = statistics.median(times["LuceneAnalyzer"])
    for name, t in times.items():
        print(f"median {name}: {statistics.median(t):.3f}s")
    for name in peers:
        print(f"ratio LuceneAnalyzer / {name} (median time): {ours / statistics.median(times[name]):.2f}x")


if __name__ == "__main__":
    main()
