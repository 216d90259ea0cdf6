from __future__ import annotations

import pytest
import torch
from loss_helpers import L_HAND, LABELS, P, Q, TinyEncoder, batch_features

from reasonembed.losses import InfoNCELoss, infonce_per_sample


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


def _unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(rows, dim, generator=g), dim=-1)


def test_scores_are_fp32_under_bf16_autocast():
    """At tau = 0.02 a bf16 score (8 mantissa bits) moves logits by up to ~0.2; the loss must score in fp32."""
    queries, passages = _unit(16, 64, 0), _unit(64, 64, 1)
    labels = torch.arange(16) * 4
    ref = infonce_per_sample(queries, passages, labels, 0.02)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = infonce_per_sample(queries, passages, labels, 0.02)
        mean = InfoNCELoss(torch.nn.Identity(), 0.02).compute_loss_from_embeddings(
            {"query": queries, "passages": passages}, labels)["loss"]
    assert mixed.dtype == torch.float32
    assert torch.allclose(mixed, ref, rtol=1e-5, atol=1e-6), (mixed - ref).abs().max()
    assert mean.item() == pytest.approx(ref.mean().item(), rel=1e-6)
