"""The demo's Reflection-style case, step by step, against the stand-in hub and the database.

Ada submitted ``demo-org/tiny-reflection`` over-claiming. Its card names one base while its
weights are another base plus an adapter; once its run has finished the demo re-uploads its
weights and registers, as Ada, an endpoint that serves another model. Each step waits for
the run, then acts once: a second demo start finds it done. With the four facts recorded
through the real services (the lineage check and the re-upload watch run for real against
the stand-in hub), the model page raises all four provenance signals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from evaluations import services
from evaluations.models import EndpointVerdict, Flag, FlagKind, HostedEndpoint, ProvenanceEvent
from evaluations.services.endpoints import endpoint_check_record
from localdev import reflection_case
from localdev.reflection_case import REFLECTION
from localdev.standin import reflection_repo
from localdev.standin.hub_server import StandinHubServer, serve_in_thread
from localdev.tiny_models import build_tiny_model
from tests.factories import person
from tests.workers.test_watch import evaluated
from workers import lineage, watch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker", "isolated_hub_client")]
ENDPOINT_URL = "http://127.0.0.1:8001/v1"


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model's folder, whose tokenizer the Reflection-style repos ship."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture
def hub_root(
    tmp_path: Path, tokenizer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    root = tmp_path / "standin"
    shas = reflection_repo.publish_reflection_repos(root, tokenizer_dir)
    server: StandinHubServer
    server, url = serve_in_thread(root)
    monkeypatch.setenv("HF_ENDPOINT", url)
    root.joinpath("published-sha").write_text(shas[REFLECTION])
    candidates = [reflection_repo.NAMED_BASE, reflection_repo.ACTUAL_BASE]
    with override_settings(
        LINEAGE_CANDIDATE_BASES=candidates, ENDPOINT_ALLOW_PRIVATE_ADDRESSES=True
    ):
        yield root
    server.shutdown()
    server.server_close()


def published(root: Path) -> str:
    return root.joinpath("published-sha").read_text()


def ada() -> object:
    return person("ada", hub="ada", orgs=("demo-org", "other-lab"))


def over_claims() -> None:
    claims = [
        services.ClaimInput(benchmark=key, value=value, unit="percent", shots=shots)
        for key, value, shots in reflection_repo.REFLECTION_CLAIMS
    ]
    services.claims_record(repo_id=REFLECTION, source="submission", claims=claims)


def test_the_reupload_waits_for_the_run_then_happens_once(hub_root: Path) -> None:
    sha = published(hub_root)
    assert reflection_case.reupload_step(hub_root, sha) is None  # never evaluated
    evaluated(REFLECTION, value=0.3)
    line = reflection_case.reupload_step(hub_root, sha)
    assert line is not None and "re-uploaded on main" in line
    moved = reflection_case.main_commit(hub_root)
    assert moved != sha
    again = reflection_case.reupload_step(hub_root, sha)  # a second demo start
    assert again == f"{REFLECTION}: weights re-uploaded on main by an earlier demo run"
    assert reflection_case.main_commit(hub_root) == moved


def test_the_endpoint_waits_for_the_run_then_is_registered_once_as_its_author(
    hub_root: Path,
) -> None:
    ada()
    services.submission_create(repo_id=REFLECTION)  # submitted, not evaluated yet
    assert reflection_case.endpoint_step("ada", ENDPOINT_URL) is None
    assert not HostedEndpoint.objects.exists()
    evaluated(REFLECTION, value=0.3)
    line = reflection_case.endpoint_step("ada", ENDPOINT_URL)
    assert line is not None and "registered by ada" in line
    endpoint = HostedEndpoint.objects.get()
    assert (endpoint.base_url, endpoint.registered_as) == (ENDPOINT_URL, "author")
    again = reflection_case.endpoint_step("ada", ENDPOINT_URL)
    assert again == f"{REFLECTION}: its endpoint was registered by an earlier demo run"
    assert HostedEndpoint.objects.count() == 1


def test_a_failing_step_is_said_once_and_the_others_go_on(
    hub_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    case = reflection_case.ReflectionCase(
        hub_root, published(hub_root), "ada", ENDPOINT_URL, said.append
    )
    case.advance()  # nothing evaluated: every step waits
    assert said == [] and case.pending == ["reupload", "endpoint", "signals"]
    monkeypatch.setattr(reflection_case, "main_commit", lambda root: 1 / 0)
    case.advance()
    case.advance()
    assert said == [f"{REFLECTION}: the reupload step failed (ZeroDivisionError: division by zero)"]
    assert case.pending == ["endpoint", "signals"]


def signal_badges(html: str) -> dict[str, str]:
    found = re.findall(
        r'id="signal-([\w-]+)">\s*<h3>[^<]*<span class="badge signal-([\w-]+)"', html
    )
    return dict(found)


def test_with_the_four_facts_recorded_the_page_raises_four_signals(hub_root: Path) -> None:
    ada()
    evaluated(REFLECTION, value=0.3)  # about chance on Smoke ARC
    over_claims()  # 95 % claimed: contradicted
    lineage.check_lineage()  # the real check, against both bases on the stand-in hub
    case = reflection_case.ReflectionCase(hub_root, published(hub_root), "ada", ENDPOINT_URL, print)
    case.advance()  # re-uploads the weights, registers the endpoint; the signals wait
    assert case.pending == ["signals"]
    watch.watch_reuploads()  # the real watch sees the new commit
    endpoint = HostedEndpoint.objects.get()
    endpoint_check_record(
        endpoint_id=endpoint.id,
        revision_id=None,
        weights_run_id=None,
        verdict=EndpointVerdict.DIFFERS,
        summary="The endpoint's completions differ from the weights' (p < 0.001).",
        evidence={"mmd": {"p_value": 0.001, "statistic": 0.4}},
        started_at=timezone.now(),
    )

    assert reflection_case.signals_step() == (
        f"{REFLECTION}: all four provenance signals raised: open /models/{REFLECTION}/"
    )
    event = ProvenanceEvent.objects.get()
    assert event.weights_changed and hasattr(event, "flag")
    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert {FlagKind.LINEAGE, FlagKind.ENDPOINT} <= kinds
    html = Client().get(f"/models/{REFLECTION}/").content.decode()
    assert signal_badges(html) == {
        "score-gap": "flagged",
        "re-upload": "flagged",
        "lineage": "flagged",
        "endpoint": "differs",
    }
    assert "closer to" in html and reflection_repo.ACTUAL_BASE in html
