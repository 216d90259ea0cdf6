"""The eval run end to end: artefacts, manifest, instructions, CLI, and the dev-set reference scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasonembed.cli import app
from reasonembed.errors import ConfigError
from reasonembed.evaluation.benchmarks import BRIGHT_INSTRUCTIONS
from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.runner import evaluate, resolve_instructions


def test_bm25_run_writes_results_markdown_and_trec(tiny_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = evaluate("bm25", tiny_task, out_dir=out)
    saved = json.loads((out / "results.json").read_text())
    assert saved["average"] == pytest.approx(results["average"])
    task = saved["tasks"]["tiny"]
    assert set(task["per_query"]) == {"q1", "q2", "q3", "q4"} and task["num_documents"] == 10
    assert task["per_query"]["q2"]["ndcg@10"] == 1.0  # d08 first once d03 is excluded
    manifest = saved["manifest"]
    assert manifest["model"]["variant"] == "classic" and manifest["dataset"]["revision"].startswith("sha256:")
    assert manifest["query_variant"] == "examples" and manifest["package_version"]
    lines = (out / "runs" / "tiny.trec").read_text().splitlines()
    assert lines[0].split()[:4] == ["q1", "Q0", lines[0].split()[2], "1"]
    assert not any(line.startswith("q2 ") and " d03 " in line for line in lines)  # excluded never in the run
    assert "| tiny | 4 |" in (out / "results.md").read_text()


def test_instruction_resolution(tmp_path: Path, task_factory) -> None:
    task_factory(tmp_path / "root" / "biology")
    task_factory(tmp_path / "root" / "mydomain")
    ds = load_eval_dataset(tmp_path / "root", benchmark="bright")
    assert resolve_instructions("auto", ds) == {"biology": BRIGHT_INSTRUCTIONS["biology"], "mydomain": None}
    assert resolve_instructions("auto", ds, "Saved one")["mydomain"] == "Saved one"
    assert resolve_instructions(None, ds) == {"biology": None, "mydomain": None}
    assert set(resolve_instructions("Find it.", ds).values()) == {"Find it."}
    assert resolve_instructions({"biology": "B"}, ds) == {"biology": "B", "mydomain": None}


def test_a_folder_is_bright_only_when_the_user_says_so(tmp_path: Path, task_factory) -> None:
    task_factory(tmp_path / "root" / "biology")
    plain = load_eval_dataset(tmp_path / "root")
    assert plain.benchmark == "local"
    assert resolve_instructions("auto", plain) == {"biology": None}  # not by folder name
    assert evaluate("bm25", plain)["groups"] == {}
    told = load_eval_dataset(tmp_path / "root", benchmark="bright")
    assert told.benchmark == "bright"
    assert resolve_instructions("auto", told) == {"biology": BRIGHT_INSTRUCTIONS["biology"]}


def test_bright_instructions_wording() -> None:
    assert len(BRIGHT_INSTRUCTIONS) == 12
    assert BRIGHT_INSTRUCTIONS["earth_science"] == (
        "Given an Earth Science post, retrieve relevant passages that help answer the post."
    )
    assert BRIGHT_INSTRUCTIONS["theoremqa_theorems"] == (
        "Given a Math problem, retrieve relevant theorems that help answer the problem."
    )


def test_cli_eval_and_errors(tiny_task: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app, ["eval", "--model", "bm25q", "--dataset", str(tiny_task), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "results.json").exists() and "average" in res.output
    res = runner.invoke(
        app,
        [
            "eval",
            "--model",
            "bm25",
            "--dataset",
            str(tiny_task),
            "--out",
            str(tmp_path / "o"),
            "--instruction",
            "x",
            "--no-instruction",
        ],
    )
    assert res.exit_code != 0


def test_cli_reports_bad_records_with_file_and_line(tmp_path: Path, task_factory, fixture_records) -> None:
    import subprocess
    import sys

    docs, examples = fixture_records
    folder = task_factory(tmp_path / "bad", docs, [dict(examples[0], gold_ids=["nope"])])
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from reasonembed.cli import main; main()",
            "eval",
            "--model",
            "bm25",
            "--dataset",
            str(folder),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "examples.jsonl, line 1, field 'gold_ids'" in proc.stderr


def test_dev_set_bm25_reference(shared_data: Path) -> None:
    """Reference: rank_bm25 Okapi on lower-cased \\w+ tokens, BRIGHT exclusion rule = 35.7 nDCG@10."""
    results = evaluate("bm25", shared_data / "theoremqa_q_dev")
    assert 100 * results["average"]["ndcg@10"] == pytest.approx(35.7, abs=1.0)


def test_dev_set_minilm_reference(shared_data: Path, minilm_path: str) -> None:
    """Reference: all-MiniLM-L6-v2 without instruction = 49.31 nDCG@10 (independent scorer)."""
    results = evaluate(minilm_path, shared_data / "theoremqa_q_dev", instruction=None)
    assert 100 * results["average"]["ndcg@10"] == pytest.approx(49.3, abs=0.3)


def test_preloaded_dataset_is_reused_and_checked(tmp_path: Path, task_factory) -> None:
    task_factory(tmp_path / "root" / "alpha")
    task_factory(tmp_path / "root" / "beta")
    ds = load_eval_dataset(tmp_path / "root")
    results = evaluate("bm25", ds, tasks=["beta"])
    assert list(results["tasks"]) == ["beta"] and results["manifest"]["dataset"]["tasks"] == ["beta"]
    assert results["average"] == results["tasks"]["beta"]["metrics"]
    with pytest.raises(ConfigError, match="query variant"):
        evaluate("bm25", ds, query_variant="gpt4_reason")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "give exactly one of --model and --rescore"),
        (["--model", "bm25", "--rescore", "x.trec"], "give exactly one of --model and --rescore"),
        (["--model", "bm25", "--benchmark", "trec-covid"], "unknown benchmark 'trec-covid'"),
        (["--model", "bm25", "--hybrid", "bm25q", "--fusion", "max"], "fusion must be one of rrf, score"),
    ],
)
def test_cli_rejects_bad_system_options_with_a_clear_error(tiny_task: Path, tmp_path: Path, args, words) -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "from reasonembed.cli import main; main()", "eval", *args,
           "--dataset", str(tiny_task), "--out", str(tmp_path / "o")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and f"error: {words}" in proc.stderr and "Traceback" not in proc.stderr
