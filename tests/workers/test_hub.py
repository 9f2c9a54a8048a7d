"""workers.hub against the stand-in hub: the real huggingface_hub client, local repos.

Alice submits her own tiny models; each test publishes the repo it needs and asserts the
error id and, for refusals, that no weight file was ever requested.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save

from evaluations.errors import EvaluationError
from localdev.standin.faults import set_fault
from localdev.standin.hub_server import StandinHubServer, serve_in_thread
from localdev.standin.repos import publish_repo, tamper_file
from workers import hub
from workers.hub import inspection

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl")
LLAMA_CONFIG: dict[str, Any] = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 8,
    "intermediate_size": 16,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "num_hidden_layers": 1,
    "vocab_size": 32,
    "max_position_embeddings": 64,
}
# 32*8 + 32*8 F32 parameters (embeddings, lm_head) + 8 F16 (the final norm).
TINY_PARAMETERS = 520


@dataclass
class StandinHub:
    root: Path
    server: StandinHubServer
    url: str

    def publish(self, repo_id: str, files: dict[str, bytes], **options: Any) -> str:
        return publish_repo(self.root, repo_id, files, **options)

    def fault(self, repo_id: str, path: str, mode: str, times: int | None = None) -> None:
        set_fault(self.root, repo_id, path, mode, times=times)

    def requested_weights(self, repo_id: str) -> list[str]:
        """Weight files of ``repo_id`` the client asked about, by HEAD or GET."""
        paths = self.server.file_requests(repo_id, "GET") + self.server.file_requests(
            repo_id, "HEAD"
        )
        return [path for path in paths if path.endswith(WEIGHT_SUFFIXES)]


@pytest.fixture(autouse=True)
def _isolated_client(isolated_hub_client: None) -> None:
    """Every test here talks to the stand-in hub only (tests/conftest.py)."""


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinHub]:
    root = tmp_path / "standin"
    server, url = serve_in_thread(root)
    monkeypatch.setenv("HF_ENDPOINT", url)  # workers.hub reads it at call time
    yield StandinHub(root, server, url)
    server.shutdown()
    server.server_close()


def tiny_llama(**extra_files: bytes) -> dict[str, bytes]:
    weights = save(
        {
            "model.embed_tokens.weight": np.zeros((32, 8), dtype=np.float32),
            "lm_head.weight": np.ones((32, 8), dtype=np.float32),
            "model.norm.weight": np.ones((8,), dtype=np.float16),
        }
    )
    files = {
        "config.json": json.dumps(LLAMA_CONFIG).encode(),
        "generation_config.json": b'{"max_new_tokens": 16}',
        "tokenizer_config.json": b'{"bos_token": "<s>", "eos_token": "</s>"}',
        "tokenizer.json": b'{"version": "1.0", "model": {"type": "BPE"}}',
        "merges.txt": b"#version: 0.2\n",
        "model.safetensors": weights,
        "README.md": b"---\nlicense: apache-2.0\nbase_model: alice/base\n---\n# Tiny\n",
    }
    files.update(extra_files)
    return files


def with_config(**changes: Any) -> bytes:
    return json.dumps({**LLAMA_CONFIG, **changes}).encode()


def refusal(repo_id: str, ref: str = "main", max_parameters: int | None = None) -> str:
    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo(repo_id, ref, max_parameters=max_parameters)
    return caught.value.code


# --- what an accepted repo looks like -----------------------------------------------------


def test_it_resolves_main_to_the_commit_sha(standin: StandinHub) -> None:
    commit_sha = standin.publish("alice/tiny", tiny_llama())

    inspection = hub.inspect_repo("alice/tiny", "main", max_parameters=1_000)

    assert inspection.commit_sha == commit_sha
    assert inspection.ref == "main"
    assert standin.requested_weights("alice/tiny") == []


def test_it_reads_parameter_count_dtype_and_licence(standin: StandinHub) -> None:
    standin.publish("alice/tiny", tiny_llama())

    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)

    assert inspection.parameter_count == TINY_PARAMETERS
    assert inspection.dtype == "F32"
    assert inspection.licence == "apache-2.0"
    assert inspection.model_type == "llama"
    assert inspection.card_data["base_model"] == "alice/base"


def test_it_lists_files_with_their_lfs_checksums(standin: StandinHub) -> None:
    files = tiny_llama()
    standin.publish("alice/tiny", files)

    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)

    by_path = {file.path: file for file in inspection.files}
    weights = by_path["model.safetensors"]
    assert weights.size == len(files["model.safetensors"])
    assert weights.sha256 is not None and len(weights.sha256) == 64
    assert by_path["config.json"].sha256 is None  # small files live in git, not LFS


def test_it_counts_parameters_from_headers_when_model_info_has_none(
    standin: StandinHub,
) -> None:
    standin.publish("alice/tiny", tiny_llama(), metadata_overrides={"safetensors": None})

    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)

    assert inspection.parameter_count == TINY_PARAMETERS
    assert inspection.dtype == "F32"
    # Only the header was read, with a Range request; the weights were not downloaded.
    ranged = [
        r
        for r in standin.server.request_log
        if r.path.endswith("model.safetensors") and r.method == "GET"
    ]
    assert ranged and all(r.range for r in ranged)


def test_it_counts_parameters_across_shards_without_an_index(standin: StandinHub) -> None:
    files = tiny_llama()
    del files["model.safetensors"]
    files["model-00001-of-00002.safetensors"] = save({"a": np.zeros((10, 10), np.float16)})
    files["model-00002-of-00002.safetensors"] = save({"b": np.zeros((5,), np.float32)})
    standin.publish("alice/sharded", files, metadata_overrides={"safetensors": None})

    inspection = hub.inspect_repo("alice/sharded", max_parameters=None)

    assert (inspection.parameter_count, inspection.dtype) == (105, "F16")


def test_it_refuses_weights_that_are_not_safetensors_inside(standin: StandinHub) -> None:
    files = tiny_llama(**{"model.safetensors": b"\x80\x04 a pickle in disguise"})
    standin.publish("alice/disguised", files)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/disguised", max_parameters=None)

    assert caught.value.code == "eval:user:no-safetensors"
    assert "model.safetensors" in caught.value.detail


def test_it_accepts_an_empty_auto_map(standin: StandinHub) -> None:
    standin.publish("alice/tiny", tiny_llama(**{"config.json": with_config(auto_map={})}))

    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)

    assert inspection.model_type == "llama"


def test_it_accepts_pickle_weights_beside_safetensors(standin: StandinHub) -> None:
    standin.publish("alice/tiny", tiny_llama(**{"pytorch_model.bin": b"pickle bytes"}))

    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)

    assert "pytorch_model.bin" in {file.path for file in inspection.files}


# --- refusals, each before any weights are fetched ------------------------------------------


def test_it_refuses_repo_with_remote_code(standin: StandinHub) -> None:
    auto_map = {"AutoModelForCausalLM": "modeling_x.MyModel"}
    standin.publish("alice/custom", tiny_llama(**{"config.json": with_config(auto_map=auto_map)}))

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/custom", max_parameters=None)

    assert caught.value.code == "eval:user:remote-code"
    assert "auto_map in config.json points to modeling_x.MyModel" in caught.value.detail
    assert standin.requested_weights("alice/custom") == []


def test_it_refuses_auto_map_in_tokenizer_config(standin: StandinHub) -> None:
    tokenizer_config = {"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", None]}}
    files = tiny_llama(**{"tokenizer_config.json": json.dumps(tokenizer_config).encode()})
    standin.publish("alice/custom-tokenizer", files)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/custom-tokenizer", max_parameters=None)

    assert caught.value.code == "eval:user:remote-code"
    assert "tokenizer_config.json" in caught.value.detail
    assert standin.requested_weights("alice/custom-tokenizer") == []


def test_it_refuses_auto_map_pointing_into_another_repo(standin: StandinHub) -> None:
    auto_map = {"AutoModelForCausalLM": "mallory/other-repo--modelling_x.Model"}
    standin.publish("alice/borrowed", tiny_llama(**{"config.json": with_config(auto_map=auto_map)}))

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/borrowed", max_parameters=None)

    assert caught.value.code == "eval:user:remote-code"
    assert "mallory/other-repo" in caught.value.detail
    assert standin.requested_weights("alice/borrowed") == []


def test_it_refuses_auto_map_in_processor_config(standin: StandinHub) -> None:
    processor_config = {"auto_map": {"AutoProcessor": "processing_x.XProcessor"}}
    files = tiny_llama(**{"preprocessor_config.json": json.dumps(processor_config).encode()})
    standin.publish("alice/processor", files)

    assert refusal("alice/processor") == "eval:user:remote-code"
    assert standin.requested_weights("alice/processor") == []


def test_it_refuses_repo_with_python_files(standin: StandinHub) -> None:
    standin.publish("alice/scripted", tiny_llama(**{"modeling_x.py": b"import os\n"}))

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/scripted", max_parameters=None)

    assert caught.value.code == "eval:user:remote-code"
    assert "modeling_x.py" in caught.value.detail
    assert standin.server.file_requests("alice/scripted") == []


def test_it_refuses_pickle_only_weights(standin: StandinHub) -> None:
    files = tiny_llama(**{"pytorch_model.bin": b"pickle bytes"})
    del files["model.safetensors"]
    standin.publish("alice/pickled", files)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/pickled", max_parameters=None)

    assert caught.value.code == "eval:user:no-safetensors"
    assert caught.value.detail.startswith("found pytorch_model.bin, no *.safetensors (commit ")
    assert standin.requested_weights("alice/pickled") == []


def test_it_refuses_repo_without_config(standin: StandinHub) -> None:
    files = tiny_llama()
    del files["config.json"]
    standin.publish("alice/configless", files)

    assert refusal("alice/configless") == "eval:user:no-config"
    assert standin.requested_weights("alice/configless") == []


def test_it_refuses_too_large_model(standin: StandinHub) -> None:
    huge = {"safetensors": {"parameters": {"BF16": 7_241_732_096}, "total": 7_241_732_096}}
    sha = standin.publish("alice/huge", tiny_llama(), metadata_overrides=huge)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/huge", max_parameters=1_000_000_000)

    assert caught.value.code == "eval:user:too-large"
    assert caught.value.detail == (
        f"7,241,732,096 parameters; this worker accepts at most 1,000,000,000 (commit {sha})"
    )
    assert standin.requested_weights("alice/huge") == []


def test_it_refuses_gated_repo(standin: StandinHub) -> None:
    standin.publish("alice/gated", tiny_llama(), gated="manual")

    assert refusal("alice/gated") == "eval:user:gated"
    assert standin.requested_weights("alice/gated") == []


def test_it_refuses_gated_repo_when_only_its_files_say_so(standin: StandinHub) -> None:
    # model_info claims an open repo, but the file downloads answer GatedRepo.
    standin.publish(
        "alice/half-gated", tiny_llama(), gated=True, metadata_overrides={"gated": False}
    )

    assert refusal("alice/half-gated") == "eval:user:gated"
    assert standin.requested_weights("alice/half-gated") == []


def test_it_refuses_missing_repo(standin: StandinHub) -> None:
    assert refusal("alice/never-published") == "eval:user:repo-not-found"


def test_it_refuses_private_repo(standin: StandinHub) -> None:
    standin.publish("alice/secret", tiny_llama(), private=True)

    assert refusal("alice/secret") == "eval:user:repo-not-found"
    assert standin.requested_weights("alice/secret") == []


def test_it_refuses_unknown_revision(standin: StandinHub) -> None:
    standin.publish("alice/tiny", tiny_llama())

    assert refusal("alice/tiny", ref="no-such-branch") == "eval:user:revision-not-found"
    assert refusal("alice/tiny", ref="0" * 40) == "eval:user:revision-not-found"
    assert standin.requested_weights("alice/tiny") == []


def test_it_refuses_unsupported_model_type(standin: StandinHub) -> None:
    files = tiny_llama(**{"config.json": with_config(model_type="brand_new_arch")})
    standin.publish("alice/novel", files)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/novel", max_parameters=None)

    assert caught.value.code == "eval:user:unsupported-architecture"
    assert "brand_new_arch" in caught.value.detail
    assert standin.requested_weights("alice/novel") == []


def nested(depth: int) -> bytes:
    """A config.json whose rope_scaling is ``depth`` lists deep."""
    head, tail = with_config(rope_scaling=None).rsplit(b"null", 1)
    return head + b"[" * depth + b"]" * depth + tail


def test_it_refuses_a_config_nested_200_000_levels_deep_as_the_submitter_s(
    standin: StandinHub,
) -> None:
    standin.publish("alice/bomb", tiny_llama(**{"config.json": nested(200_000)}))

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/bomb", max_parameters=None)

    assert caught.value.code == "eval:user:config-too-deep"
    assert caught.value.detail.startswith("config.json nests more than 64 levels deep")
    assert standin.requested_weights("alice/bomb") == []


def test_it_refuses_an_optional_config_too_deep_for_the_loaders(standin: StandinHub) -> None:
    # 500 levels: json reads it, but transformers' recursive walks of a config would not.
    deep = b'{"chat_template": ' + b"[" * 500 + b"]" * 500 + b"}"
    standin.publish("alice/deep", tiny_llama(**{"tokenizer_config.json": deep}))

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/deep", max_parameters=None)

    assert caught.value.code == "eval:user:config-too-deep"
    assert "tokenizer_config.json" in caught.value.detail
    assert standin.requested_weights("alice/deep") == []


def test_it_accepts_a_config_nested_as_deep_as_allowed(standin: StandinHub) -> None:
    # rope_scaling sits one level inside config.json: 63 lists make 64 levels.
    standin.publish("alice/nested", tiny_llama(**{"config.json": nested(63)}))

    assert hub.inspect_repo("alice/nested", max_parameters=None).model_type == "llama"


def test_nesting_depth_counts_objects_and_lists_without_recursing() -> None:
    assert inspection.nesting_depth({"a": [1, {"b": {}}], "c": "x"}) == 4
    assert inspection.nesting_depth("flat") == 0
    deep: list[Any] = []
    for _ in range(200_000):
        deep = [deep]
    assert inspection.nesting_depth(deep) == 200_001


BITSANDBYTES = {"quant_method": "bitsandbytes", "load_in_4bit": True}


def test_it_refuses_bitsandbytes_weights_on_a_cpu_worker(
    standin: StandinHub, settings: Any
) -> None:
    settings.WORKER_BACKEND, settings.WORKER_DEVICE = "hf", "cpu"
    files = tiny_llama(**{"config.json": with_config(quantization_config=BITSANDBYTES)})
    sha = standin.publish("alice/tiny-4bit", files)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/tiny-4bit", max_parameters=None)

    assert caught.value.code == "eval:user:unsupported-quantisation"
    assert caught.value.detail == (
        "config.json's quantization_config asks for bitsandbytes; this worker loads no "
        f"quantised weights (commit {sha})"
    )
    assert standin.requested_weights("alice/tiny-4bit") == []


def test_it_reads_bare_load_in_8bit_as_bitsandbytes(standin: StandinHub) -> None:
    files = tiny_llama(**{"config.json": with_config(quantization_config={"load_in_8bit": True})})
    standin.publish("alice/tiny-8bit", files)

    with pytest.raises(EvaluationError) as caught:
        hub.inspect_repo("alice/tiny-8bit", max_parameters=None, quant_methods=frozenset({"fp8"}))

    assert caught.value.code == "eval:user:unsupported-quantisation"
    assert "asks for bitsandbytes; this worker loads fp8 only" in caught.value.detail


def test_it_accepts_a_quantisation_the_worker_loads(standin: StandinHub) -> None:
    fp8 = {"quant_method": "fp8", "weight_block_size": [128, 128]}
    standin.publish(
        "alice/tiny-fp8", tiny_llama(**{"config.json": with_config(quantization_config=fp8)})
    )

    accepted = hub.inspect_repo(
        "alice/tiny-fp8", max_parameters=None, quant_methods=frozenset({"fp8"})
    )

    assert accepted.model_type == "llama"


def test_a_gpu_worker_loads_what_its_backend_and_packages_support(settings: Any) -> None:
    settings.WORKER_BACKEND, settings.WORKER_DEVICE = "vllm", "cuda"
    assert inspection.worker_quant_methods() >= {"awq", "compressed-tensors", "fp8", "gptq"}
    settings.WORKER_BACKEND = "hf"
    assert "fp8" in inspection.worker_quant_methods()  # transformers' own
    bitsandbytes_installed = importlib.util.find_spec("bitsandbytes") is not None
    assert ("bitsandbytes" in inspection.worker_quant_methods()) == bitsandbytes_installed
    settings.WORKER_DEVICE = "cpu"
    assert inspection.worker_quant_methods() == frozenset()


def test_it_reports_hub_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")

    assert refusal("alice/tiny") == "eval:infra:hub-unreachable"


class AlwaysUnavailable(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_it_reports_hub_unreachable_when_the_hub_answers_5xx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysUnavailable)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        assert refusal("alice/tiny") == "eval:infra:hub-unreachable"
    finally:
        server.shutdown()
        server.server_close()


# --- downloads ----------------------------------------------------------------------------


def test_it_downloads_configs_tokenizer_and_safetensors_only(
    standin: StandinHub, tmp_path: Path
) -> None:
    files = tiny_llama(**{"pytorch_model.bin": b"pickle bytes", "notes/extra.json": b"{}"})
    standin.publish("alice/tiny", files)
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)

    model_dir = hub.download_repo(inspection, tmp_path / "model")

    downloaded = {path.name for path in model_dir.iterdir() if path.is_file()}
    assert downloaded == {
        "config.json",
        "generation_config.json",
        "tokenizer_config.json",
        "tokenizer.json",
        "merges.txt",
        "model.safetensors",
    }
    assert (model_dir / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert "pytorch_model.bin" not in standin.server.file_requests("alice/tiny", "HEAD")


def test_it_keeps_an_old_commit_downloadable_after_main_moves(
    standin: StandinHub, tmp_path: Path
) -> None:
    first_sha = standin.publish("alice/tiny", tiny_llama())
    first = hub.inspect_repo("alice/tiny", max_parameters=None)
    second_files = tiny_llama(**{"config.json": with_config(hidden_size=16)})
    second_sha = standin.publish("alice/tiny", second_files)

    moved = hub.inspect_repo("alice/tiny", max_parameters=None)
    pinned = hub.inspect_repo("alice/tiny", first_sha, max_parameters=None)
    model_dir = hub.download_repo(first, tmp_path / "first")

    assert moved.commit_sha == second_sha != first_sha
    assert pinned.commit_sha == first_sha
    assert json.loads((model_dir / "config.json").read_text())["hidden_size"] == 8


def test_it_fails_checksum_verification_of_a_tampered_file(
    standin: StandinHub, tmp_path: Path
) -> None:
    files = tiny_llama()
    commit_sha = standin.publish("alice/tiny", files)
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    damaged = bytes(len(files["model.safetensors"]))  # same size, different bytes
    tamper_file(standin.root, "alice/tiny", commit_sha, "model.safetensors", damaged)

    with pytest.raises(EvaluationError) as caught:
        hub.download_repo(inspection, tmp_path / "model", retries=0)

    assert caught.value.code == "eval:infra:checksum-mismatch"
    assert caught.value.detail.startswith("model.safetensors: expected sha256 ")
    assert not (tmp_path / "model" / "model.safetensors").exists()


def test_it_fails_checksum_verification_of_a_truncated_file(
    standin: StandinHub, tmp_path: Path
) -> None:
    files = tiny_llama()
    commit_sha = standin.publish("alice/tiny", files)
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    tamper_file(standin.root, "alice/tiny", commit_sha, "model.safetensors", b"short")

    with pytest.raises(EvaluationError) as caught:
        hub.download_repo(inspection, tmp_path / "model", retries=0)

    assert caught.value.code == "eval:infra:checksum-mismatch"
    assert not (tmp_path / "model" / "model.safetensors").exists()


def test_it_fails_checksum_verification_of_a_tampered_small_file(
    standin: StandinHub, tmp_path: Path
) -> None:
    files = tiny_llama()
    commit_sha = standin.publish("alice/tiny", files)
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    # Same size, so only the git object id check can tell: small files have no sha256.
    tampered = files["tokenizer_config.json"].replace(b"</s>", b"<x/>")
    tamper_file(standin.root, "alice/tiny", commit_sha, "tokenizer_config.json", tampered)

    with pytest.raises(EvaluationError) as caught:
        hub.download_repo(inspection, tmp_path / "model", retries=0)

    assert caught.value.code == "eval:infra:checksum-mismatch"
    assert caught.value.detail.startswith("tokenizer_config.json: expected git ")


# --- download faults: each its own reason, and no partial snapshot left behind ---------------


def no_partial_snapshot(tmp_path: Path) -> None:
    """Nothing of the download is left: not the model folder, not the client's cache."""
    assert not (tmp_path / "model").exists()
    hf_home = tmp_path / "hf-home"  # the client's own home (tests/conftest.py)
    assert not hf_home.exists() or not [p for p in hf_home.rglob("*") if p.is_file()]


