from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # openai_server.py, shared with tests/remixer

from openai_server import scripted_openai_server  # noqa: E402,F401 - the shared fixture
