"""The judge audit grades the judge at the score ReMixer's assemble stage turns into a positive."""

from __future__ import annotations

import json

from reasonembed.io import write_jsonl
from reasonembed.remixer.audit import audit_dataset
from reasonembed.remixer.config import AssembleConfig, SynthConfig


def test_audit_threshold_follows_remixers_positive_threshold(tmp_path):
    data = tmp_path / "set"
    write_jsonl(data / "documents.jsonl", [{"id": f"d{i}", "content": f"document {i}"} for i in range(6)])
    write_jsonl(data / "examples.jsonl", [{"id": f"q{i}", "query": f"question {i}", "gold_ids": [f"d{i}"],
                                          "excluded_ids": []} for i in range(3)])
    # every pair scored 3: a positive when ReMixer keeps >= 3, a negative when it keeps only >= 4
    judged = tmp_path / "judgements.jsonl"
    write_jsonl(judged, [{"query_id": f"q{q}", "doc_id": f"d{d}", "score": 3} for q in range(3) for d in range(6)])

    default = audit_dataset(SynthConfig(), data, tmp_path / "a", judgements=judged, max_queries=3)
    assert default.threshold == 3 and default.confusion[0][1] == 3  # every non-gold pair judged relevant

    strict = SynthConfig(assemble=AssembleConfig(pos_min_score=4))
    result = audit_dataset(strict, data, tmp_path / "b", judgements=judged, max_queries=3)
    assert result.threshold == 4 and result.confusion[1][1] == 0  # no pair reaches 4
    assert json.loads((tmp_path / "b" / "audit.json").read_text())["threshold"] == 4
    assert audit_dataset(strict, data, tmp_path / "c", judgements=judged, max_queries=3, threshold=2).threshold == 2
