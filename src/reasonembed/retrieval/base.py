"""The one search interface every retriever implements (pyserini style).

`Hit` is a frozen `(docid, score)`. A `Searcher` has

* `search(query, k=10) -> list[Hit]`
* `batch_search(queries, qids, k=10, excluded=None) -> dict[qid, list[Hit]]`

where `excluded` maps a qid to the doc ids that must never be returned for it (BRIGHT's
`excluded_ids`; the literal "N/A" is ignored). Hits are sorted by score descending; ties are
broken by docid descending, the order trec_eval itself uses, so a run file scores the same
whichever tool reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

# qid -> doc ids never to return for it (BRIGHT's excluded_ids); None: nothing excluded
Excluded = Mapping[str, Sequence[str]] | None


@dataclass(frozen=True, order=False)
class Hit:
    docid: str
    score: float


@runtime_checkable
class Searcher(Protocol):
    def search(self, query: str, k: int = 10) -> list[Hit]: ...

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]: ...


class BatchSearcher:
    """Mixin: `search` as a one-query `batch_search`, for searchers whose work is batched anyway."""

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]:
        raise NotImplementedError

    def search(self, query: str, k: int = 10) -> list[Hit]:
        return self.batch_search([query], ["q"], k)["q"]


def clean_excluded(ids: Sequence[str] | None) -> set[str]:
    """BRIGHT's rule: every excluded id is dropped except the literal "N/A"."""
    return {i for i in (ids or ()) if i != "N/A"}


def sort_hits(hits: list[Hit]) -> list[Hit]:
    """Score descending, then docid descending (trec_eval's tie order)."""
    return sorted(hits, key=lambda h: (h.score, h.docid), reverse=True)
