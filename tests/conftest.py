"""Session-wide fixtures: offline hub, the bundled MiniLM path, and a tiny random Qwen3 built locally;
TheoremQA dev documents and small MiniLM indexes over them (the index and serve tests)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
THEOREMQA_DOCS = Path(__file__).resolve().parents[1] / "src" / "reasonembed" / "data" / "theoremqa_q_dev" / "documents.jsonl"


@pytest.fixture(scope="session")
def minilm_path() -> str:
    from reasonembed.embedder import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def minilm_embedder(minilm_path: str):
    """One bundled-MiniLM Embedder for the session; tests that use it must not change it."""
    from reasonembed.embedder import Embedder

    return Embedder(minilm_path, batch_size=16)


@pytest.fixture(scope="session")
def theoremqa_docs() -> list[dict]:
    """The first 60 TheoremQA dev documents ({id, content}) the package ships."""
    with THEOREMQA_DOCS.open(encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(60), handle, strict=False)]


def _write_corpus(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def write_corpus():
    """write_corpus(path, records) -> path: records as JSONL."""
    return _write_corpus


@pytest.fixture(scope="session")
def make_index(tmp_path_factory: pytest.TempPathFactory, minilm_embedder):
    """make_index(name, docs, **build_options) -> a new index folder over `docs` ({id, content}),
    built by build_index with the session MiniLM."""
    from reasonembed.index import build_index

    def build(name: str, docs: list[dict], **options) -> Path:
        root = tmp_path_factory.mktemp(name)
        corpus = _write_corpus(root / "docs.jsonl", docs)
        build_index(corpus, root / "idx", minilm_embedder, show_progress=False, **options)
        return root / "idx"

    return build


def build_tiny_decoder(
    out: Path, arch: str = "qwen3", hidden: int = 64, layers: int = 2, seed: int = 0
) -> Path:
    """A randomly initialised Qwen3/Llama and a byte-level BPE tokenizer trained in ~0.1 s (no download)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
        Qwen3Config,
        Qwen3ForCausalLM,
    )

    corpus = [
        "the derivative of a polynomial is found with the power rule",
        "a binary search halves the interval at every step",
        "newton's second law relates force, mass and acceleration",
        "the pigeonhole principle bounds collisions in hashing",
        "photosynthesis turns light energy into chemical energy in plants",
        "dynamic programming stores answers to overlapping subproblems",
    ] * 20
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|pad|>")
    torch.manual_seed(seed)
    common = dict(
        vocab_size=fast.vocab_size if hasattr(fast, "vocab_size") else len(fast),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    if arch == "qwen3":
        model = Qwen3ForCausalLM(Qwen3Config(head_dim=16, **common))
    else:
        model = LlamaForCausalLM(LlamaConfig(**common))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    fast.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_qwen3_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_tiny_decoder(tmp_path_factory.mktemp("tiny-qwen3"), "qwen3"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The dev sets: ../shared/data beside the checkout, else the byte-identical copies the package ships."""
    if (SHARED_DATA / "theoremqa_q_dev" / "examples.jsonl").exists():
        return SHARED_DATA
    from reasonembed.data import __file__ as data_init

    return Path(data_init).parent
