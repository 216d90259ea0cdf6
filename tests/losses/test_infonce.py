from __future__ import annotations

import math

import pytest
import torch

from reasonembed.losses import InfoNCELoss, infonce_per_sample
from tests.losses.conftest import TinyEncoder, batch_features

# 3 queries x 4 passages, 2-d unit vectors; positives are passages 0, 1, 2; tau = 0.5 (scores x 2).
Q = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]
P = [[1.0, 0.0], [0.0, 1.0], [0.8, 0.6], [-1.0, 0.0]]
LABELS = [0, 1, 2]
# Hand-computed: s/tau rows are [2, 0, 1.6, -2], [0, 2, 1.2, 0], [1.2, 1.6, 1.92, -1.2]
# L_i = -s_i+/tau + log sum_j exp(s_ij/tau)
L_HAND = [
    -2.0 + math.log(math.exp(2) + 1 + math.exp(1.6) + math.exp(-2)),  # = log(13.477) - 2 = 0.6010
    -2.0 + math.log(1 + math.exp(2) + math.exp(1.2) + 1),  # = log(12.709) - 2 = 0.5423
    -1.92 + math.log(math.exp(1.2) + math.exp(1.6) + math.exp(1.92) + math.exp(-1.2)),  # = log(15.395) - 1.92 = 0.8141
]


def test_hand_computed_3x4():
    assert L_HAND[0] == pytest.approx(0.6010, abs=1e-4)
    assert L_HAND[1] == pytest.approx(0.5423, abs=1e-4)
    assert L_HAND[2] == pytest.approx(0.8141, abs=1e-4)
    losses = infonce_per_sample(torch.tensor(Q), torch.tensor(P), torch.tensor(LABELS), 0.5)
    assert losses.tolist() == pytest.approx(L_HAND, abs=1e-6)
    loss = InfoNCELoss(torch.nn.Identity(), temperature=0.5)
    out = loss.compute_loss_from_embeddings({"query": torch.tensor(Q), "passages": torch.tensor(P)}, torch.tensor(LABELS))
    assert out["loss"].item() == pytest.approx(sum(L_HAND) / 3, abs=1e-6)
    assert out["infonce"].item() == pytest.approx(sum(L_HAND) / 3, abs=1e-6)


def test_forward_embeds_and_backpropagates():
    model = TinyEncoder()
    features, labels = batch_features(3, 4)
    out = InfoNCELoss(model, temperature=0.02)(features, labels)
    out["loss"].backward()
    assert out["loss"].item() > 0
    assert model.proj.weight.grad is not None and model.proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_bad_temperature_raises(bad):
    with pytest.raises(ValueError, match="temperature"):
        InfoNCELoss(torch.nn.Identity(), temperature=bad)


def test_missing_column_raises():
    with pytest.raises(ValueError, match="passages"):
        InfoNCELoss(TinyEncoder())({"query": {}}, torch.tensor([0]))
