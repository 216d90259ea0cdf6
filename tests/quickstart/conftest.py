"""A real local HTTP server speaking the OpenAI chat-completions API with scripted replies.

It is the test double at the external boundary (the LLM endpoint): the quickstart talks to it over
HTTP exactly as it would to vLLM or a hosted API. Replies are well formed and deterministic:

* judge prompts (they ask for `<score>`) get three short analysis steps and a score that depends
  on a hash of the prompt (so some pairs become positives and some hard negatives);
* reasoning prompts get a paragraph of "reasoning";
* domain-filter prompts get "Yes";
* anything else (query generation) gets a new self-contained math problem, different per prompt.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


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


class ScriptedServer:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                prompt = "\n".join(m.get("content", "") for m in body.get("messages", []))
                text = scripted_reply(prompt)
                with outer.lock:
                    outer.calls += 1
                payload = json.dumps({
                    "id": f"cmpl-{outer.calls}", "object": "chat.completion", "model": body.get("model", ""),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()),
                              "total_tokens": len(prompt.split()) + len(text.split())},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_llm():
    with ScriptedServer() as server:
        yield server
