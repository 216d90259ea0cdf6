"""Searcher factories: what `evaluate` runs, built once and turned into a Searcher per task.

Why factories: a searcher is tied to one corpus (dense vectors, a BM25 index), so an evaluation
over many tasks needs "a way to make the searcher for this task". A `SearcherFactory` is that: a
callable `factory(task, instruction) -> Searcher` with a `describe()` for the manifest. The
factories here cover every system the toolkit evaluates:

* `DenseFactory(embedder)` - exact dense search (`retrieval.dense.DenseSearcher`) over the task
  corpus, encoded once through `encoding.encode_corpus` (chunked, cached, sharded under torchrun);
* `BM25Factory(variant)` - `retrieval.bm25.BM25Searcher`, "classic" Okapi or BRIGHT's "bm25q";
* `HybridFactory(first, second, fusion, depth)` - the two fused with RRF or normalised scores
  (`retrieval.fusion`).

`build_searcher_factory(model, hybrid=..., fusion=...)` is the one place where a model *name*
("bm25", "bm25q", "minilm", a model folder or hub id) or an Embedder instance becomes a factory.

Wrappers (`Wrapper = (searcher, task) -> searcher`) are applied per task on top of whatever the
factory built, in order: that is where a query rewriter or an LLM reranker plugs in, e.g.
`lambda inner, task: RerankingSearcher(inner, reranker, 100, dict(zip(task.doc_ids, task.doc_texts)))`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from reasonembed.evaluation.tasks import EvalTask
from reasonembed.retrieval.base import Searcher

BM25_MODELS = {"bm25": "classic", "bm25q": "bm25q"}
Wrapper = Callable[[Searcher, EvalTask], Searcher]


@runtime_checkable
class SearcherFactory(Protocol):
    """Makes the Searcher of one task; `uses_instruction` is False for lexical systems."""

    uses_instruction: bool
    default_instruction: str | None

    def __call__(self, task: EvalTask, instruction: str | None) -> Searcher: ...

    def describe(self) -> dict[str, Any]: ...


class DenseFactory:
    """Exact dense search with one Embedder; `info[task]` says whether the cache was hit."""

    uses_instruction = True

    def __init__(
        self,
        embedder: Any,
        *,
        cache_dir: str | Path | None = None,
        batch_size: int | None = None,
        backend: str = "auto",
        show_progress: bool = False,
        distributed: bool = False,
    ) -> None:
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.backend = backend
        self.show_progress = show_progress
        self.distributed = distributed
        self.default_instruction = getattr(embedder, "instruction", None) or None
        self.info: dict[str, dict[str, Any]] = {}
        described = embedder.describe() if hasattr(embedder, "describe") else {}
        self.fingerprint = described.get("fingerprint") or embedder.fingerprint
        self._described = described

    def __call__(self, task: EvalTask, instruction: str | None) -> Searcher:
        from reasonembed.encoding import encode_corpus
        from reasonembed.retrieval.dense import DenseSearcher

        emb, hit = encode_corpus(
            self.embedder,
            task.doc_texts,
            corpus_key=task.corpus_hash() if self.cache_dir else "",
            cache_dir=self.cache_dir,
            fingerprint=self.fingerprint,
            batch_size=self.batch_size,
            show_progress=self.show_progress,
            meta={"task": task.name, "source": task.source},
            distributed=self.distributed,
        )
        searcher = DenseSearcher(
            task.doc_ids, emb, self.embedder, instruction or "", self.backend, self.batch_size, self.show_progress
        )
        self.info[task.name] = {"cache_hit": hit, "backend": searcher.backend}
        return searcher

    def describe(self) -> dict[str, Any]:
        from reasonembed.model_ref import portable

        described = {"model": type(self.embedder).__name__, **self._described}
        described["model"] = portable(described["model"])  # the bundled model by name, not a venv path
        return {**described, "fingerprint": self.fingerprint, "kind": "dense"}


class BM25Factory:
    """BM25 over the task corpus ("classic" Okapi on lower-cased \\w+, or BRIGHT's "bm25q")."""

    uses_instruction = False
    default_instruction = None

    def __init__(self, name: str = "bm25", show_progress: bool = False) -> None:
        self.name = name
        self.variant = BM25_MODELS[name]
        self.show_progress = show_progress

    def __call__(self, task: EvalTask, instruction: str | None) -> Searcher:
        from reasonembed.retrieval.bm25 import BM25Searcher

        return BM25Searcher(task.doc_ids, task.doc_texts, self.variant, show_progress=self.show_progress)

    def describe(self) -> dict[str, Any]:
        from reasonembed.retrieval.bm25 import BM25Searcher

        tokenizer = "lower \\w+ (rank_bm25 Okapi)" if self.variant == "classic" else "pyserini's default Lucene analyzer (retrieval/lucene_analyzer.py)"
        return {
            "model": self.name,
            "kind": "bm25",
            "variant": self.variant,
            **BM25Searcher.DEFAULTS[self.variant],
            "tokenizer": tokenizer,
        }


class HybridFactory:
    """Two factories fused per task (`retrieval.fusion.fuse`: "rrf" or "score")."""

    def __init__(
        self, first: SearcherFactory, second: SearcherFactory, fusion: str = "rrf", depth: int = 100,
        **fusion_kwargs: Any,
    ) -> None:
        from reasonembed.retrieval.fusion import FUSIONS

        if fusion not in FUSIONS:
            from reasonembed.errors import ConfigError

            raise ConfigError(f"fusion must be one of {', '.join(FUSIONS)}, got {fusion!r}")
        self.first, self.second = first, second
        self.fusion, self.depth, self.fusion_kwargs = fusion, depth, fusion_kwargs
        self.uses_instruction = first.uses_instruction or second.uses_instruction
        self.default_instruction = first.default_instruction or second.default_instruction
        self.info: dict[str, dict[str, Any]] = {}

    def __call__(self, task: EvalTask, instruction: str | None) -> Searcher:
        from reasonembed.retrieval.fusion import fuse

        a = self.first(task, instruction if self.first.uses_instruction else None)
        b = self.second(task, instruction if self.second.uses_instruction else None)
        self.info[task.name] = {
            "fusion": self.fusion,
            "depth": self.depth,
            **{f"first_{k}": v for k, v in getattr(self.first, "info", {}).get(task.name, {}).items()},
        }
        return fuse(a, b, self.fusion, depth=self.depth, **self.fusion_kwargs)

    def describe(self) -> dict[str, Any]:
        first, second = self.first.describe(), self.second.describe()
        return {
            "model": f"{first.get('model')} + {second.get('model')} ({self.fusion})",
            "kind": "hybrid",
            "fusion": self.fusion,
            "depth": self.depth,
            **self.fusion_kwargs,
            "first": first,
            "second": second,
        }


def load_embedder(
    model: Any,
    *,
    pooling: str | None = None,
    dtype: str = "fp32",
    max_query_length: int | None = None,
    max_doc_length: int | None = None,
    batch_size: int | None = None,
    device: str | None = None,
) -> Any:
    """A name/path (or "minilm" = the bundled model) becomes an Embedder; an instance passes through."""
    if model is not None and not isinstance(model, (str, Path)):
        return model  # an Embedder (or anything with encode_queries / encode_documents / fingerprint)
    from reasonembed.embedder import Embedder

    name = None if model is None or str(model).lower() in ("minilm", "default") else str(model)
    kwargs: dict[str, Any] = {
        "pooling": pooling,
        "dtype": dtype,
        "max_query_length": max_query_length,
        "max_doc_length": max_doc_length,
        "device": device,
    }
    if batch_size:
        kwargs["batch_size"] = batch_size
    return Embedder(name, **kwargs)


def build_searcher_factory(
    model: Any,
    *,
    hybrid: str | None = None,
    fusion: str = "rrf",
    fusion_depth: int = 100,
    fusion_options: Mapping[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    batch_size: int | None = None,
    backend: str = "auto",
    show_progress: bool = False,
    distributed: bool = False,
    **embedder_options: Any,
) -> SearcherFactory:
    """The one place a model spec becomes a factory.

    `model`: a SearcherFactory (returned as is), "bm25" | "bm25q", "minilm", a model folder or
    hub id, or an Embedder. `hybrid` ("bm25" | "bm25q" | another model spec) fuses `model` with a
    second system by `fusion` ("rrf" | "score"), each side cut to `fusion_depth` hits.
    `embedder_options` are Embedder settings (pooling, dtype, max lengths, device).
    """
    if isinstance(model, SearcherFactory) and not hybrid:
        return model
    if isinstance(model, SearcherFactory):
        base: SearcherFactory = model
    elif isinstance(model, str) and model.lower() in BM25_MODELS:
        base = BM25Factory(model.lower(), show_progress)
    else:
        embedder = load_embedder(model, batch_size=batch_size, **embedder_options)
        base = DenseFactory(
            embedder, cache_dir=cache_dir, batch_size=batch_size, backend=backend,
            show_progress=show_progress, distributed=distributed,
        )
    if not hybrid:
        return base
    other = build_searcher_factory(
        hybrid, cache_dir=cache_dir, batch_size=batch_size, backend=backend, show_progress=show_progress,
        distributed=distributed, **embedder_options,
    )
    return HybridFactory(base, other, fusion, fusion_depth, **dict(fusion_options or {}))


def wrap(searcher: Searcher, task: EvalTask, wrappers: Sequence[Wrapper]) -> Searcher:
    """Apply `wrappers` in order (innermost first)."""
    for wrapper in wrappers:
        searcher = wrapper(searcher, task)
    return searcher
