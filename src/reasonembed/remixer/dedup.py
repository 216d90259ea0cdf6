"""Exact and near-duplicate detection: normalised text hashes, character shingles, MinHash + LSH.

Why our own: the checks are small and must be deterministic across processes (Python's `hash` is
salted per process, so shingles are hashed with CRC32). MinHash signatures estimate shingle
Jaccard; LSH banding (`num_perm / rows` bands of `rows` values) proposes candidate pairs, and every
candidate is verified with the exact Jaccard of the shingle sets, so the threshold is exact and LSH
only decides which pairs get checked (pairs far below the threshold are never proposed).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict

import numpy as np

_WS = re.compile(r"\s+")
_PRIME = 4294967291  # largest prime below 2^32: (a*x + b) stays inside uint64


def normalize(text: str) -> str:
    return _WS.sub(" ", text.lower()).strip()


def text_hash(text: str) -> str:
    return hashlib.md5(normalize(text).encode("utf-8")).hexdigest()


def shingles(text: str, size: int = 5) -> set[int]:
    """CRC32 hashes of the character `size`-grams of the normalised text (the whole text if shorter)."""
    norm = normalize(text)
    if len(norm) <= size:
        return {zlib.crc32(norm.encode("utf-8"))} if norm else set()
    return {zlib.crc32(norm[i:i + size].encode("utf-8")) for i in range(len(norm) - size + 1)}


def word_ngrams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1))} or ({tuple(words)} if words else set())


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def containment(part: set, whole: set) -> float:
    """Fraction of `part` found in `whole`."""
    return len(part & whole) / len(part) if part else 0.0


class MinHashLSH:
    """Index shingle sets; `query(s)` proposes ids whose MinHash agrees with `s` on a whole band."""

    def __init__(self, num_perm: int = 128, rows: int = 4, seed: int = 1):
        if num_perm % rows:
            raise ValueError(f"num_perm ({num_perm}) must be a multiple of rows_per_band ({rows})")
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, _PRIME, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, _PRIME, size=num_perm, dtype=np.uint64)
        self.rows = rows
        self.bands = num_perm // rows
        self.tables: list[dict[bytes, list[str]]] = [defaultdict(list) for _ in range(self.bands)]

    def signature(self, shingle_set: set[int]) -> np.ndarray:
        if not shingle_set:
            return np.full(len(self.a), np.iinfo(np.uint64).max, dtype=np.uint64)
        x = np.fromiter(shingle_set, dtype=np.uint64, count=len(shingle_set)) % np.uint64(_PRIME)
        hashed = (self.a[:, None] * x[None, :] + self.b[:, None]) % np.uint64(_PRIME)
        return hashed.min(axis=1)

    def _bands(self, sig: np.ndarray) -> list[bytes]:
        return [sig[i * self.rows:(i + 1) * self.rows].tobytes() for i in range(self.bands)]

    def add(self, key: str, shingle_set: set[int]) -> None:
        for table, band in zip(self.tables, self._bands(self.signature(shingle_set))):
            table[band].append(key)

    def query(self, shingle_set: set[int]) -> set[str]:
        found: set[str] = set()
        for table, band in zip(self.tables, self._bands(self.signature(shingle_set))):
            found.update(table.get(band, ()))
        return found
