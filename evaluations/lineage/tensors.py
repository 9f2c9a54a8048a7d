"""Which tensors a lineage check reads, which bytes of them, and what it measures.

Pure: numpy, no network. Safetensors stores each tensor row-major and contiguous, so the
first rows of a matrix are one byte range: a check reads a slab of rows of a few matrices
(embeddings; the attention and MLP matrices of the first, middle and last layers) instead of
the whole model. Tensors are matched by name and shape, whatever the architecture's naming.

For each pair of slabs: the cosine similarity, the relative norm of the difference
``||model - base|| / ||base||``, and the effective rank of the difference (how many singular
values hold ``RANK_ENERGY`` of its energy), which tells "base plus a low-rank adapter" from a
full fine-tune.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Bytes per element of the float dtypes a check compares; quantised or integer tensors are
# not compared (their values are codes, not weights).
FLOAT_SIZES = {"F32": 4, "F16": 2, "BF16": 2}
LAYER_PATTERN = re.compile(r"(?:^|\.)(?:layers|h|blocks|block|layer)\.(\d+)\.")
EMBEDDING_WORDS = ("embed_tokens", "wte", "word_embeddings", "embed_in", "embed_out", "lm_head")
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on a header
# The share of the difference's energy (sum of squared singular values) its effective rank
# holds. 90 %, not 99 %: an adapter merged into 16-bit weights adds rounding noise of full
# rank, small in energy but enough to push a 99 % rank up to the noise.
RANK_ENERGY = 0.90

Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class TensorEntry:
    """One tensor in a safetensors file: its bytes are ``[start, end)`` of ``file``."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    file: str
    start: int
    end: int

    @property
    def row_bytes(self) -> int:
        width = 1
        for size in self.shape[1:]:
            width *= size
        return width * FLOAT_SIZES.get(self.dtype, 1)

    def slab(self, max_bytes: int) -> tuple[int, int, int]:
        """(first byte, last byte inclusive, rows) of the leading rows within ``max_bytes``
        (at least one row)."""
        rows = min(self.shape[0], max(1, max_bytes // max(self.row_bytes, 1)))
        return self.start, self.start + rows * self.row_bytes - 1, rows


def header_entries(file: str, header: bytes) -> dict[str, TensorEntry]:
    """The tensors of a safetensors header (the JSON after the 8-byte length), with absolute
    offsets. Raises ValueError for a header that is not one."""
    data_start = 8 + len(header)
    parsed = json.loads(header)
    if not isinstance(parsed, dict):
        raise ValueError(f"{file}: the header is not a JSON object")
    entries = {}
    for name, value in parsed.items():
        if name == "__metadata__":
            continue
        begin, end = value["data_offsets"]
        entries[name] = TensorEntry(
            name=name,
            dtype=str(value["dtype"]),
            shape=tuple(int(size) for size in value["shape"]),
            file=file,
            start=data_start + int(begin),
            end=data_start + int(end),
        )
    return entries


def layer_of(name: str) -> int | None:
    match = LAYER_PATTERN.search(name)
    return int(match.group(1)) if match else None


def comparable(model: TensorEntry, base: TensorEntry, max_row_bytes: int) -> bool:
    """Same float matrix, rows apart: an embedding may have more rows (added tokens). A row
    wider than ``max_row_bytes``, or a header whose offsets disagree with its shape (headers
    come from strangers), is never read."""
    if not (_well_formed(model, max_row_bytes) and _well_formed(base, max_row_bytes)):
        return False
    if len(model.shape) != 2 or len(base.shape) != 2 or model.shape[1] != base.shape[1]:
        return False
    return model.shape[0] == base.shape[0] or _is_embedding(model.name)


def _well_formed(entry: TensorEntry, max_row_bytes: int) -> bool:
    if entry.dtype not in FLOAT_SIZES or not entry.shape or min(entry.shape) <= 0:
        return False
    return entry.row_bytes <= max_row_bytes and entry.end - entry.start == (
        entry.shape[0] * entry.row_bytes
    )


def _is_embedding(name: str) -> bool:
    return layer_of(name) is None and any(word in name for word in EMBEDDING_WORDS)


def select_tensors(
    model: Mapping[str, TensorEntry],
    base: Mapping[str, TensorEntry],
    *,
    limit: int,
    max_row_bytes: int,
) -> list[str]:
    """Names both models hold as comparable matrices: the embeddings, then every matrix of
    the first, middle and last layers (attention q/k/v/o and MLP in a Llama), at most
    ``limit``."""
    shared = model.keys() & base.keys()
    common = sorted(name for name in shared if comparable(model[name], base[name], max_row_bytes))
    layers = sorted({layer for name in common if (layer := layer_of(name)) is not None})
    chosen_layers = {layers[0], layers[len(layers) // 2], layers[-1]} if layers else set()
    embeddings = [name for name in common if _is_embedding(name)]
    in_layers = sorted(
        (name for name in common if layer_of(name) in chosen_layers),
        key=lambda name: (layer_of(name), name),
    )
    return (embeddings + in_layers)[:limit]


def decode(raw: bytes, dtype: str, shape: tuple[int, ...]) -> Array:
    """A slab's bytes (little-endian, as safetensors stores them) as float32 rows."""
    width = shape[1] if len(shape) > 1 else 1
    if dtype == "BF16":  # the upper half of a float32
        values = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    elif dtype == "F16":
        values = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    elif dtype == "F32":
        values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    else:
        raise ValueError(f"{dtype} tensors are not compared")
    return values.reshape(-1, width)


@dataclass(frozen=True)
class TensorComparison:
    name: str
    shape: list[int]
    rows_compared: int
    cosine: float
    relative_difference: float  # ||model - base|| / ||base||
    effective_rank: int  # singular values holding RANK_ENERGY of the difference's energy
    rank_fraction: float  # effective_rank / min(rows compared, columns)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def compare_slabs(name: str, shape: tuple[int, ...], model: Array, base: Array) -> TensorComparison:
    rows = min(model.shape[0], base.shape[0])
    # A NaN or an infinity in a stranger's weights would make every measure NaN (and NaN is
    # not JSON): they count as zeros here.
    a = np.nan_to_num(model[:rows].astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    b = np.nan_to_num(base[:rows].astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    difference = a - b
    cosine = float(np.sum(a * b) / (norm_a * norm_b)) if norm_a and norm_b else 0.0
    if norm_b:
        relative = float(np.linalg.norm(difference) / norm_b)
    else:  # a zero base tensor: no difference if the model's is zero too, else all of it
        relative = 0.0 if not norm_a else 1.0
    rank = effective_rank(difference)
    full = min(difference.shape)
    return TensorComparison(
        name=name,
        shape=list(shape),
        rows_compared=rows,
        cosine=round(cosine, 6),
        relative_difference=round(relative, 6),
        effective_rank=rank,
        rank_fraction=round(rank / full, 4) if full else 0.0,
    )


def effective_rank(matrix: npt.NDArray[np.float64], energy: float = RANK_ENERGY) -> int:
    """How many singular values hold ``energy`` of the matrix's squared Frobenius norm; 0 for
    a zero matrix (the tensors are identical)."""
    singular = np.linalg.svd(matrix, compute_uv=False)
    squares = singular**2
    total = float(squares.sum())
    if total <= 0.0:
        return 0
    return int(np.searchsorted(np.cumsum(squares) / total, energy) + 1)
