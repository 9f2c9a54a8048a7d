"""The stand-in hub, spoken to by the real huggingface_hub client as production would.

These tests pin the HTTP surface the client reads (fields, headers, error codes), so that a
test of workers.hub against the stand-in means what it would mean against the real hub.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import numpy as np
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from safetensors.numpy import save

from localdev.standin.hub_server import StandinHubServer, serve_in_thread
from localdev.standin.repos import add_user, parse_front_matter, publish_repo, tamper_file

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated_client(isolated_hub_client: None) -> None:
    """Every test here talks to the stand-in hub only (tests/conftest.py)."""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "standin"


@pytest.fixture
def server(root: Path) -> Iterator[StandinHubServer]:
    server, _ = serve_in_thread(root)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(server: StandinHubServer) -> HfApi:
    return HfApi(endpoint=server.url, token=False)


def weights() -> bytes:
    return save(
        {
            "embed.weight": np.zeros((16, 4), dtype=np.float32),
            "norm.weight": np.ones((4,), dtype=np.float16),
        }
    )


def model_files(**extra: bytes) -> dict[str, bytes]:
    files = {
        "config.json": json.dumps(
            {
                "model_type": "llama",
                "architectures": ["LlamaForCausalLM"],
                "hidden_size": 4,
            }
        ).encode(),
        "model.safetensors": weights(),
        "README.md": b"---\nlicense: mit\ntags:\n- tiny\n- 'test'\n---\n# Tiny\n",
    }
    files.update(extra)
    return files


def download(
    server: StandinHubServer, tmp_path: Path, repo_id: str, filename: str, revision: str = "main"
) -> Path:
    return Path(
        hf_hub_download(
            repo_id,
            filename,
            revision=revision,
            endpoint=server.url,
            cache_dir=tmp_path / "cache",
            token=False,
        )
    )


# --- model_info -----------------------------------------------------------------------------


def test_it_answers_model_info_with_files_metadata(
    root: Path, server: StandinHubServer, api: HfApi
) -> None:
    files = model_files()
    commit_sha = publish_repo(root, "alice/tiny", files)

    info = api.model_info("alice/tiny", files_metadata=True)

    assert info.sha == commit_sha
    assert info.private is False and info.gated is False
    siblings = {sibling.rfilename: sibling for sibling in info.siblings or []}
    weights_sibling = siblings["model.safetensors"]
    assert weights_sibling.lfs is not None
    assert weights_sibling.lfs.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()
    assert weights_sibling.lfs.size == len(files["model.safetensors"])
    assert siblings["config.json"].lfs is None
    assert siblings["config.json"].size == len(files["config.json"])
    assert info.card_data is not None and info.card_data.license == "mit"
    assert info.config == {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
    assert info.safetensors is not None
    assert info.safetensors.parameters == {"F32": 64, "F16": 4}
    assert info.safetensors.total == 68


def test_it_answers_model_info_at_a_revision(root: Path, api: HfApi) -> None:
    first_sha = publish_repo(root, "alice/tiny", model_files())
    second_sha = publish_repo(root, "alice/tiny", model_files(**{"extra.json": b"{}"}))

    assert api.model_info("alice/tiny", revision=first_sha).sha == first_sha
    assert api.model_info("alice/tiny", revision="main").sha == second_sha
    assert api.model_info("alice/tiny").sha == second_sha


def test_it_lists_only_file_names_without_blobs(root: Path, api: HfApi) -> None:
    publish_repo(root, "alice/tiny", model_files())

    info = api.model_info("alice/tiny")

    assert all(sibling.size is None and sibling.lfs is None for sibling in info.siblings or [])


def test_it_applies_metadata_overrides(root: Path, api: HfApi) -> None:
    huge = {"safetensors": {"parameters": {"BF16": 70_000_000_000}, "total": 70_000_000_000}}
    publish_repo(root, "alice/huge", model_files(), metadata_overrides=huge)

    info = api.model_info("alice/huge")

    assert info.safetensors is not None and info.safetensors.total == 70_000_000_000


def test_it_takes_card_data_over_the_readme(root: Path, api: HfApi) -> None:
    card = {"license": "other", "license_name": "tiny-licence", "model-index": []}
    publish_repo(root, "alice/tiny", model_files(), card_data=card)

    info = api.model_info("alice/tiny")

    assert info.card_data is not None and info.card_data.license_name == "tiny-licence"


# --- errors, as the client classifies them ----------------------------------------------------


def test_it_answers_missing_repo_as_repository_not_found(api: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError) as caught:
        api.model_info("alice/never-published")

    assert caught.value.response.headers["X-Error-Code"] == "RepoNotFound"


def test_it_answers_private_repo_like_a_missing_one(root: Path, api: HfApi) -> None:
    publish_repo(root, "alice/secret", model_files(), private=True)

    with pytest.raises(RepositoryNotFoundError) as caught:
        api.model_info("alice/secret")

    assert caught.value.response.status_code == 401


def test_it_gates_files_but_not_model_info(
    root: Path, server: StandinHubServer, api: HfApi, tmp_path: Path
) -> None:
    publish_repo(root, "alice/gated", model_files(), gated=True)

    info = api.model_info("alice/gated")
    with pytest.raises(GatedRepoError):
        download(server, tmp_path, "alice/gated", "config.json")

    assert info.gated == "manual"


def test_it_answers_unknown_revision(
    root: Path, server: StandinHubServer, api: HfApi, tmp_path: Path
) -> None:
    publish_repo(root, "alice/tiny", model_files())

    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/tiny", revision="nope")
    with pytest.raises(RevisionNotFoundError):
        download(server, tmp_path, "alice/tiny", "config.json", revision="f" * 40)


def test_it_answers_missing_file(root: Path, server: StandinHubServer, tmp_path: Path) -> None:
    commit_sha = publish_repo(root, "alice/tiny", model_files())

    with pytest.raises(RemoteEntryNotFoundError) as caught:
        download(server, tmp_path, "alice/tiny", "tokenizer.json")

    assert caught.value.response.headers["X-Repo-Commit"] == commit_sha


# --- files ----------------------------------------------------------------------------------


def test_it_serves_files_with_the_headers_the_client_reads(
    root: Path, server: StandinHubServer
) -> None:
    files = model_files()
    commit_sha = publish_repo(root, "alice/tiny", files)
    sha256 = hashlib.sha256(files["model.safetensors"]).hexdigest()

    head = httpx2.head(f"{server.url}/alice/tiny/resolve/main/model.safetensors")

    assert head.status_code == 200
    assert head.headers["X-Repo-Commit"] == commit_sha
    assert head.headers["X-Linked-Etag"] == f'"{sha256}"'
    assert head.headers["X-Linked-Size"] == str(len(files["model.safetensors"]))
    assert head.headers["Content-Length"] == str(len(files["model.safetensors"]))


def test_it_honours_range_requests(root: Path, server: StandinHubServer) -> None:
    files = model_files()
    publish_repo(root, "alice/tiny", files)
    url = f"{server.url}/alice/tiny/resolve/main/model.safetensors"
    total = len(files["model.safetensors"])

    first_bytes = httpx2.get(url, headers={"Range": "bytes=0-7"})
    past_the_end = httpx2.get(url, headers={"Range": "bytes=0-100000"})

    assert first_bytes.status_code == 206
    assert first_bytes.content == files["model.safetensors"][:8]
    assert first_bytes.headers["Content-Range"] == f"bytes 0-7/{total}"
    assert past_the_end.content == files["model.safetensors"]


def test_it_serves_safetensors_headers_to_the_client(root: Path, api: HfApi) -> None:
    publish_repo(root, "alice/tiny", model_files())

    metadata = api.get_safetensors_metadata("alice/tiny")

    assert metadata.parameter_count == {"F32": 64, "F16": 4}


def test_it_downloads_a_file_at_a_commit(
    root: Path, server: StandinHubServer, tmp_path: Path
) -> None:
    files = model_files()
    commit_sha = publish_repo(root, "alice/tiny", files)

    path = download(server, tmp_path, "alice/tiny", "model.safetensors", revision=commit_sha)

    assert path.read_bytes() == files["model.safetensors"]
    assert commit_sha in str(path)


def test_it_keeps_old_commits_after_a_new_publish(
    root: Path, server: StandinHubServer, tmp_path: Path
) -> None:
    first_sha = publish_repo(root, "alice/tiny", model_files())
    second_sha = publish_repo(root, "alice/tiny", model_files(**{"config.json": b"{}"}))

    old = download(server, tmp_path, "alice/tiny", "config.json", revision=first_sha)
    new = download(server, tmp_path, "alice/tiny", "config.json", revision="main")

    assert first_sha != second_sha
    assert json.loads(old.read_text())["model_type"] == "llama"
    assert new.read_text() == "{}"


def test_it_gives_a_new_commit_for_the_same_files_published_again(root: Path) -> None:
    first_sha = publish_repo(root, "alice/tiny", model_files())
    second_sha = publish_repo(root, "alice/tiny", model_files())

    assert first_sha != second_sha  # the parent differs, as in git
    assert len(second_sha) == 40


def test_it_serves_tampered_bytes_under_the_published_checksum(
    root: Path, server: StandinHubServer, api: HfApi
) -> None:
    files = model_files()
    commit_sha = publish_repo(root, "alice/tiny", files)
    tamper_file(root, "alice/tiny", commit_sha, "model.safetensors", b"damaged")

    served = httpx2.get(f"{server.url}/alice/tiny/resolve/{commit_sha}/model.safetensors")
    info = api.model_info("alice/tiny", files_metadata=True)

    assert served.content == b"damaged"
    lfs = {s.rfilename: s.lfs for s in info.siblings or []}["model.safetensors"]
    assert lfs is not None
    assert lfs.sha256 == hashlib.sha256(files["model.safetensors"]).hexdigest()


def test_it_supports_snapshot_download_with_allow_patterns(
    root: Path, server: StandinHubServer, tmp_path: Path
) -> None:
    publish_repo(root, "alice/tiny", model_files(**{"pytorch_model.bin": b"pickle"}))

    local = snapshot_download(
        "alice/tiny",
        allow_patterns=["*.json", "*.safetensors"],
        local_dir=tmp_path / "snapshot",
        endpoint=server.url,
        cache_dir=tmp_path / "cache",
        token=False,
    )

    names = {path.name for path in Path(local).iterdir() if path.is_file()}
    assert names == {"config.json", "model.safetensors"}
    assert sorted(server.file_requests("alice/tiny", "GET")) == ["config.json", "model.safetensors"]


# --- refs and users -------------------------------------------------------------------------


def test_it_lists_branches(root: Path, api: HfApi) -> None:
    main_sha = publish_repo(root, "alice/tiny", model_files())
    dev_sha = publish_repo(root, "alice/tiny", model_files(**{"x.json": b"{}"}), branch="dev")

    refs = api.list_repo_refs("alice/tiny")

    assert {(ref.name, ref.target_commit) for ref in refs.branches} == {
        ("main", main_sha),
        ("dev", dev_sha),
    }


def test_it_tells_who_a_token_belongs_to(root: Path, server: StandinHubServer) -> None:
    add_user(root, "test-token-alice", "alice", orgs=("tiny-lab",))

    user = HfApi(endpoint=server.url).whoami(token="test-token-alice")

    assert user["name"] == "alice"
    assert [org["name"] for org in user["orgs"]] == ["tiny-lab"]


def test_it_refuses_an_unknown_token(server: StandinHubServer) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=server.url).whoami(token="test-token-nobody")

    assert caught.value.response.status_code == 401


# --- starting it ----------------------------------------------------------------------------


def test_it_refuses_to_bind_beyond_loopback(root: Path) -> None:
    with pytest.raises(ValueError, match="loopback"):
        serve_in_thread(root, host="0.0.0.0")  # noqa: S104 - the address under test


def test_it_announces_its_address_from_the_command_line(root: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "localdev.standin.hub_server",
        "--root",
        str(root),
        "--port",
        "0",
    ]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("LISTENING http://127.0.0.1:")
        response = httpx2.get(f"{line.split()[1]}/api/models/alice/missing")
        assert response.headers["X-Error-Code"] == "RepoNotFound"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_it_reads_front_matter_lists_and_scalars() -> None:
    card = parse_front_matter('---\nlicense: mit\ntags:\n- a\n- "b"\nlikes: 3\n---\ntext')

    assert card == {"license": "mit", "tags": ["a", "b"], "likes": 3}


def test_it_refuses_an_alias_bomb_in_a_published_card_instead_of_expanding_it(
    root: Path, api: HfApi
) -> None:
    from tests.evaluations.test_card_loading import alias_bomb

    bomb = alias_bomb().replace("---\n", "---\nlicense: mit\n", 1)
    assert parse_front_matter(bomb) == {}  # a million values, had it been expanded

    publish_repo(root, "mallory/bomb", model_files(**{"README.md": bomb.encode()}))
    info = api.model_info("mallory/bomb")

    assert not (info.card_data.to_dict() if info.card_data is not None else {})
    commit = next((root / "mallory" / "bomb" / "commits").glob("*.json"))
    assert commit.stat().st_size < 10_000


def test_it_lists_pull_request_refs_and_open_pull_requests_as_the_client_reads_them(
    tmp_path: Path,
) -> None:
    from huggingface_hub import HfApi

    from localdev.standin.pulls import publish_pull_request

    publish_repo(tmp_path, "lab/model", {"config.json": b"{}"})
    number, sha = publish_pull_request(
        tmp_path, "lab/model", {".eval_results/a.yaml": b"[]"}, author="quill"
    )
    publish_pull_request(tmp_path, "lab/model", {"b.txt": b"b"}, author="x", status="closed")
    server, url = serve_in_thread(tmp_path)
    try:
        api = HfApi(endpoint=url)
        refs = api.list_repo_refs("lab/model", include_pull_requests=True)
        opened = list(
            api.get_repo_discussions(
                "lab/model", discussion_type="pull_request", discussion_status="open"
            )
        )
        info = api.model_info("lab/model", revision=sha)
        plain = api.list_repo_refs("lab/model")
    finally:
        server.shutdown()
    assert [(r.ref, r.target_commit) for r in refs.pull_requests][0] == ("refs/pr/1", sha)
    assert len(refs.pull_requests) == 2 and not plain.pull_requests
    assert [(d.num, d.author, d.status) for d in opened] == [(number, "quill", "open")]
    assert {s.rfilename for s in info.siblings} == {"config.json", ".eval_results/a.yaml"}
