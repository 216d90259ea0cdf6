"""HTTP serving: OpenAI-compatible /v1/embeddings, /search over an index, /healthz and a search page."""

from reasonembed.serve.app import create_app
from reasonembed.serve.schemas import ServeLimits

__all__ = ["ServeLimits", "create_app"]
