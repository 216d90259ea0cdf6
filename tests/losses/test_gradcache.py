from __future__ import annotations

import pytest
import torch

from reasonembed.losses import GradCache, InfoNCELoss, RIInfoNCELoss

QUERIES = ["sum of a geometric series", "derivative of x squared", "binary search on a sorted list"]
REASONING = [q + ". This uses the theorem about it." for q in QUERIES]
PASSAGES = [
    "a geometric series with ratio r sums to a/(1-r)", "the integral of a constant",
    "the power rule gives 2x", "matrices can be inverted when the determinant is nonzero",
    "halve the interval each step", "bubble sort swaps neighbours",
]


def _features(model):
    return {
        "query": model.tokenize(QUERIES, 32),
        "reasoning_query": model.tokenize(REASONING, 32),
        "passages": model.tokenize(PASSAGES, 32),
    }


def _reference(loss, features, labels, mini_batch):
    """The uncached computation: embed the same mini-batches in the same order, keeping the graph."""
    emb = {}
    for column, needs_grad in loss.embedding_columns(features).items():
        rows = features[column]["input_ids"].shape[0]
        parts = []
        for i in range(0, rows, mini_batch):
            with torch.set_grad_enabled(needs_grad):
                parts.append(loss.model({k: v[i : i + mini_batch] for k, v in features[column].items()}))
        emb[column] = torch.cat(parts)
    return loss.compute_loss_from_embeddings(emb, labels)


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("kind", ["infonce", "ri_infonce"])
def test_gradcache_equals_uncached_with_dropout(minilm, kind):
    assert minilm.training and minilm.backbone.config.hidden_dropout_prob > 0
    features, labels = _features(minilm), torch.tensor([0, 2, 4])
    make = (lambda m: InfoNCELoss(m, temperature=0.05)) if kind == "infonce" else (
        lambda m: RIInfoNCELoss(m, temperature=0.05, warmup_steps=0))
    loss = make(minilm)

    torch.manual_seed(123)
    ref = _reference(loss, features, labels, 2)
    (ref["loss"] * 0.5).backward()  # a non-unit upstream gradient, as gradient accumulation gives
    ref_grads = _grads(minilm)
    rng_after_ref = torch.get_rng_state()
    minilm.zero_grad(set_to_none=True)

    torch.manual_seed(123)
    out = GradCache(loss, mini_batch_size=2)(features, labels)
    (out["loss"] * 0.5).backward()
    cached_grads = _grads(minilm)

    assert torch.equal(torch.get_rng_state(), rng_after_ref)  # the step consumed the same randomness
    assert out["loss"].item() == pytest.approx(ref["loss"].item(), abs=1e-6)
    for key in ref:
        assert out[key].item() == pytest.approx(ref[key].item(), abs=1e-6), key
    assert set(cached_grads) == set(ref_grads) and len(ref_grads) > 10
    for name, grad in ref_grads.items():
        assert torch.allclose(cached_grads[name], grad, atol=1e-5, rtol=1e-4), name


def test_dropout_makes_replay_necessary(minilm):
    """Without the RNG replay the re-embedded mini-batch would differ: dropout really is on."""
    features = _features(minilm)
    torch.manual_seed(0)
    a = minilm(features["passages"])
    b = minilm(features["passages"])
    assert not torch.allclose(a, b, atol=1e-4)


def test_bad_mini_batch_raises():
    with pytest.raises(ValueError, match="mini_batch_size"):
        GradCache(InfoNCELoss(torch.nn.Identity()), mini_batch_size=0)
