"""Stage 3, `judge`: one LLM call per (query, candidate) pair, a 1–5 score in `<score>` tags (METHOD §2.3).

The prompt (prompts.judge_messages) carries the domain's relevance definition and asks for three
steps — query analysis, document analysis, relevance annotation — ending in `<score>N</score>`.
`parse_score` accepts exactly an integer 1–5 inside the tags (the last such tag wins; a closing tag
cut off by the token limit is tolerated). Anything else — no tag, `<score>3.5</score>`, `<score>7`,
an empty reply — is not a score, and a score is never guessed.

Small models often spend the whole token budget on analysis and never reach the tag (SmolLM2-135M:
0 of 102 answers in the quickstart). So, with `judge.score_followup` on (default), every score-less
answer is followed up: the same conversation plus the model's answer plus one short user turn
(prompts.SCORE_FOLLOWUP) asking for only the tag, with `judge.followup_max_tokens` tokens. The
follow-ups run as a second `llm.map` over a chunk's score-less answers, so both backends keep
their batching/concurrency. A record's `status` says where its score came from:

* `ok`: the first answer held the score;
* `followup`: the follow-up reply held it (`rationale` = first answer, `followup` = the reply);
* `unparsable`: neither did (or follow-ups are off): `score: null`, counted, never guessed.

The follow-up reply (only it, never the first answer) is read by `parse_followup_score`: the
`<score>` tag as above, or else — small models answer "The relevant score is 1." rather than the
tag — a reply holding exactly one numeral, a standalone integer 1–5 ("3", "Score: 4"). Zero or
several numerals ("between 2 and 3", "4/5"), a numeral outside 1–5, a decimal, one glued to a
word ("H2O") or a numbered-list marker ("1. Query Analysis: ...") stay null. A `followup` record
says which rule read it in `followup_parse` (`tag` | `number`), counted as `followup_parse_<rule>`.

A record is written only once its final status is known; a request (first or follow-up) that
fails after its retries writes nothing and the pair is judged afresh on the next run, so a killed
run loses and duplicates nothing (an answered but not yet followed-up pair is simply asked again).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reasonembed.io import ResumableJsonlWriter, iter_jsonl
from reasonembed.llm.base import LLM, ChatRequest, SamplingParams
from reasonembed.records import Candidates, Query, validate_record
from reasonembed.remixer.common import (
    RunPaths,
    StageResult,
    domain_spec,
    domain_specs,
    pool_documents,
    require,
    seed_of,
)
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.generate import provenance
from reasonembed.remixer.prompts import JUDGE_PROMPT_VERSION, judge_messages, score_followup_messages

logger = logging.getLogger(__name__)

# Pairs per round (first answers, then their follow-ups): bounds memory and what a kill re-asks.
CHUNK_PAIRS = 2048
_SCORE = re.compile(r"<score>\s*([^<]*?)\s*(?:</score>|\Z)", re.IGNORECASE)
# Every numeral, decimals and digit groups included ("3.5", "1,000" are one numeral each).
_NUMERAL = re.compile(r"\d+(?:[.,]\d+)*")
_SCORES = {"1", "2", "3", "4", "5"}


def parse_score(text: str) -> int | None:
    """The integer 1–5 in the last `<score>` tag, or None when there is none or it is not 1–5."""
    matches = _SCORE.findall(text or "")
    if not matches:
        return None
    value = matches[-1].strip()
    return int(value) if value in _SCORES else None


def parse_followup_score(text: str) -> tuple[int | None, str | None]:
    """(score, rule) for a follow-up reply: the `<score>` tag, else its only numeral if that is a plain 1–5.

    rule is "tag" or "number", or None with score None when the reply states no single score.
    """
    text = text or ""
    score = parse_score(text)
    if score is not None:
        return score, "tag"
    numerals = list(_NUMERAL.finditer(text))
    if len(numerals) != 1:
        return None, None
    match = numerals[0]
    before, after = text[: match.start()], text[match.end() :]
    glued = (before[-1:].isalnum() or before[-1:] in {"_", "-", "+", "."}
             or after[:1].isalnum() or after[:1] == "_")
    line_start = before.rpartition("\n")[2].strip() == ""
    list_marker = line_start and re.match(r"[.)]\s*\S", after.partition("\n")[0]) is not None
    if glued or list_marker or match.group() not in _SCORES:
        return None, None
    return int(match.group()), "number"


@dataclass
class JudgeOutcome:
    """The outcome of judging one pair: status is ok | followup | unparsable | failed."""

    request: ChatRequest
    score: int | None
    status: str
    rationale: str = ""
    followup: str | None = None
    followup_parse: str | None = None
    followup_request: ChatRequest | None = None
    error: str | None = None

    @property
    def key(self) -> Any:
        return self.request.key


def judge_requests(llm: LLM, requests: Iterable[ChatRequest], followup: SamplingParams | None,
                   followup_seed: Callable[[ChatRequest], int | None] | None = None) -> Iterator[JudgeOutcome]:
    """Run judge prompts; an answer without a `<score>` gets one follow-up turn (when `followup` is
    set) asking for the score alone. Used by the judge stage and by LLM reranking.

    Yields one outcome per request, in completion order: first every answer that needs no follow-up
    (and every failed call), then the follow-ups' outcomes. `followup_seed(first_request)` seeds the
    follow-up (default: derived from the first request's seed); it inherits the request's extra fields.
    """
    seed_for = followup_seed or (lambda first: None if first.seed is None else seed_of(first.seed, "followup"))
    pending: dict[Any, tuple[ChatRequest, str]] = {}
    for request, result in llm.map(requests):
        if not result.ok:
            yield JudgeOutcome(request, None, "failed", error=result.error)
            continue
        score = parse_score(result.text)
        if score is None and followup is not None:
            pending[request.key] = (request, result.text)
            continue
        yield JudgeOutcome(request, score, "ok" if score is not None else "unparsable", result.text)
    followups = (
        ChatRequest(key, score_followup_messages(first.messages, answer), followup, seed_for(first), first.extra)
        for key, (first, answer) in pending.items()
    )
    for request, result in llm.map(followups):
        first, answer = pending[request.key]
        if not result.ok:
            yield JudgeOutcome(first, None, "failed", answer, followup_request=request, error=result.error)
            continue
        score, rule = parse_followup_score(result.text)
        status = "followup" if score is not None else "unparsable"
        yield JudgeOutcome(first, score, status, answer, result.text, rule, followup_request=request)


def pair_key(query_id: str, doc_id: str) -> str:
    return f"{query_id}\t{doc_id}"


def run_judge(config: SynthConfig, llm: LLM, queries: str | Path | None = None, candidates: str | Path | None = None,
              corpus: str | Path | None = None, out: str | Path | None = None) -> StageResult:
    """Write `judge/judgements.jsonl` (Judgement contract) for every pair not yet judged."""
    start = time.perf_counter()
    paths = RunPaths.of(config)
    qpath = require(Path(queries) if queries else paths.queries, "generate")
    cpath = require(Path(candidates) if candidates else paths.candidates, "mine")
    docs = pool_documents(config, corpus)
    output = Path(out) if out else paths.judgements
    qs = {q.id: q for q in (validate_record(r, Query, qpath, n) for n, r in iter_jsonl(qpath))}
    specs = domain_specs(config)
    sampling = config.judge.sampling
    pairs: list[tuple[str, str]] = []
    for line, rec in iter_jsonl(cpath):
        cands = validate_record(rec, Candidates, cpath, line)
        if cands.query_id not in qs:
            continue
        limit = config.judge.max_candidates
        for cand in cands.candidates[: limit if limit is not None else None]:
            pairs.append((cands.query_id, cand.doc_id))
    counts: Counter[str] = Counter(pairs=len(pairs))
    followup_sampling = replace(sampling, max_tokens=config.judge.followup_max_tokens)
    with ResumableJsonlWriter(output, key=lambda r: pair_key(r["query_id"], r["doc_id"])) as writer:
        todo = [(q, d) for q, d in dict.fromkeys(pairs) if not writer.done(pair_key(q, d))]
        counts["skipped_done"] = len(pairs) - len(todo)
        with tqdm(total=len(todo), desc="judge") as bar:
            for begin in range(0, len(todo), CHUNK_PAIRS):
                chunk = todo[begin : begin + CHUNK_PAIRS]
                requests = (_first_request(config, qs, docs, specs, sampling, q, d) for q, d in chunk)
                _judge_chunk(config, llm, requests, followup_sampling, writer, counts, bar)
    return StageResult("judge", output, dict(counts), time.perf_counter() - start)


def _first_request(config: SynthConfig, qs: dict[str, Query], docs: dict, specs: dict, sampling: SamplingParams,
                   qid: str, doc_id: str) -> ChatRequest:
    query = qs[qid]
    text = docs[doc_id].text[: config.judge.max_doc_chars]
    messages = judge_messages(domain_spec(config, query.domain, specs), query.query, text)
    return ChatRequest((qid, doc_id), messages, sampling, seed_of(qid, doc_id, "judge"), config.judge.extra_body or None)


def _judge_chunk(config: SynthConfig, llm: LLM, requests: Iterator[ChatRequest], followup_sampling: SamplingParams,
                 writer: ResumableJsonlWriter, counts: Counter[str], bar: tqdm) -> None:
    """First answers for a chunk of pairs; then one follow-up round over the score-less ones."""
    followup = followup_sampling if config.judge.score_followup else None
    for judged in judge_requests(llm, requests, followup, lambda first: seed_of(*first.key, "judge-followup")):
        bar.update()
        if judged.followup_request is not None:
            counts["followup_asked"] += 1
        if judged.status == "failed":
            counts["llm_failed"] += 1
            continue
        if judged.status == "followup":
            counts["followup_scored"] += 1
            counts[f"followup_parse_{judged.followup_parse}"] += 1
        _write(writer, counts, llm, judged)


def _write(writer: ResumableJsonlWriter, counts: Counter[str], llm: LLM, judged: JudgeOutcome) -> None:
    counts["unparsable" if judged.score is None else f"score_{judged.score}"] += 1
    counts[f"status_{judged.status}"] += 1
    request = judged.request
    prov = provenance(llm, request.sampling.to_dict(), request.seed, "judge")
    prov["prompt_version"] = JUDGE_PROMPT_VERSION
    record = {"query_id": request.key[0], "doc_id": request.key[1], "score": judged.score, "status": judged.status,
              "rationale": judged.rationale}
    if judged.followup_request is not None:
        record["followup"] = judged.followup
        if judged.followup_parse is not None:
            record["followup_parse"] = judged.followup_parse
        prov["followup"] = {"sampling": judged.followup_request.sampling.to_dict(), "seed": judged.followup_request.seed}
    record["provenance"] = prov
    writer.write(record)
    counts["written"] += 1
