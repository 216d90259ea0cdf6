from __future__ import annotations

import math

import pytest
import torch
from loss_helpers import L_HAND, LABELS, P, Q, TinyEncoder, batch_features

from reasonembed.losses import InfoNCELoss, RIInfoNCELoss

# q' for the 3x4 example: q'_1 = q_1 (ratio 1), q'_2 and q'_3 point straight at their positives.
QR = [[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]]
# s'/tau rows: [2, 0, 1.6, -2] (= row 1), [0, 2, 1.2, 0] (= row 2), [1.6, 1.2, 2.0, -1.6]
LR_HAND = [
    L_HAND[0],
    L_HAND[1],
    -2.0 + math.log(math.exp(1.6) + math.exp(1.2) + math.exp(2.0) + math.exp(-1.6)),  # = log(15.864) - 2 = 0.7641
]


def _embeddings(qr=QR):
    return {"query": torch.tensor(Q), "passages": torch.tensor(P), "reasoning_query": torch.tensor(qr)}


def test_hand_computed_3x4():
    assert LR_HAND[2] == pytest.approx(0.7641, abs=1e-4)
    loss = RIInfoNCELoss(torch.nn.Identity(), temperature=0.5, kappa=5.0, warmup_steps=0, eps=0.0)
    out = loss.compute_loss_from_embeddings(_embeddings(), torch.tensor(LABELS))
    ri = [L_HAND[i] / LR_HAND[i] for i in range(3)]  # [1, 1, 0.8141 / 0.7641 = 1.0654]
    w = [r / sum(ri) for r in ri]
    assert out["loss"].item() == pytest.approx(sum(wi * li for wi, li in zip(w, L_HAND)), abs=1e-6)
    assert out["infonce"].item() == pytest.approx(sum(L_HAND) / 3, abs=1e-6)
    assert out["ri_max"].item() == pytest.approx(ri[2], abs=1e-6)
    assert out["ri_min"].item() == pytest.approx(1.0, abs=1e-6)
    assert out["ri_median"].item() == pytest.approx(1.0, abs=1e-6)
    assert out["ri_mean"].item() == pytest.approx(sum(ri) / 3, abs=1e-6)


def test_kappa_caps_the_ratio():
    # q'_3 exactly on its positive and far from the rest gives a tiny L' -> ratio far above kappa.
    qr = [[1.0, 0.0], [0.0, 1.0], [0.8, 0.6]]
    loss = RIInfoNCELoss(torch.nn.Identity(), temperature=0.02, kappa=5.0, warmup_steps=0)
    out = loss.compute_loss_from_embeddings(_embeddings(qr), torch.tensor(LABELS))
    assert out["ri_max"].item() == pytest.approx(5.0)
    loss.kappa = 1000.0
    assert loss.compute_loss_from_embeddings(_embeddings(qr), torch.tensor(LABELS))["ri_max"].item() > 5.0


def test_weights_sum_to_one_and_carry_no_gradient():
    q = torch.tensor(Q, requires_grad=True)
    loss = RIInfoNCELoss(torch.nn.Identity(), temperature=0.5, warmup_steps=0, eps=0.0)
    out = loss.compute_loss_from_embeddings({**_embeddings(), "query": q}, torch.tensor(LABELS))
    out["loss"].backward()
    # d/dq of sum_i w_i L_i with w constant = w_i dL_i/dq_i: compare to a manual weighted InfoNCE.
    ri = torch.tensor([L_HAND[i] / LR_HAND[i] for i in range(3)])
    w = ri / ri.sum()
    q2 = torch.tensor(Q, requires_grad=True)
    scores = q2 @ torch.tensor(P).T / 0.5
    per = torch.nn.functional.cross_entropy(scores, torch.tensor(LABELS), reduction="none")
    (w * per).sum().backward()
    assert torch.allclose(q.grad, q2.grad, atol=1e-6)
    assert w.sum().item() == pytest.approx(1.0)


