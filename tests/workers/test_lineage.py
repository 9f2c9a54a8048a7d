"""The lineage check against the stand-in hub: the real huggingface_hub client, local repos.

A tiny base and a second base sit in the candidate catalogue. True alarms: a model with its own
weights whose card claims the base (unrelated), and one built on the second base whose card
names the first (closer to the second). False alarms that must not ring: an honest model
derived from the base (a merged low-rank adapter, or a full fine-tune), and the base's own
weights re-published under another name. Only headers and slabs of rows are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.test.utils import override_settings
from safetensors.numpy import save

from evaluations.models import Flag, FlagKind, LineageCheck
from evaluations.services import lineage as lineage_services
from localdev.standin import lineage_repos as stand_ins
from localdev.standin.hub_server import StandinHubServer, serve_in_thread
from localdev.standin.repos import publish_repo
from tests.factories import person
from tests.workers.test_watch import evaluated
from workers import lineage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker", "isolated_hub_client")]


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinHubServer]:
    root = tmp_path / "standin"
    stand_ins.publish_lineage_repos(root, seed=1)
    server, url = serve_in_thread(root)
    server.root = root  # type: ignore[attr-defined]
    monkeypatch.setenv("HF_ENDPOINT", url)
    with override_settings(LINEAGE_CANDIDATE_BASES=stand_ins.CATALOGUE):
        yield server
    server.shutdown()
    server.server_close()


def check(repo_id: str) -> LineageCheck:
    evaluated(repo_id)
    lineage.check_lineage()
    return LineageCheck.objects.get(repo__hub_id=repo_id)


# --- false alarms that must not ring ---------------------------------------------------------


def test_an_honest_model_derived_from_the_base_is_consistent(standin: StandinHubServer) -> None:
    result = check(stand_ins.DERIVED)
    assert result.verdict == "consistent" and result.named_bases == [stand_ins.BASE]
    named, other = result.evidence["candidates"]
    assert named["hub_id"] == stand_ins.BASE and named["relation"] == "base plus a rank-4 update"
    assert other["relation"] == "unrelated"
    assert not Flag.objects.exists()


def test_a_full_fine_tune_and_the_bases_own_weights_are_consistent(
    standin: StandinHubServer,
) -> None:
    base = stand_ins.base_tensors(11)  # the seed publish_lineage_repos(seed=1) gives BASE
    root = standin.root  # type: ignore[attr-defined]
    full = stand_ins.with_full_delta(base, seed=5)
    publish_repo(root, "ada/full-fine-tune", stand_ins.repo_files(full, base_model=stand_ins.BASE))
    publish_repo(root, "ada/base-copy", stand_ins.repo_files(base, base_model=stand_ins.BASE))
    fine_tune, copy = check("ada/full-fine-tune"), check("ada/base-copy")
    assert fine_tune.verdict == copy.verdict == "consistent"
    assert fine_tune.evidence["candidates"][0]["relation"] == "fine-tuned (a full-rank difference)"
    assert copy.evidence["candidates"][0]["relation"] == "identical in the tensors read"
    assert not Flag.objects.exists()


# --- true alarms ----------------------------------------------------------------------------


def test_an_unrelated_model_that_claims_the_base_opens_a_flag(standin: StandinHubServer) -> None:
    result = check(stand_ins.UNRELATED)
    assert result.verdict == "unrelated"
    flag = Flag.objects.get(kind=FlagKind.LINEAGE)
    assert flag.lineage_check == result and flag.repo.hub_id == stand_ins.UNRELATED
    opened = flag.events.get()
    assert "Unrelated to the named base" in opened.reason and "not hold" in opened.reason


def test_a_model_built_on_another_candidate_is_closer_to_it(standin: StandinHubServer) -> None:
    result = check(stand_ins.MISNAMED)
    assert result.verdict == "closer-to-other" and result.closer_to == stand_ins.OTHER_BASE
    assert Flag.objects.get().kind == FlagKind.LINEAGE


# --- what it reads, and when ------------------------------------------------------------------


def test_it_reads_slabs_of_a_sharded_repo_by_range_and_counts_the_bytes(
    standin: StandinHubServer,
) -> None:
    tensors = stand_ins.with_low_rank_delta(stand_ins.base_tensors(11), seed=7)
    names = sorted(tensors)
    first, second = names[: len(names) // 2], names[len(names) // 2 :]
    files = stand_ins.repo_files(tensors, base_model=stand_ins.BASE)
    del files["model.safetensors"]
    files["model-00001-of-00002.safetensors"] = save({n: tensors[n] for n in first})
    files["model-00002-of-00002.safetensors"] = save({n: tensors[n] for n in second})
    weight_map = {n: "model-00001-of-00002.safetensors" for n in first}
    weight_map |= {n: "model-00002-of-00002.safetensors" for n in second}
    files["model.safetensors.index.json"] = json.dumps({"weight_map": weight_map}).encode()
    root = standin.root  # type: ignore[attr-defined]
    publish_repo(root, "ada/sharded", files)
    with override_settings(LINEAGE_MAX_BYTES_PER_TENSOR=2048):
        result = check("ada/sharded")
    assert result.verdict == "consistent"
    assert {t["rows_compared"] for t in result.evidence["candidates"][0]["tensors"]} == {8, 4}
    weight_requests = [
        r
        for r in standin.request_log
        if r.path.startswith("/ada/sharded/") and "safetensors" in r.path
    ]
    assert weight_requests and all(r.range for r in weight_requests)
    assert 0 < result.bytes_read and result.weights_bytes > 0


def test_each_evaluated_commit_is_checked_once(standin: StandinHubServer) -> None:
    evaluated(stand_ins.DERIVED)
    assert lineage.check_lineage() == {"consistent": 1}
    assert lineage.check_lineage() == {}


def test_a_card_without_a_base_is_recorded_without_a_flag(standin: StandinHubServer) -> None:
    result = check(stand_ins.OTHER_BASE)
    assert result.verdict == "no-named-base" and not Flag.objects.exists()


# --- pages ------------------------------------------------------------------------------------


def test_the_model_page_the_api_and_the_flag_show_the_evidence(
    standin: StandinHubServer, client: Client
) -> None:
    result = check(stand_ins.UNRELATED)
    html = client.get(f"/models/{stand_ins.UNRELATED}/").content.decode()
    assert 'id="signal-lineage"' in html and f'id="lineage-{result.id}"' in html
    assert "model.layers.0.self_attn.q_proj.weight" in html and "effective rank" in html
    assert "share no origin with the named base" in html
    rows = client.get(f"/api/v1/models/{stand_ins.UNRELATED}/provenance").json()
    (row,) = [row for row in rows if row["kind"] == "lineage"]
    assert row["verdict"] == "unrelated" and row["flag_id"] == result.flag.id
    assert row["evidence"]["candidates"][0]["tensors"]
    client.force_login(person("mona", moderator=True))
    flag_page = client.get(f"/flags/{result.flag.id}/").content.decode()
    assert "Unrelated to the named base" in flag_page and stand_ins.BASE in flag_page
    assert stand_ins.UNRELATED in client.get("/moderation/").content.decode()


def test_a_model_not_checked_yet_says_so(standin: StandinHubServer, client: Client) -> None:
    evaluated(stand_ins.DERIVED)
    html = client.get(f"/models/{stand_ins.DERIVED}/").content.decode()
    assert "have not been compared with the base the card names yet" in html


def test_moderators_add_and_retire_candidate_bases() -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    from evaluations.selectors.lineage import lineage_candidates

    mona, outsider = person("mona", moderator=True), person("eve")
    reason = "Commonly named base for recent fine-tunes."
    with override_settings(LINEAGE_CANDIDATE_BASES=["meta-llama/Llama-3.1-8B"]):
        lineage_services.lineage_base_add(user=mona, hub_id="org/new-base", reason=reason)
        lineage_services.lineage_base_retire(
            user=mona, hub_id="meta-llama/Llama-3.1-8B", reason=reason
        )
        assert lineage_candidates() == ["org/new-base"]
        with pytest.raises(PermissionDenied):
            lineage_services.lineage_base_add(user=outsider, hub_id="org/x", reason=reason)
        with pytest.raises(ValidationError):
            lineage_services.lineage_base_add(user=mona, hub_id="not a repo", reason=reason)


def test_moderators_change_the_candidate_bases_from_the_site(client: Client) -> None:
    reason = "Commonly named base for recent fine-tunes."
    client.force_login(person("eve"))
    assert client.get("/moderation/lineage-bases/").status_code == 403
    client.force_login(person("mona", moderator=True))
    with override_settings(LINEAGE_CANDIDATE_BASES=["meta-llama/Llama-3.1-8B"]):
        page = client.get("/moderation/lineage-bases/").content.decode()
        assert "meta-llama/Llama-3.1-8B" in page
        form = {"hub_id": "org/new-base", "action": "add", "reason": reason}
        assert client.post("/moderation/lineage-bases/", form).status_code == 302
        refused = client.post("/moderation/lineage-bases/", {**form, "hub_id": "not a repo"})
        assert refused.status_code == 400 and "hub repo id" in refused.content.decode()
        page = client.get("/moderation/lineage-bases/").content.decode()
    assert "org/new-base" in page and reason in page


def test_a_gated_named_base_is_inconclusive_not_an_alarm(standin: StandinHubServer) -> None:
    root = standin.root  # type: ignore[attr-defined]
    publish_repo(
        root, "gated-lab/base", stand_ins.repo_files(stand_ins.base_tensors(11)), gated=True
    )
    tensors = stand_ins.with_low_rank_delta(stand_ins.base_tensors(11), seed=3)
    publish_repo(root, "ada/on-gated", stand_ins.repo_files(tensors, base_model="gated-lab/base"))
    result = check("ada/on-gated")
    assert result.verdict == "inconclusive" and "gated" in result.summary
    assert not Flag.objects.exists()


def test_a_candidate_with_other_shapes_is_not_read(standin: StandinHubServer) -> None:
    root = standin.root  # type: ignore[attr-defined]
    wide = stand_ins.repo_files(stand_ins.base_tensors(5), hidden_size=128)
    publish_repo(root, "wide-lab/base", wide)
    with override_settings(LINEAGE_CANDIDATE_BASES=[*stand_ins.CATALOGUE, "wide-lab/base"]):
        result = check(stand_ins.DERIVED)
    assert result.verdict == "consistent"
    (wide_row,) = [c for c in result.evidence["candidates"] if c["hub_id"] == "wide-lab/base"]
    assert wide_row["status"] == "shapes differ" and not wide_row["tensors"]
    wide_paths = [r.path for r in standin.request_log if r.path.startswith("/wide-lab/base/")]
    assert any(path.endswith("/config.json") for path in wide_paths)
    assert not any(path.endswith(".safetensors") for path in wide_paths)


def test_the_rankings_can_hide_a_model_with_a_lineage_flag(
    standin: StandinHubServer, client: Client
) -> None:
    check(stand_ins.UNRELATED)
    check(stand_ins.DERIVED)

    every = {row["hub_id"]: row for row in client.get("/api/v1/rankings").json()["rows"]}
    kept = client.get("/api/v1/rankings?hide_provenance=1").json()["rows"]

    assert every[stand_ins.UNRELATED]["provenance_flagged"] is True
    assert every[stand_ins.DERIVED]["provenance_flagged"] is False
    assert [row["hub_id"] for row in kept] == [stand_ins.DERIVED]
