"""`reasonembed synth audit` scores judgement records against gold labels."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reasonembed.cli import app


def test_synth_audit_perfect_judge_scores_kappa_one(shared_data, tmp_path):
    dataset = shared_data / "theoremqa_q_dev"
    out = tmp_path / "audit"
    judgements = tmp_path / "judgements.jsonl"
    judgements.write_text("")
    runner = CliRunner()
    args = ["synth", "audit", "--dataset", str(dataset), "--out", str(out), "--judgements", str(judgements)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    pairs = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert {p["relevant"] for p in pairs} == {True, False}
    with judgements.open("w") as handle:
        for p in pairs:
            score = 5 if p["relevant"] else 1
            handle.write(json.dumps({"query_id": p["query_id"], "doc_id": p["doc_id"], "score": score}) + "\n")
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    audit = json.loads((out / "audit.json").read_text())
    assert audit["accuracy"] == 1.0 and abs(audit["kappa"] - 1.0) < 1e-9
    assert (out / "judge_audit.png").exists()
