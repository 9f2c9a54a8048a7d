"""Reading a repo's weights in part, for the lineage check: the safetensors headers and slabs
of rows of chosen tensors, by HTTP Range requests at a pinned commit. Every byte the hub sends
is counted, so a check can say how much it read against the size of the weights.

The requests go through ``huggingface_hub``'s own URL builder, session (which follows the
hub's redirects to its storage) and error reader, as ``parse_safetensors_file_metadata`` does.
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from huggingface_hub import HfApi, get_session, hf_hub_url, hf_raise_for_status
from huggingface_hub.errors import HfHubHTTPError, RemoteEntryNotFoundError
from huggingface_hub.utils._headers import build_hf_headers

from evaluations.errors import EvaluationError
from evaluations.lineage.tensors import MAX_HEADER_BYTES, TensorEntry, decode, header_entries
from workers.hub.connection import HUB_TIMEOUT_SECONDS, endpoint, hub_errors

HEADER_PROBE_BYTES = 64 * 1024  # most headers fit: one request instead of two
MAX_JSON_BYTES = 4 * 1024 * 1024  # config, tokenizer config, shard index
MAX_SHARDS = 200
INDEX_FILE = "model.safetensors.index.json"

Rows = Any  # a float32 numpy array of the slab's rows


@dataclass(frozen=True)
class WeightsListing:
    """What a lineage check knows of a repo at one commit before it reads any weights."""

    repo_id: str
    commit_sha: str
    card_data: dict[str, Any]
    config: dict[str, Any]
    tokenizer_config: dict[str, Any]
    shards: tuple[str, ...]  # its *.safetensors files (the index's, for a sharded repo)
    weights_bytes: int  # their size


@dataclass
class WeightsReader:
    """One check's reads: ``bytes_read`` counts every byte received."""

    token: str | None = None
    bytes_read: int = 0
    requests: int = 0
    _api: HfApi = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._api = HfApi(endpoint=endpoint(), token=self.token)

    def listing(self, repo_id: str, revision: str = "main") -> WeightsListing:
        """The repo at ``revision``: its commit, card data, config, tokenizer config and
        weight files. Raises EvaluationError."""
        with self._errors(repo_id, revision):
            info = self._api.model_info(
                repo_id, revision=revision, files_metadata=True, timeout=HUB_TIMEOUT_SECONDS
            )
            if info.private or info.sha is None:
                raise EvaluationError("eval:user:repo-not-found", f"{repo_id} is not public")
            sha = info.sha
            sizes = {s.rfilename: s.lfs.size if s.lfs else s.size or 0 for s in info.siblings or ()}
            config = self._json(repo_id, sha, "config.json") if "config.json" in sizes else {}
            tokenizer = "tokenizer_config.json"
            tokenizer_config = self._json(repo_id, sha, tokenizer) if tokenizer in sizes else {}
            shards = self._shards(repo_id, sha, sizes)
        # huggingface_hub leaves CardData.to_dict unannotated.
        card_data = info.card_data.to_dict() if info.card_data is not None else {}  # type: ignore[no-untyped-call]
        return WeightsListing(
            repo_id=repo_id,
            commit_sha=sha,
            card_data=card_data,
            config=config,
            tokenizer_config=tokenizer_config,
            shards=tuple(shards),
            weights_bytes=sum(sizes.get(shard, 0) for shard in shards),
        )

    def tensors(self, listing: WeightsListing) -> dict[str, TensorEntry]:
        """Every tensor its safetensors headers declare (headers only: a few KiB a file)."""
        entries: dict[str, TensorEntry] = {}
        with self._errors(listing.repo_id, listing.commit_sha):
            for shard in listing.shards:
                entries.update(self._header(listing.repo_id, listing.commit_sha, shard))
        return entries

    def rows(self, repo_id: str, commit_sha: str, entry: TensorEntry, max_bytes: int) -> Rows:
        """The leading rows of ``entry`` that fit in ``max_bytes``, as float32."""
        first, last, _ = entry.slab(max_bytes)
        with self._errors(repo_id, commit_sha):
            raw = self._range(repo_id, commit_sha, entry.file, first, last)
        if len(raw) != last - first + 1:
            detail = f"{entry.file} ends before {entry.name}'s bytes"
            raise EvaluationError("eval:user:no-safetensors", detail)
        return decode(raw, entry.dtype, entry.shape)

    # --- the requests ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _errors(self, repo_id: str, revision: str) -> Iterator[None]:
        """The client's errors in the run's words, a missing file and other answers too."""
        try:
            with hub_errors(repo_id, revision):
                yield
        except RemoteEntryNotFoundError as error:
            detail = f"a file of {repo_id} is missing at {revision}"
            raise EvaluationError("eval:user:no-safetensors", detail) from error
        except HfHubHTTPError as error:
            status = error.response.status_code if error.response is not None else None
            detail = f"the hub answered HTTP {status} for {repo_id}"
            raise EvaluationError("eval:infra:hub-unreachable", detail) from error

    def _shards(self, repo_id: str, sha: str, sizes: dict[str, int]) -> list[str]:
        if INDEX_FILE in sizes:
            weight_map = self._json(repo_id, sha, INDEX_FILE).get("weight_map")
            if isinstance(weight_map, dict):
                named = sorted({str(shard) for shard in weight_map.values()} & sizes.keys())
                return named[:MAX_SHARDS]
        root = sorted(path for path in sizes if path.endswith(".safetensors") and "/" not in path)
        return root[:MAX_SHARDS]

    def _header(self, repo_id: str, sha: str, filename: str) -> dict[str, TensorEntry]:
        probe = self._range(repo_id, sha, filename, 0, HEADER_PROBE_BYTES - 1)
        if len(probe) < 8:
            raise EvaluationError("eval:user:no-safetensors", f"{filename} has no header")
        (length,) = struct.unpack("<Q", probe[:8])
        if length > MAX_HEADER_BYTES:
            raise EvaluationError("eval:user:no-safetensors", f"{filename}: header too large")
        header = probe[8 : 8 + length]
        if len(header) < length:
            header = self._range(repo_id, sha, filename, 8, 8 + length - 1)
        try:
            return header_entries(filename, header)
        except (ValueError, KeyError, TypeError) as error:
            detail = f"{filename} does not start with a valid safetensors header"
            raise EvaluationError("eval:user:no-safetensors", detail) from error

    def _json(self, repo_id: str, sha: str, filename: str) -> dict[str, Any]:
        """A small JSON file; {} when it is not a JSON object (or larger than the cap)."""
        raw = self._range(repo_id, sha, filename, 0, MAX_JSON_BYTES - 1)
        try:
            loaded = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _range(self, repo_id: str, sha: str, filename: str, first: int, last: int) -> bytes:
        url = hf_hub_url(repo_id, filename, revision=sha, endpoint=endpoint())
        headers = {**build_hf_headers(token=self.token), "Range": f"bytes={first}-{last}"}
        response = get_session().get(url, headers=headers, timeout=HUB_TIMEOUT_SECONDS)
        hf_raise_for_status(response)
        content = response.content
        self.requests += 1
        self.bytes_read += len(content)
        if response.status_code == 200:  # a server that ignores Range sends the whole file
            content = content[first : last + 1]
        return content
