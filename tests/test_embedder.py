from __future__ import annotations

import numpy as np
import pytest

from reasonembed.embedder import Embedder
from reasonembed.errors import ConfigError

TEXTS = [
    "The power rule gives the derivative of x^n.",
    "Binary search runs in logarithmic time on a sorted array, because each comparison halves the range.",
    "short",
    "Photosynthesis converts light into chemical energy. " * 30,
]


@pytest.fixture(scope="module")
def minilm(minilm_path):
    return Embedder(minilm_path)


@pytest.fixture(scope="module")
def st_minilm(minilm_path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(minilm_path, device="cpu")


def test_minilm_matches_sentence_transformers(minilm, st_minilm):
    ours = minilm.encode_documents(TEXTS, batch_size=2)
    theirs = st_minilm.encode(TEXTS, batch_size=2, normalize_embeddings=True)
    cos = (ours * theirs).sum(1)
    assert cos.min() >= 0.9999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert minilm.pooling == "mean" and minilm.max_doc_length == 256


def test_bf16_close_to_fp32(minilm_path, minilm):
    bf16 = Embedder(minilm_path, dtype="bf16")
    cos = (bf16.encode_documents(TEXTS) * minilm.encode_documents(TEXTS)).sum(1)
    assert cos.min() >= 0.999


def test_batching_order_does_not_change_vectors(minilm):
    one = minilm.encode_documents(TEXTS, batch_size=1)
    many = minilm.encode_documents(TEXTS, batch_size=4)
    assert np.abs(one - many).max() < 1e-4


def test_query_instruction_format(minilm):
    assert minilm.format_query("q") == "q"
    assert minilm.format_query("q", "Find math") == "Instruct: Find math\nQuery: q"
    assert minilm.query_prompt("Find math") == "Instruct: Find math\nQuery: "


def test_fingerprint_tracks_settings_and_weights(minilm_path, minilm):
    base = minilm.fingerprint
    assert Embedder(minilm_path).fingerprint == base
    assert Embedder(minilm_path, max_doc_length=128).fingerprint != base
    assert Embedder(minilm_path, pooling="cls").fingerprint != base
    assert Embedder(minilm_path, dtype="bf16").fingerprint != base
    changed = Embedder(minilm_path)
    with __import__("torch").no_grad():
        next(changed.backbone.parameters()).add_(1e-3)
    assert changed.fingerprint != base


def test_bad_arguments_raise(minilm_path, tmp_path):
    with pytest.raises(ConfigError, match="pooling"):
        Embedder(minilm_path, pooling="max")
    with pytest.raises(ConfigError, match="dtype"):
        Embedder(minilm_path, dtype="int8")
    with pytest.raises(ConfigError, match="not found"):
        Embedder(str(tmp_path / "nope"))


def test_decoder_left_pads_appends_eos_and_saves_for_sentence_transformers(tiny_qwen3_path, tmp_path):
    from sentence_transformers import SentenceTransformer

    emb = Embedder(tiny_qwen3_path, instruction="Given a Math problem, retrieve relevant examples")
    assert emb.pooling == "last_token"
    batch = emb.tokenize(["a binary search", "the derivative of a polynomial is found"], max_length=64)
    assert (batch["input_ids"][:, -1] == emb.tokenizer.eos_token_id).all()
    assert batch["attention_mask"][0, 0] == 0  # left padding on the shorter text
    queries = ["a binary search halves", "newton's second law relates force, mass and acceleration in plants"]
    ours = emb.encode_queries(queries, batch_size=2)
    out = emb.save(tmp_path / "saved")
    st = SentenceTransformer(str(out), device="cpu")
    assert st.tokenizer.padding_side == "left"
    theirs = st.encode(queries, prompt_name="query", normalize_embeddings=True, batch_size=2)
    assert (ours * theirs).sum(1).min() >= 0.9999
    again = Embedder(out)
    assert again.pooling == "last_token" and again.instruction == emb.instruction
    assert np.allclose(again.encode_queries(queries), ours, atol=1e-5)
    # truncation keeps the EOS as the last token
    long = emb.tokenize(["a binary search " * 100], max_length=16)
    assert long["input_ids"].shape[1] == 16 and long["input_ids"][0, -1] == emb.tokenizer.eos_token_id


def test_fingerprint_independent_of_thread_count(minilm_path):
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = Embedder(minilm_path).fingerprint
        torch.set_num_threads(2)
        two = Embedder(minilm_path).fingerprint
    finally:
        torch.set_num_threads(before)
    assert one == two


def test_saved_model_keeps_the_query_max_length(tiny_qwen3_path, tmp_path):
    from sentence_transformers import SentenceTransformer

    emb = Embedder(tiny_qwen3_path, instruction="Find math", max_query_length=12, max_doc_length=40, device="cpu")
    out = emb.save(tmp_path / "saved")
    st = SentenceTransformer(str(out), device="cpu")
    assert st[0].query_length == 12 and st.max_seq_length == 40
    long = ["a binary search halves the interval at every step " * 4, "the power rule"]
    ours = emb.encode_queries(long)
    assert not np.allclose(ours[0], Embedder(tiny_qwen3_path, instruction="Find math").encode_queries(long)[0],
                           atol=1e-3)  # the cut at 12 tokens matters for this query
    assert (st.encode_query(long, normalize_embeddings=True) * ours).sum(1).min() >= 0.9999
    docs = ["the derivative of a polynomial is found with the power rule " * 5]
    assert (st.encode_document(docs) * emb.encode_documents(docs)).sum(1).min() >= 0.9999
    again = Embedder(out, device="cpu")
    assert (again.max_query_length, again.max_doc_length) == (12, 40)
    assert again.fingerprint == emb.fingerprint
    (out / "reasonembed.json").unlink()  # sentence-transformers' own files carry both lengths too
    plain = Embedder(out, device="cpu")
    assert (plain.max_query_length, plain.max_doc_length) == (12, 40)


def test_default_device_is_this_ranks_gpu(monkeypatch):
    import torch

    from reasonembed.embedder import default_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert default_device() == torch.device("cuda", 3)  # torchrun rank 3 encodes on GPU 3, not all on GPU 0
    monkeypatch.delenv("LOCAL_RANK")
    assert default_device() == torch.device("cuda", 0)


def _st_dir(minilm_path, out, *extra, pooling_mode="mean", **transformer_kwargs):
    """A sentence-transformers directory written by `SentenceTransformer.save`: MiniLM + Pooling + `extra`."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    modules = [Transformer(minilm_path, **transformer_kwargs), Pooling(384, pooling_mode=pooling_mode), *extra]
    SentenceTransformer(modules=modules, device="cpu").save(str(out))
    return out


def test_sentence_transformers_dir_round_trips_pooling_and_lengths(minilm_path, tmp_path):
    from sentence_transformers import SentenceTransformer

    out = _st_dir(minilm_path, tmp_path / "st", pooling_mode="cls", max_seq_length=100, query_length=20)
    emb = Embedder(out, device="cpu")
    assert (emb.pooling, emb.normalize) == ("cls", False)  # no Normalize module
    assert (emb.max_query_length, emb.max_doc_length) == (20, 100)  # no document_length: max_seq_length
    st = SentenceTransformer(str(out), device="cpu")
    assert np.allclose(emb.encode_documents(TEXTS), st.encode_document(TEXTS), atol=1e-5)
    assert np.allclose(emb.encode_queries(TEXTS), st.encode_query(TEXTS), atol=1e-5)
    override = Embedder(out, pooling="mean", normalize=True, max_doc_length=64, device="cpu")
    assert (override.pooling, override.normalize, override.max_doc_length) == ("mean", True, 64)


def test_sentence_transformers_dir_with_modules_we_cannot_run_is_an_error(minilm_path, tmp_path):
    from sentence_transformers.base.modules import Dense

    dense = _st_dir(minilm_path, tmp_path / "dense", Dense(384, 32))
    with pytest.raises(ConfigError, match=r"dense: module 2 \(Dense\)"):  # not silently dropped
        Embedder(dense, device="cpu")
    max_pooled = _st_dir(minilm_path, tmp_path / "max", pooling_mode="max")
    with pytest.raises(ConfigError, match=r"max: module 1 \(Pooling 'max'"):
        Embedder(max_pooled, device="cpu")
    assert Embedder(max_pooled, pooling="mean", device="cpu").pooling == "mean"  # an explicit choice overrides it


def test_sentence_transformers_dir_reads_the_weights_once(minilm_path, monkeypatch):
    from transformers import PreTrainedModel

    original = PreTrainedModel.from_pretrained.__func__
    calls = []

    def counting(cls, *args, **kwargs):
        calls.append(cls.__name__)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(PreTrainedModel, "from_pretrained", classmethod(counting))
    Embedder(minilm_path, device="cpu")
    assert calls == ["BertModel"]
