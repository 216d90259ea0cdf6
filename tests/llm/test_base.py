from __future__ import annotations

from reasonembed.llm.base import ChatResult, LLMAccounting, strip_think


def test_strip_think_variants():
    assert strip_think("<think>a\nb</think>\n\nfinal") == "final"
    assert strip_think("reasoning the server left open</think>final") == "final"
    assert strip_think("<THINK>x</THINK>y<think>z</think>w") == "yw"
    assert strip_think("<think>never closed, all thought") == ""
    assert strip_think("plain answer") == "plain answer"


def test_accounting_dump_writes_deltas(tmp_path):
    acc = LLMAccounting(price_per_1k_prompt=1.0, price_per_1k_completion=2.0)
    acc.record(ChatResult("a", prompt_tokens=1000, completion_tokens=500, retries=1))
    before = acc.snapshot()
    acc.record(ChatResult(error="timeout: ReadTimeout", retries=3))
    acc.record(ChatResult("b", prompt_tokens=2000, completion_tokens=0))
    line = acc.dump(tmp_path / "acc.jsonl", "judge", "m", 1.5, since=before)
    assert line["calls"] == 2 and line["failed"] == 1 and line["retries"] == 3
    assert line["prompt_tokens"] == 2000 and line["cost"] == 2.0 and line["errors"] == {"timeout": 1}
    assert acc.snapshot()["cost"] == 4.0
    assert (tmp_path / "acc.jsonl").read_text().count("\n") == 1
