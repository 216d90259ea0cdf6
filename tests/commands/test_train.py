"""`reasonembed train`: mistakes a user makes end as one `error:` line and exit code 2, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reasonembed.cli import main


def _data(path: Path, rows: int = 8) -> Path:
    record = {"prompt": "Find math.", "query": "q", "reasoning_query": "q, by algebra", "pos": ["p"],
              "neg": ["n1", "n2"], "domain": "math"}
    path.write_text("".join(json.dumps({**record, "query": f"q{i}"}) + "\n" for i in range(rows)))
    return path


def _overrides(data: Path, out: Path, *extra: str) -> list[str]:
    return [f"data.train_files=[{data}]", f"train.output_dir={out}", "data.group_size=2",
            "train.per_device_train_batch_size=2", "train.max_steps=1", *extra]


def _run(monkeypatch, capsys, args: list[str]) -> str:
    monkeypatch.setattr(sys, "argv", ["reasonembed", "train", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_resume_latest_without_a_checkpoint(monkeypatch, capsys, tmp_path):
    data = _data(tmp_path / "t.jsonl")
    out = tmp_path / "out"
    line = _run(monkeypatch, capsys, ["--resume", "latest", *_overrides(data, out)])
    assert "no checkpoint" in line and str(out) in line
    line = _run(monkeypatch, capsys, ["--resume", str(tmp_path / "nope"), *_overrides(data, out)])
    assert "nope" in line and "not" in line


def test_tracker_that_is_not_installed(monkeypatch, capsys, tmp_path):
    try:
        import wandb  # noqa: F401
        pytest.skip("wandb is installed here")
    except ImportError:
        pass
    data = _data(tmp_path / "t.jsonl")
    line = _run(monkeypatch, capsys, [*_overrides(data, tmp_path / "o", "train.report_to=wandb")])
    assert "train.report_to" in line and "wandb" in line and "not installed" in line
    line = _run(monkeypatch, capsys, [*_overrides(data, tmp_path / "o", "train.report_to=[wandbx]")])
    assert "train.report_to" in line and "wandbx" in line and "tensorboard" in line  # lists the known ones


def test_empty_positive(monkeypatch, capsys, tmp_path):
    data = _data(tmp_path / "t.jsonl")
    rows = data.read_text().splitlines()
    record = json.loads(rows[4])
    record["pos"] = [""]
    rows[4] = json.dumps(record)
    data.write_text("\n".join(rows) + "\n")
    line = _run(monkeypatch, capsys, _overrides(data, tmp_path / "o"))
    assert "t.jsonl, line 5, field 'pos'" in line and "empty" in line


def test_resume_latest_finds_the_newest_checkpoint(tmp_path):
    from reasonembed.redapter.trainer import resolve_checkpoint

    for step in (3, 10, 9):
        (tmp_path / f"checkpoint-{step}").mkdir()
    assert resolve_checkpoint("latest", str(tmp_path)) == str(tmp_path / "checkpoint-10")
    assert resolve_checkpoint(str(tmp_path / "checkpoint-3"), str(tmp_path)) == str(tmp_path / "checkpoint-3")
    assert resolve_checkpoint(None, str(tmp_path)) is None
