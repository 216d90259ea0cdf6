"""The quickstart's report: rows are picked by role (what they ran), never by display name."""

from __future__ import annotations

import json

import pytest


def _eval(values):
    return {"metrics": {"ndcg@10": sum(values.values()) / len(values)},
            "per_query": {q: {"ndcg@10": v} for q, v in values.items()}}


def test_report_rows_are_picked_by_role_not_by_display_name(tmp_path):
    from reasonembed.errors import RecordError
    from reasonembed.quickstart.summary import results_section, system_role, with_role

    base = {f"q{i}": 0.4 for i in range(20)}
    better = {q: v + 0.2 for q, v in base.items()}
    worse = {q: v - 0.2 for q, v in base.items()}
    systems = {  # names chosen so that no prefix or suffix rule could tell the rows apart
        "reference encoder": {"eval": _eval(base), "train": _eval(base)},
        "lexical": {"eval": _eval(worse)},
        "encoder, prompted": {"eval": _eval(base)},
        "fused": {"eval": _eval(better)},
        "fine-tuned encoder": {"eval": _eval(better), "train": _eval(worse)},
    }
    roles = {"reference encoder": system_role("minilm"), "lexical": system_role("bm25"),
             "encoder, prompted": system_role("minilm", instructed=True),
             "fused": system_role(None, hybrid_of=("reference encoder", "lexical")),
             "fine-tuned encoder": system_role("runs/x/train_remix/model", instructed=True)}
    assert roles == {"reference encoder": "base", "lexical": "lexical", "encoder, prompted": "base+instruction",
                     "fused": "hybrid", "fine-tuned encoder": "trained"}
    assert with_role(roles, "base+instruction", "trained") == ["encoder, prompted", "fine-tuned encoder"]
    with pytest.raises(ValueError, match="unknown role"):
        with_role(roles, "teacher")

    path = tmp_path / "results.json"
    columns = {"eval": {"queries": 20, "documents": 50}, "train": {"queries": 20, "documents": 50}}
    path.write_text(json.dumps({"columns": columns, "systems": systems, "roles": roles}))
    tables, sentences, unseen = results_section(path)
    assert "Difference to reference encoder per query" in tables
    compared = {line.split("**")[1] for line in sentences}
    assert compared == {"encoder, prompted", "fine-tuned encoder"}  # not BM25, not the hybrid, not the base
    assert len(unseen) == 1 and unseen[0].startswith("- **fine-tuned encoder** on the eval part: unseen theorems")
    assert "improved" in unseen[0]

    path.write_text(json.dumps({"columns": columns, "systems": systems}))  # an older evaluate stage: no roles
    with pytest.raises(RecordError, match="roles"):
        results_section(path)
    for bad in ({**roles, "lexical": "teacher"}, {**roles, "lexical": "base"}):
        path.write_text(json.dumps({"columns": columns, "systems": systems, "roles": bad}))
        with pytest.raises(RecordError, match="exactly one 'base'"):
            results_section(path)
