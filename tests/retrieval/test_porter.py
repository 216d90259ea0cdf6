"""Lucene's Porter stemmer: Martin Porter's C release, not the 1980 paper (PyStemmer, NLTK ORIGINAL)."""

from __future__ import annotations

import pytest

from reasonembed.retrieval.porter import porter_stem


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        # the three departures from the paper, as Lucene's PorterStemFilter outputs them
        ("os", "os"),  # one- and two-letter words stay
        ("ds", "ds"),
        ("possibly", "possibl"),  # -bli -> -ble (paper: -abli -> -able)
        ("assembly", "assembl"),
        ("technology", "technolog"),  # -logi -> -log
        ("technologies", "technolog"),
        # the paper's own examples, one per step
        ("caresses", "caress"),
        ("ponies", "poni"),
        ("agreed", "agre"),
        ("hopping", "hop"),
        ("filing", "file"),
        ("happy", "happi"),
        ("relational", "relat"),
        ("generalization", "gener"),
        ("triplicate", "triplic"),
        ("adjustment", "adjust"),
        ("adoption", "adopt"),
        ("controll", "control"),
        ("rate", "rate"),
        # non-letters are consonants, as in Lucene
        ("i.e", "i."),
        ("3.14s", "3.14"),
        # Lucene counts UTF-16 code units: "𝑥s" is three long there, so it is stemmed
        ("𝑥s", "𝑥"),
        ("𝑥ies", "𝑥i"),
    ],
)
def test_stems_as_lucene(word: str, stem: str) -> None:
    assert porter_stem(word) == stem
