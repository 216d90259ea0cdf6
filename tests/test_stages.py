"""The stage runner: done-markers, reuse, downstream invalidation, resume and time-left lines."""

from __future__ import annotations

import pytest

from reasonembed.stages import Pipeline, Stage


def _stages(calls, cfg_a=1, fail_b=False):
    def a(folder):
        calls.append("a")
        (folder / "out.txt").write_text(str(cfg_a))
        return {"value": cfg_a}

    def b(folder):
        calls.append("b")
        marker = folder / "partial.txt"
        seen = marker.exists()
        marker.write_text("x")
        if fail_b:
            raise KeyboardInterrupt  # a user pressing Ctrl-C mid-stage
        return {"resumed": seen}

    return [Stage("a", a, config={"v": cfg_a}, estimate_s=2, kind="cpu"),
            Stage("b", b, config={}, depends=["a"], estimate_s=4, kind="llm")]


def test_second_run_reuses_and_config_change_invalidates_downstream(tmp_path):
    calls, log = [], []
    out = Pipeline(tmp_path, _stages(calls), log=log.append).run()
    assert calls == ["a", "b"] and not out["a"].reused
    assert any("left" in line for line in log) and any("[2/2] b" in line for line in log)

    calls.clear()
    out = Pipeline(tmp_path, _stages(calls), log=log.append).run()
    assert calls == [] and out["a"].reused and out["b"].summary == {"resumed": False}

    calls.clear()
    Pipeline(tmp_path, _stages(calls, cfg_a=2), log=log.append).run()
    assert calls == ["a", "b"]  # b depends on a: a's new key invalidates it
    assert (tmp_path / "a" / "out.txt").read_text() == "2"


def test_interrupted_stage_resumes_in_its_folder_but_stale_folder_is_wiped(tmp_path):
    calls = []
    with pytest.raises(KeyboardInterrupt):
        Pipeline(tmp_path, _stages(calls, fail_b=True), log=lambda m: None).run()
    out = Pipeline(tmp_path, _stages(calls), log=lambda m: None).run()
    assert out["b"].summary == {"resumed": True}  # same key: partial output kept for the resume

    with pytest.raises(KeyboardInterrupt):
        Pipeline(tmp_path, _stages(calls, cfg_a=3, fail_b=True), log=lambda m: None).run()
    out = Pipeline(tmp_path, _stages(calls, cfg_a=4), log=lambda m: None).run()
    assert out["b"].summary == {"resumed": False}  # key changed: the stale partial folder was removed


def test_bad_dependency_order_is_refused(tmp_path):
    with pytest.raises(ValueError, match="depends on"):
        Pipeline(tmp_path, [Stage("x", lambda f: {}, depends=["y"]), Stage("y", lambda f: {})])


def test_time_left_is_calibrated_per_kind():
    import time as _time

    def slow(folder):
        _time.sleep(0.05)
        return {}

    stages = [Stage("a", slow, estimate_s=40, kind="llm"), Stage("b", slow, estimate_s=100, kind="llm"),
              Stage("c", slow, estimate_s=7, kind="cpu")]
    p = Pipeline("/tmp/unused-never-created", stages, log=lambda m: None)
    # "llm" ran 4x faster than estimated over >= 30 s of estimates: its remaining stage shrinks; "cpu" stays
    assert p._time_left(1, {"llm": 10.0}, {"llm": 40.0}) == 100 * 0.25 + 7
    assert p._time_left(1, {"llm": 1.0}, {"llm": 5.0}) == 100 + 7  # too little evidence: keep the estimate


def test_input_content_is_part_of_the_key_and_stale_output_is_set_aside(tmp_path):
    source = tmp_path / "corpus.txt"
    source.write_text("v1")
    calls = []

    def a(folder):
        calls.append(source.read_text())
        (folder / "out.txt").write_text(source.read_text())
        return {}

    def pipeline():
        return Pipeline(tmp_path / "run", [Stage("a", a, inputs=[str(source)])], log=lambda m: None)

    pipeline().run()
    pipeline().run()
    assert calls == ["v1"]
    source.write_text("v2")  # same path, new content: rebuilt
    pipeline().run()
    assert calls == ["v1", "v2"] and (tmp_path / "run" / "a" / "out.txt").read_text() == "v2"
    assert (tmp_path / "run" / ".stale" / "a" / "out.txt").read_text() == "v1"  # kept aside, not mixed in


def test_running_one_stage_needs_its_upstream_done_under_the_current_key(tmp_path):
    from reasonembed.errors import ConfigError

    calls = []
    with pytest.raises(ConfigError, match="stage 'a' has no output"):
        Pipeline(tmp_path, _stages(calls), log=lambda m: None).run(only=["b"])
    Pipeline(tmp_path, _stages(calls), log=lambda m: None).run(only=["a"])
    out = Pipeline(tmp_path, _stages(calls), log=lambda m: None).run(only=["b"])
    assert calls == ["a", "b"] and out["a"].reused and not out["b"].reused
    with pytest.raises(ConfigError, match="stage 'a' has no output"):  # a's config changed since
        Pipeline(tmp_path, _stages(calls, cfg_a=5), log=lambda m: None).run(only=["b"])
