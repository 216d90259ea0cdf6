"""ReMixer: data synthesis from any corpus and any LLM to ReasonEmbed training samples.

Stages (one module each, each a resumable JSONL stage with a `run_*` function returning StageResult):
clean → generate → mine → judge → reason → assemble, plus stats. See `pipeline.py` for the Python
API and `reasonembed synth --help` for the command line.
"""