def failed_download(inspection: hub.RepoInspection, dest_dir: Path, retries: int) -> str:
    with pytest.raises(EvaluationError) as caught:
        hub.download_repo(inspection, dest_dir, retries=retries)
    return caught.value.code


def test_a_hub_that_keeps_truncating_a_file_ends_as_download_truncated(
    standin: StandinHub, tmp_path: Path
) -> None:
    standin.publish("alice/tiny", tiny_llama())
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    standin.fault("alice/tiny", "model.safetensors", "truncate")  # a full Content-Length

    assert failed_download(inspection, tmp_path / "model", 0) == "eval:infra:download-truncated"
    no_partial_snapshot(tmp_path)
    # huggingface_hub resumes a short body itself: five more requests before it gives up.
    assert standin.server.file_requests("alice/tiny").count("model.safetensors") == 6


def test_a_hub_that_keeps_dropping_the_connection_ends_as_download_interrupted(
    standin: StandinHub, tmp_path: Path
) -> None:
    standin.publish("alice/tiny", tiny_llama())
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    standin.fault("alice/tiny", "model.safetensors", "drop")

    assert failed_download(inspection, tmp_path / "model", 1) == "eval:infra:download-interrupted"
    no_partial_snapshot(tmp_path)
    assert standin.server.file_requests("alice/tiny").count("model.safetensors") == 2


