"""The quickstart's stages, wired to the project's modules, in the order they run.

    prepare  → synth/{clean,generate,mine,judge,reason,assemble} → audit
             → train_gold, train_remix → evaluate → index → report

Every stage calls the real module that owns the work (ReMixer's six stages from
`remixer.pipeline.synth_stages`, Redapter's trainer, the evaluation runner, the index builder); this
file only decides the sizes, the paths and the order. `reasonembed.stages.Pipeline` (the orchestrator
`reasonembed synth` uses too) gives progress, time-left estimates and reuse of finished stages. The LLM is built once, lazily, so a second run that reuses every LLM stage never
loads it.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from reasonembed.io import read_jsonl, write_json, write_jsonl
from reasonembed.quickstart.config import QuickstartConfig
from reasonembed.redapter.config import resolved_dict
from reasonembed.stages import Pipeline, Stage

DOMAIN = "theoremqa_questions"
# EntailmentBank has no BRIGHT instruction; worded like BRIGHT's, for the models trained with instructions.
EB_INSTRUCTION = "Given a science question, retrieve the facts that help answer the question."


class QuickstartRun:
    def __init__(self, config: QuickstartConfig, log: Any = None):
        from reasonembed.remixer.pipeline import LazyLLMs
        from reasonembed.remixer.prompts import BRIGHT_DOMAINS

        self.cfg = config
        self.root = Path(config.out)
        self.log = log
        self.spec = BRIGHT_DOMAINS[DOMAIN]
        # `synth` completed with what the quickstart decides: its folders, the seed, the LLM, decontamination.
        self.synth = replace(config.synth, corpus=str(self.data / "train" / "documents.jsonl"),
                             run_dir=str(self.root / "synth"), domain=DOMAIN, seed=config.seed, llm=config.llm,
                             clean=replace(config.synth.clean, decontaminate=[str(self.data / "eval")]))
        self.llms = LazyLLMs(self.synth)  # built on first use, so a fully reused run never loads one

    # ------------------------------------------------------------------ shared pieces
    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def judge_llm(self) -> Any:
        """The synthesis run's judge (`synth.judge_llm`, else `llm`): the audit grades this one."""
        return self.llms.get("judge")

    # ------------------------------------------------------------------ stages
    def prepare(self, folder: Path) -> dict[str, Any]:
        from reasonembed.data import bundled_dataset
        from reasonembed.evaluation.split import split_by_theorem

        source = bundled_dataset("theoremqa_q_dev")
        copy = folder / "theoremqa_q_dev"
        shutil.copytree(source, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        summary = split_by_theorem(copy, folder, self.cfg.split.eval_fraction, self.cfg.seed).to_dict()
        return {k: v for k, v in summary.items() if k != "theorems"} | {
            "theorems": {k: len(v) for k, v in summary["theorems"].items()}}

    def audit(self, folder: Path) -> dict[str, Any]:
        from reasonembed.quickstart.audit_stage import run_audit

        return run_audit(self, folder)

    def train(self, which: str) -> Any:
        def run(folder: Path) -> dict[str, Any]:
            from reasonembed.quickstart.training import train_model
            from reasonembed.redapter.diagnostics import per_sample_ri
            from reasonembed.redapter.gold import gold_samples

            t, r = self.cfg.train, self.cfg.redapter
            if which == "gold":
                samples = gold_samples(self.data / "train", self.spec.instruction, t.gold_negatives)[:t.gold_max_queries]
                path = folder / "samples.jsonl"
                write_jsonl(path, samples)
                return train_model(path, folder, r, "infonce", self.spec.instruction, self.cfg.seed)
            path = self.root / "synth" / "assemble" / "train.jsonl"
            samples = read_jsonl(path)
            if len(samples) < t.min_samples:
                return {"skipped": True, "samples": len(samples),
                        "reason": f"only {len(samples)} assembled samples (< train.min_samples = {t.min_samples})"}
            out = train_model(path, folder, r, "ri_infonce", self.spec.instruction, self.cfg.seed)
            ri = {name: per_sample_ri(model, samples, r.data.group_size, out["batch_size"], r.loss.temperature,
                                      r.loss.kappa, self.cfg.seed)
                  for name, model in (("base model", None), ("trained", out["model_dir"]))}
            return out | {"ri_per_sample": ri}
        return run

    def evaluate(self, folder: Path) -> dict[str, Any]:
        from reasonembed.data import entailmentbank_facts_dev
        from reasonembed.evaluation.compare import System, evaluate_systems
        from reasonembed.evaluation.datasets import load_eval_dataset
        from reasonembed.quickstart.summary import system_role

        e = self.cfg.eval
        columns = {"eval": load_eval_dataset(self.data / "eval"), "train": load_eval_dataset(self.data / "train")}
        if e.entailmentbank:
            columns["entailmentbank"] = load_eval_dataset(entailmentbank_facts_dev()).subsample(
                e.entailmentbank_queries, e.entailmentbank_docs, self.cfg.seed)
        instructions = {"eval": self.spec.instruction, "train": self.spec.instruction, "entailmentbank": EB_INSTRUCTION}
        systems = [System("BM25", "bm25"), System("MiniLM (base)", "minilm"),
                   System("MiniLM (base) + instruction", "minilm", True),
                   System(f"hybrid BM25 + MiniLM ({e.fusion})", hybrid_of=("MiniLM (base)", "BM25"))]
        for which, label in (("remix", "MiniLM + ReMixer data (RI-InfoNCE)"), ("gold", "MiniLM + gold pairs (InfoNCE)")):
            model_dir = self.root / f"train_{which}" / "model"
            if model_dir.exists():
                systems.append(System(label, str(model_dir), True))
        results = evaluate_systems(systems, columns, folder / "embedding-cache", instructions, e.fusion,
                                   batch_size=e.batch_size, log=self.log)
        columns_info = {c: {"source": t.source, "queries": len(t.query_ids), "documents": len(t.doc_ids)}
                        for c, d in columns.items() for t in d.tasks.values()}
        write_json(folder / "results.json", {"columns": columns_info, "systems": results,
                                             "roles": {s.name: system_role(s.model, s.instructed, s.hybrid_of) for s in systems}})
        return {"columns": columns_info, "systems": [s.name for s in systems],
                "ndcg@10": {s: {c: r["metrics"]["ndcg@10"] for c, r in per.items()} for s, per in results.items()}}

    def index(self, folder: Path) -> dict[str, Any]:
        from reasonembed.data import theoremqa_q_dev
        from reasonembed.embedder import Embedder
        from reasonembed.index.build import build_index

        for which in ("remix", "gold"):
            model_dir = self.root / f"train_{which}" / "model"
            if model_dir.exists():
                break
        else:
            return {"skipped": True, "reason": "no trained model"}
        embedder = Embedder(str(model_dir))
        manifest = folder / "manifest.json"
        if manifest.exists() and json.loads(manifest.read_text()).get("fingerprint") != embedder.fingerprint:
            shutil.rmtree(folder)  # a resumed stage whose model changed (e.g. another package version): rebuild
            folder.mkdir()
        report = build_index(theoremqa_q_dev() / "documents.jsonl", folder, embedder,
                             instruction=self.spec.instruction, bm25=True, show_progress=True)
        return {"model": str(model_dir), "which": which, "index": str(folder), "count": report.count,
                "serve": f"reasonembed serve --index {folder}"}

    def report(self, folder: Path) -> dict[str, Any]:
        from reasonembed.quickstart.summary import write_quickstart_report

        path = write_quickstart_report(self, self.pipeline.outcomes)
        return {"report": str(path)}

    # ------------------------------------------------------------------ the pipeline
    def build(self) -> Pipeline:
        from reasonembed.remixer.pipeline import llm_identity, synth_stages

        c, s = self.cfg, self.synth
        judge_id = llm_identity(s.judge_llm or s.llm)
        n_docs, n_cand = s.generate.max_docs_per_domain, s.mine.top_k
        per_call = {"local": 2.3, "openai": 0.05}[c.llm.backend]  # s per call at these token limits (2 cores, batch 8)
        est_load = 20.0 if c.llm.backend == "local" else 0.0
        audit_calls = c.audit.queries * (c.audit.pos_per_query + c.audit.neg_per_query)
        eb = (c.eval.entailmentbank_docs or 11518) if c.eval.entailmentbank else 0
        train_key = {"train": asdict(c.train), "redapter": resolved_dict(c.redapter)}
        stages = [
            Stage("prepare", self.prepare, {"seed": c.seed, "split": asdict(c.split)}, [], 2, "cpu", "copy and split the corpus", "data"),
            *synth_stages(s, self.llms, prefix="synth_", after=["prepare"], estimates={
                "clean": 3, "generate": est_load + n_docs * per_call * 1.3, "mine": 15, "judge": n_docs * n_cand * per_call,
                "reason": n_docs * per_call, "assemble": 1}),
            Stage("audit", self.audit, {"llm": judge_id, "audit": asdict(c.audit), "judge": asdict(s.judge),
                                        "threshold": s.assemble.pos_min_score},
                  ["prepare", "synth_judge"], audit_calls * per_call, "llm", "judge vs gold labels"),
            Stage("train_gold", self.train("gold"), train_key, ["prepare"], 40, "cpu",
                  "MiniLM on gold pairs", "train_gold"),
            Stage("train_remix", self.train("remix"), train_key, ["synth_assemble"], 60, "cpu",
                  "MiniLM on ReMixer samples", "train_remix"),
            Stage("evaluate", self.evaluate, {"eval": asdict(c.eval)}, ["train_gold", "train_remix"],
                  20 + 0.012 * eb * 3, "cpu", "score every system"),
            Stage("index", self.index, {"index": c.index}, ["train_gold", "train_remix"], 15, "cpu",
                  "index for `reasonembed serve`"),
            Stage("report", self.report, {"always": time.time()}, ["evaluate", "audit", "index"], 5,  # rebuilt every run
                  "cpu", "write report.md"),
        ]
        if not c.index:
            stages = [st for st in stages if st.name != "index"]
            stages[-1].depends = ["evaluate", "audit"]
        self.pipeline = Pipeline(self.root, stages, log=self.log)
        return self.pipeline

    def run(self) -> dict[str, Any]:
        import torch

        if self.cfg.threads:
            torch.set_num_threads(self.cfg.threads)
        try:
            return self.build().run()
        finally:
            self.llms.close()