def test_equal_weights_reproduce_infonce():
    model = TinyEncoder()
    features, labels = batch_features(4, 3)
    plain = InfoNCELoss(model, temperature=0.02)(features, labels)
    plain["loss"].backward()
    grad_plain = model.proj.weight.grad.clone()
    model.zero_grad()
    # kappa below every ratio -> every RI = kappa -> equal weights
    ri = RIInfoNCELoss(model, temperature=0.02, kappa=1e-9, warmup_steps=0)(features, labels)
    ri["loss"].backward()
    assert ri["ri_min"].item() == ri["ri_max"].item()
    assert ri["loss"].item() == pytest.approx(plain["loss"].item(), abs=1e-6)
    assert torch.allclose(model.proj.weight.grad, grad_plain, atol=1e-6)


def test_q_prime_equal_to_q_gives_ri_one():
    model = TinyEncoder()
    features, labels = batch_features(4, 3)
    features["reasoning_query"] = features["query"]
    out = RIInfoNCELoss(model, temperature=0.02, warmup_steps=0)(features, labels)
    plain = InfoNCELoss(model, temperature=0.02)(features, labels)
    assert out["ri_min"].item() == pytest.approx(1.0, abs=1e-5)
    assert out["ri_max"].item() == pytest.approx(1.0, abs=1e-5)
    assert out["loss"].item() == pytest.approx(plain["loss"].item(), abs=1e-6)


def test_warmup_switch_counts_steps():
    model = TinyEncoder()
    features, labels = batch_features(4, 3)
    loss = RIInfoNCELoss(model, temperature=0.02, warmup_steps=2)
    plain = InfoNCELoss(model, temperature=0.02)(features, labels)["loss"].item()
    no_q_prime = {k: v for k, v in features.items() if k != "reasoning_query"}
    for step in (0, 1):
        loss.step = step
        assert not loss.active
        assert loss.embedding_columns(features) == {"query": True, "passages": True}
        out = loss(no_q_prime, labels)  # q' is not needed (nor embedded) during warm-up
        assert set(out) == {"loss", "infonce"}
        assert out["loss"].item() == pytest.approx(plain, abs=1e-7)
    loss.step = 2
    assert loss.active
    assert loss.embedding_columns(features) == {"query": True, "passages": True, "reasoning_query": False}
    out = loss(features, labels)
    assert "ri_mean" in out
    assert out["loss"].item() != pytest.approx(plain, abs=1e-7)
    with pytest.raises(ValueError, match="reasoning_query"):
        loss(no_q_prime, labels)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"mapping": "sigmoid"}, "mapping"), ({"normalization": "l2"}, "normalization"), ({"kappa": 0}, "kappa"),
     ({"warmup_steps": -1}, "warmup_steps")],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RIInfoNCELoss(torch.nn.Identity(), **kwargs)


def test_config_dict():
    cfg = RIInfoNCELoss(torch.nn.Identity()).get_config_dict()
    assert cfg == {"temperature": 0.02, "cross_device": True, "kappa": 5.0, "warmup_steps": 100,
                   "mapping": "clamp", "normalization": "l1", "eps": 1e-6}


def test_ri_loss_is_fp32_under_bf16_autocast():
    """L, L' and the weights all come from fp32 scores, so bf16 autocast changes the RI loss by rounding only."""
    g = torch.Generator().manual_seed(3)
    emb = {k: torch.nn.functional.normalize(torch.randn(n, 64, generator=g), dim=-1)
           for k, n in (("query", 16), ("reasoning_query", 16), ("passages", 64))}
    labels = torch.arange(16) * 4
    loss = RIInfoNCELoss(torch.nn.Identity(), temperature=0.02, warmup_steps=0)
    ref = loss.compute_loss_from_embeddings(emb, labels)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = loss.compute_loss_from_embeddings(emb, labels)
    for key in ("loss", "infonce", "infonce_reasoning", "ri_max", "ri_mean"):
        assert mixed[key].item() == pytest.approx(ref[key].item(), rel=1e-5), key
