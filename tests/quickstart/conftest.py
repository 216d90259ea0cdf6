"""The quickstart's LLM: the suite's one scripted OpenAI-compatible server (tests/llm/openai_server.py)
with the quickstart's replies.

The quickstart talks to it over HTTP exactly as it would to vLLM or a hosted API. Replies are well
formed and deterministic:

* judge prompts (they ask for `<score>`) get three short analysis steps and a score that depends
  on a hash of the prompt (so some pairs become positives and some hard negatives);
* reasoning prompts get a paragraph of "reasoning";
* domain-filter prompts get "Yes";
* anything else (query generation) gets a new self-contained math problem, different per prompt.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "llm"))  # openai_server.py

from openai_server import Reply, completion, scripted_openai_server  # noqa: E402,F401 - the shared fixture


def scripted_reply(prompt: str) -> str:
    h = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
    if "<score>" in prompt:
        score = (4, 1, 5, 2, 3, 1)[h % 6]
        return ("1. Query Analysis: the problem needs a specific theorem.\n"
                "2. Document Analysis: the document uses a related method.\n"
                f"3. Relevance Annotation: judged on the theorem used. <score>{score}</score>")
    if "Identify the essential problem" in prompt:
        return ("The essential problem is to find the right theorem. Relevant knowledge: limits of series, "
                "telescoping sums, and the conditions under which a series converges.")
    if "Answer with a single word: Yes or No" in prompt:
        return "Yes"
    a, b, c = 2 + h % 7, 3 + (h >> 8) % 11, 4 + (h >> 16) % 9
    return (f"A particle moves along a straight line with velocity v(t) = {a}t^2 - {b}t metres per second. "
            f"Find the total distance it travels between t = 0 and t = {c} seconds, and state which result "
            "from calculus justifies splitting the integral where the velocity changes sign.")


def _script(body: dict, n: int) -> Reply:
    prompt = "\n".join(m.get("content", "") for m in body.get("messages", []))
    text = scripted_reply(prompt)
    return Reply(body=completion(text, len(prompt.split()), len(text.split())))


@pytest.fixture
def scripted_llm(scripted_openai_server):  # noqa: F811 - the fixture imported above
    return scripted_openai_server(_script)
