"""Stage 0, `clean`: turn a raw corpus into the pool that generation samples from and mining searches.

In order (each drop counted in `clean/report.json`):
1. length bounds (METHOD §2.0: 200–5,000 characters);
2. exact duplicates (normalised-text MD5; the first occurrence stays);
3. **decontamination** against named evaluation sets (BRIGHT layout): a document is dropped when its
   text equals, near-duplicates (shingle Jaccard) or contains most of (shingle containment) any eval
   query or any eval gold document — so neither a source nor a mined positive can leak a test item.
   The published pipelines only drop BRIGHT gold ids; text matching also works across corpora;
4. near duplicates inside the corpus (MinHash LSH proposals, verified by exact Jaccard);
5. optional LLM domain filter ("does this passage belong to <label>? Yes/No"; a parsed No is dropped;
   an unparsable reply is counted and kept unless `clean.domain_filter_unparsable: drop`).

Output `clean/corpus.jsonl` ({id, text, domain}) is written with `ResumableJsonlWriter`; the
deterministic steps are recomputed on a re-run (cheap) and LLM decisions are kept in
`clean/domain_filter.jsonl`, so a resumed run redoes nothing and duplicates nothing.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reasonembed.errors import ConfigError
from reasonembed.io import ResumableJsonlWriter, iter_jsonl, write_json
from reasonembed.llm.base import LLM, ChatRequest, SamplingParams
from reasonembed.records import Document
from reasonembed.remixer import dedup
from reasonembed.remixer.common import (
    EmptyOutputError,
    RunPaths,
    StageResult,
    domain_spec,
    domain_specs,
    iter_documents,
)
from reasonembed.remixer.config import CleanConfig, SynthConfig
from reasonembed.remixer.prompts import PROMPT_VERSION, domain_filter_messages

logger = logging.getLogger(__name__)
MIN_CONTAINMENT_SHINGLES = 20  # eval items shorter than ~24 characters are matched only exactly


@dataclass
class EvalItems:
    """Texts of an eval set that must not leak into training: its queries and gold documents."""

    name: str
    texts: dict[str, str] = field(default_factory=dict)  # item key -> text
    gold_ids: set[str] = field(default_factory=set)


def load_eval_set(path: str | Path) -> EvalItems:
    root = Path(path)
    examples, documents = root / "examples.jsonl", root / "documents.jsonl"
    if not examples.exists():
        raise ConfigError(f"clean.decontaminate: {examples} not found (expected a BRIGHT-layout folder)")
    items = EvalItems(root.name)
    for line, ex in iter_jsonl(examples):
        if "query" not in ex:
            from reasonembed.errors import RecordError

            raise RecordError(examples, line, "query", "missing")
        items.texts[f"query:{ex.get('id', line)}"] = str(ex["query"])
        items.gold_ids.update(str(g) for g in ex.get("gold_ids") or [] if g != "N/A")
    if documents.exists():
        for _, doc in iter_jsonl(documents):
            doc_id = str(doc.get("id"))
            if doc_id in items.gold_ids:
                items.texts[f"gold:{doc_id}"] = str(doc.get("content", doc.get("text", "")))
    return items


class Decontaminator:
    """Matches documents against eval items by exact text, Jaccard (via LSH) and containment."""

    def __init__(self, sets: list[EvalItems], cfg: CleanConfig):
        self.cfg = cfg
        self.sets = sets
        self.hashes: dict[str, str] = {}
        self.shingles: dict[str, set[int]] = {}
        self.lsh = dedup.MinHashLSH(cfg.num_perm, cfg.rows_per_band)
        self.inverted: dict[int, list[str]] = defaultdict(list)
        self.gold_ids: dict[str, str] = {}
        for items in sets:
            for key, text in items.texts.items():
                item = f"{items.name}/{key}"
                self.hashes.setdefault(dedup.text_hash(text), item)
                sh = dedup.shingles(text, cfg.shingle_chars)
                self.shingles[item] = sh
                self.lsh.add(item, sh)
                if len(sh) >= MIN_CONTAINMENT_SHINGLES:
                    for s in sh:
                        self.inverted[s].append(item)
            for gid in items.gold_ids:
                self.gold_ids.setdefault(gid, f"{items.name}/gold-id:{gid}")

    def match(self, doc: Document, doc_shingles: set[int]) -> str | None:
        """The eval item a document leaks (e.g. 'theoremqa_q_dev/query:12'), or None."""
        if self.cfg.decontam_match_ids and doc.id in self.gold_ids:
            return self.gold_ids[doc.id]
        hit = self.hashes.get(dedup.text_hash(doc.text))
        if hit:
            return hit
        for item in sorted(self.lsh.query(doc_shingles)):
            if dedup.jaccard(doc_shingles, self.shingles[item]) >= self.cfg.decontam_jaccard:
                return item
        counts: Counter[str] = Counter()
        for s in doc_shingles:
            for item in self.inverted.get(s, ()):
                counts[item] += 1
        for item, n in sorted(counts.items()):
            if n / len(self.shingles[item]) >= self.cfg.decontam_containment:
                return item
        return None


_YES_NO = re.compile(r"\b(yes|no)\b")
_LABEL = re.compile(r"^(final\s+answer|answer|response|a)\s*[:\-]\s*")


def parse_yes_no(text: str) -> bool | None:
    """True for Yes, False for No, None when the reply says neither clearly.

    Markdown and quotes are ignored (`**Yes**`, `"No."`), as is a leading label (`Answer: Yes`). The
    reply counts when exactly one of the two words occurs in it ("It does belong, so yes"); both
    ("yes and no"), neither, an empty reply or a `<think>` block cut off before any answer (stripped
    to nothing) are unparsable, never a silent No.
    """
    norm = re.sub(r"[*_`#>\"'“”]", " ", (text or "").lower())
    norm = _LABEL.sub("", " ".join(norm.split()))
    words = _YES_NO.findall(norm)
    if len(set(words)) == 1:
        return words[0] == "yes"
    return None


def _domain_filter(llm: LLM, config: SynthConfig, docs: list[Document], paths: RunPaths,
                   counts: Counter[str]) -> tuple[set[str], int]:
    """Resumably ask the LLM about every document; returns (ids kept, failed calls).

    A document is dropped only on a parsed No; an unparsable reply keeps or drops it as
    `clean.domain_filter_unparsable` says (default keep), and is counted as `domain_filter_unparsable`.
    """
    cfg = config.clean
    specs = domain_specs(config)
    decisions: dict[str, bool] = {}
    failed = 0
    sampling = SamplingParams(0.0, 1.0, None, cfg.domain_filter_max_tokens)
    with ResumableJsonlWriter(paths.domain_filter, key=lambda r: r["doc_id"]) as writer:
        for _, rec in iter_jsonl(paths.domain_filter):
            decisions[rec["doc_id"]] = rec["keep"]
            counts["domain_filter_unparsable"] += rec.get("parsed", True) is None
        todo = (
            ChatRequest(doc.id, domain_filter_messages(domain_spec(config, doc.domain, specs).label or doc.domain, doc.text),
                        sampling, extra=cfg.extra_body or None)
            for doc in docs if not writer.done(doc.id)
        )
        for request, result in tqdm(llm.map(todo), total=len(docs) - len(writer), desc="clean: domain filter"):
            if not result.ok:
                failed += 1
                continue
            parsed = parse_yes_no(result.text)
            keep = parsed if parsed is not None else cfg.domain_filter_unparsable == "keep"
            counts["domain_filter_unparsable"] += parsed is None
            writer.write({"doc_id": request.key, "keep": keep, "parsed": parsed, "answer": result.raw_text[:200],
                          "provenance": {"model": llm.model, "prompt_version": PROMPT_VERSION}})
            decisions[request.key] = keep
    return {k for k, v in decisions.items() if v}, failed


def run_clean(config: SynthConfig, corpus: str | Path | None = None, out: str | Path | None = None,
              llm: LLM | None = None) -> StageResult:
    """Filter `corpus` (default `config.corpus`) into `run_dir/clean/corpus.jsonl` (or `out`)."""
    start = time.perf_counter()
    cfg, paths = config.clean, RunPaths.of(config)
    source = Path(corpus or config.corpus)
    if not str(source):
        raise ConfigError("corpus: give the input documents (corpus=path or --corpus)")
    output = Path(out) if out else paths.corpus
    counts: Counter[str] = Counter()
    decontam_by_set: Counter[str] = Counter()
    dropped_ids: dict[str, list[str]] = defaultdict(list)
    contaminator = Decontaminator([load_eval_set(p) for p in cfg.decontaminate], cfg) if cfg.decontaminate else None
    lsh = dedup.MinHashLSH(cfg.num_perm, cfg.rows_per_band)
    kept_shingles: dict[str, set[int]] = {}
    seen_hashes: set[str] = set()
    kept: list[Document] = []
    repeated: list[int] = []
    for _, doc in tqdm(iter_documents(source, config.domain, repeated), desc="clean"):
        counts["input"] += 1
        domain_spec(config, doc.domain)  # unknown domains fail early, naming the valid ones
        if not cfg.min_chars <= len(doc.text) <= cfg.max_chars:
            counts["dropped_length"] += 1
            continue
        h = dedup.text_hash(doc.text)
        if h in seen_hashes:
            counts["dropped_exact_duplicate"] += 1
            continue
        seen_hashes.add(h)
        sh = dedup.shingles(doc.text, cfg.shingle_chars)
        if contaminator is not None:
            item = contaminator.match(doc, sh)
            if item is not None:
                counts["dropped_decontamination"] += 1
                decontam_by_set[item.split("/", 1)[0]] += 1
                dropped_ids["decontamination"].append(doc.id)
                continue
        if cfg.near_dup_threshold <= 1.0:
            near = [k for k in lsh.query(sh) if dedup.jaccard(sh, kept_shingles[k]) >= cfg.near_dup_threshold]
            if near:
                counts["dropped_near_duplicate"] += 1
                dropped_ids["near_duplicate"].append(doc.id)
                continue
            lsh.add(doc.id, sh)
            kept_shingles[doc.id] = sh
        kept.append(doc)
    if repeated:
        counts["dropped_repeated_record"] = len(repeated)
    if not kept:
        raise EmptyOutputError(f"{source}: clean kept none of its {counts['input']} documents ({dict(counts)}); "
                               "check clean.min_chars / clean.max_chars and the decontamination sets")
    failed = 0
    if cfg.domain_filter:
        if llm is None:
            raise ConfigError("clean.domain_filter is on but no LLM was given")
        yes, failed = _domain_filter(llm, config, kept, paths, counts)
        counts["dropped_domain_filter"] = sum(1 for d in kept if d.id not in yes) - failed
        kept = [d for d in kept if d.id in yes]
    with ResumableJsonlWriter(output, key=lambda r: r["id"]) as writer:
        before = len(writer)
        for doc in kept:
            if not writer.done(doc.id):
                writer.write({"id": doc.id, "text": doc.text, "domain": doc.domain})
        written = len(writer) - before
    counts["kept"] = len(kept)
    report: dict[str, Any] = {
        "input": str(source), "counts": dict(counts), "decontamination_by_set": dict(decontam_by_set),
        "decontaminated_against": list(cfg.decontaminate), "dropped_ids": dict(dropped_ids),
        "domain_filter_failed_calls": failed, "config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__},
    }
    write_json(output.parent / "report.json", report)
    logger.info("clean: %s", dict(counts))
    return StageResult("clean", output, {**counts, "written": written, "llm_failed": failed}, time.perf_counter() - start)
