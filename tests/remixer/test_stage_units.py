from __future__ import annotations

from collections import Counter

import pytest

from reasonembed.remixer.assemble import split_judged
from reasonembed.remixer.config import AssembleConfig, GenerateConfig
from reasonembed.remixer.generate import conditions, postprocess, query_id, rejection_reason
from reasonembed.remixer.judge import parse_score
from reasonembed.remixer.mine import select_candidates

DOC = "Let f be continuous on [a, b] and differentiable on (a, b). Then there is c with f'(c) = (f(b) - f(a)) / (b - a)."


@pytest.mark.parametrize("text,expected", [
    ("Analysis ... <score>4</score>", 4),
    ("<score> 2 </score>", 2),
    ("first <score>1</score> then revised <score>5</score>", 5),
    ("cut off by the token limit <score>3", 3),
    ("Score: 4", None),
    ("<score>3.5</score>", None),
    ("<score>7</score>", None),
    ("<score>four</score>", None),
    ("", None),
])
def test_parse_score_never_guesses(text, expected):
    assert parse_score(text) == expected


def test_conditions_are_deterministic_per_record_and_follow_the_weights():
    cfg = GenerateConfig()
    assert conditions("q-abc", cfg) == conditions("q-abc", cfg)
    draws = [conditions(query_id(f"d{i}", 42), cfg) for i in range(3000)]
    length = Counter(d["length"] for d in draws)
    education = Counter(d["education"] for d in draws)
    assert abs(length["200 to 300 words"] / 3000 - 3 / 12) < 0.03
    assert abs(length["less than 100 words"] / 3000 - 1 / 12) < 0.02
    assert abs(education["high school"] / 3000 - 1 / 5) < 0.03
    assert query_id("d1", 42) != query_id("d1", 43)


@pytest.mark.parametrize("query,reason", [
    ("", "empty"),
    ("Why?", "too_short"),
    ("Using the passage, explain when a derivative equals the average slope of a function.", "refers_to_source"),
    ("Based on the given theorem, find c for f(x) = x^2 on [0, 2].", "refers_to_source"),
    ("Then there is c with f'(c) = (f(b) - f(a)) / (b - a).", "copies_source"),
    (DOC.upper(), "copies_source"),
    ("A car travels 120 km in 2 hours. Show that at some instant its speedometer read exactly 60 km/h.", None),
])
def test_rejection_reasons(query, reason):
    assert rejection_reason(query, DOC, GenerateConfig()) == reason


def test_postprocess_strips_labels_quotes_and_fences():
    assert postprocess('"Query: What is x?"') == "Query: What is x?"
    assert postprocess("Query: \"What is x?\"") == "What is x?"
    assert postprocess("```\nWhat is x?\n```") == "What is x?"


def test_select_candidates_removes_source_and_query_copies():
    hits = [("src", 0.99), ("copy", 0.98), ("a", 0.5), ("b", 0.4), ("c", 0.3)]
    norm = {"src": "source text", "copy": "the query", "a": "a", "b": "b", "c": "c"}
    out = select_candidates(hits, "src", "the query", norm, top_k=2)
    assert [c["doc_id"] for c in out] == ["a", "b"]


def test_split_judged_thresholds_and_order():
    judged = [("p5", 5, 0.1), ("p3", 3, 0.9), ("p4", 4, 0.5), ("n1", 1, 0.2), ("n2", 2, 0.8)]
    pos, neg = split_judged(judged, AssembleConfig())
    assert [p[0] for p in pos] == ["p5", "p4", "p3"] and [n[0] for n in neg] == ["n2", "n1"]
    pos, neg = split_judged(judged, AssembleConfig(pos_min_score=4, neg_max_score=1, max_neg=1))
    assert [p[0] for p in pos] == ["p5", "p4"] and [n[0] for n in neg] == ["n1"]