def test_one_dropped_connection_is_downloaded_again(standin: StandinHub, tmp_path: Path) -> None:
    files = tiny_llama()
    standin.publish("alice/tiny", files)
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    standin.fault("alice/tiny", "model.safetensors", "drop", times=1)

    model_dir = hub.download_repo(inspection, tmp_path / "model", retries=1)

    assert (model_dir / "model.safetensors").read_bytes() == files["model.safetensors"]


def test_bytes_that_differ_from_the_published_sha256_end_as_checksum_mismatch(
    standin: StandinHub, tmp_path: Path
) -> None:
    standin.publish("alice/tiny", tiny_llama())
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    standin.fault("alice/tiny", "model.safetensors", "corrupt")  # right size, wrong bytes

    assert failed_download(inspection, tmp_path / "model", 1) == "eval:infra:checksum-mismatch"
    no_partial_snapshot(tmp_path)
    assert standin.server.file_requests("alice/tiny").count("model.safetensors") == 2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB tmpfs as the scratch volume. Mounting needs root, which CI runs as; a
    test run as another user skips these tests and says so."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    command = ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)]
    subprocess.run(command, check=True, capture_output=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def tiny_llama_of(size: int) -> dict[str, bytes]:
    weights = save({"lm_head.weight": np.zeros((size // 32, 8), dtype=np.float32)})
    return tiny_llama(**{"model.safetensors": weights})


def test_files_larger_than_the_free_space_are_refused_before_downloading(
    standin: StandinHub, small_disk: Path, tmp_path: Path
) -> None:
    standin.publish("alice/tiny", tiny_llama_of(512 * 1024))
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    inspected = standin.server.file_requests("alice/tiny")

    with pytest.raises(EvaluationError) as caught:
        hub.download_repo(inspection, small_disk / "model")

    assert caught.value.code == "eval:infra:disk-full"
    assert "are free" in caught.value.detail
    assert standin.server.file_requests("alice/tiny") == inspected  # nothing more was fetched
    assert list(small_disk.iterdir()) == []


def test_a_disk_that_fills_up_during_the_download_ends_as_disk_full(
    standin: StandinHub, small_disk: Path, tmp_path: Path
) -> None:
    standin.publish("alice/tiny", tiny_llama_of(128 * 1024))
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    ballast = small_disk / "another-run"

    def fill_the_disk(repo_id: str, path: str) -> None:
        # Another run on the same volume takes the room left after our check.
        if path == "model.safetensors" and not ballast.exists():
            with contextlib.suppress(OSError), ballast.open("wb", buffering=0) as handle:
                while True:  # until ENOSPC
                    handle.write(bytes(4096))

    standin.server.before_file_body = fill_the_disk

    with pytest.raises(EvaluationError) as caught:
        hub.download_repo(inspection, small_disk / "model")

    assert caught.value.code == "eval:infra:disk-full"
    assert caught.value.detail.startswith("model.safetensors: No space left on device")
    assert list(small_disk.iterdir()) == [ballast]  # ours is gone, incomplete file included
