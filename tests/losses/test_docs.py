"""The runnable `Example` sections of the loss docstrings run and print what they show."""

from __future__ import annotations

import doctest

import pytest

import reasonembed.losses.infonce as infonce
import reasonembed.losses.ri_infonce as ri_infonce


@pytest.mark.parametrize("module", [infonce, ri_infonce])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_citation_is_bibtex():
    assert infonce.InfoNCELoss(None, 0.02).citation.startswith("@article{chen2025reasonembed")
