"""The demo's Reflection-style case, played out while the demo waits.

``demo-org/tiny-reflection`` is submitted with the other demo models, over-claiming. Once its
run has finished, the demo re-uploads its weights on main (the re-upload watch opens an event
and a flag) and registers, as its author, the endpoint said to serve it, which serves another
model (the endpoint check says it differs); the lineage check finds on its own that the
weights come from another base than the card names. Each step is a function that looks at the
hub and the database first, so a second demo start repeats nothing already done; it returns
the line the demo says once it is done, or None while it waits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from localdev.standin.reflection_repo import ACTUAL_BASE, NAMED_BASE, REFLECTION, reupload_weights
from localdev.standin.repos import RepoStore

ENDPOINT_SERVED_NAME = "tiny-reflection"
PAGE = f"/models/{REFLECTION}/"
# The demo's settings for the case: the watch and the lineage check every 30 s, both bases
# among the lineage candidates, the endpoint on 127.0.0.1 checked on the demo's cpu worker,
# scored on 20 items per task (enough to pair, quick on a CPU).
DEMO_SETTINGS = {
    "PROVENANCE_WATCH_INTERVAL": "30",
    "LINEAGE_CHECK_INTERVAL": "30",
    "LINEAGE_CANDIDATE_BASES": f"{NAMED_BASE},{ACTUAL_BASE}",
    "ENDPOINT_ALLOW_PRIVATE_ADDRESSES": "1",
    "ENDPOINT_QUEUE": "cpu",
    "ENDPOINT_SCORE_LIMIT": "20",
}
SIGNALS = {
    "score-gap": "the claims contradicted",
    "lineage": "weights closer to another base than the one named",
    "re-upload": "weights replaced after claims",
    "endpoint": "an endpoint serving another model",
}
FLAGGED = ("flagged", "differs")


def _evaluated() -> bool:
    """Whether a run of the repo finished with scores (the weights were measured)."""
    from evaluations.models import ModelRepo
    from evaluations.selectors.provenance import evaluated_revision

    repo = ModelRepo.objects.filter(hub_id=REFLECTION).first()
    return repo is not None and evaluated_revision(repo.id) is not None


def main_commit(hub_root: Path) -> str:
    store = RepoStore(hub_root)
    repo = store.repo(REFLECTION)
    assert repo is not None, f"{REFLECTION} is not published on the stand-in hub"
    return repo.branches["main"]


def reupload_step(hub_root: Path, published_sha: str) -> str | None:
    """Once the first run has finished, re-upload the weights on main (once: main names
    another commit than the one published after that)."""
    from localdev.standin.demo_repos import replace_weights

    if main_commit(hub_root) != published_sha:
        return f"{REFLECTION}: weights re-uploaded on main by an earlier demo run"
    if not _evaluated():
        return None
    sha = replace_weights(hub_root, REFLECTION, reupload_weights())
    return (
        f"{REFLECTION}: evaluated; its weights re-uploaded on main (commit {sha[:12]}), "
        "the re-upload watch sees it within 30 s"
    )


def endpoint_step(author: str, base_url: str) -> str | None:
    """Once the weights were measured, register the endpoint as their author (its check is
    queued on commit); once: an endpoint of the repo in service is left alone."""
    from django.contrib.auth.models import User

    from evaluations.models import ApiKind, HostedEndpoint
    from evaluations.services.endpoints import endpoint_register

    if HostedEndpoint.objects.filter(repo__hub_id=REFLECTION, retired_at__isnull=True).exists():
        return f"{REFLECTION}: its endpoint was registered by an earlier demo run"
    if not _evaluated():
        return None
    endpoint = endpoint_register(
        user=User.objects.get(username=author),
        repo_id=REFLECTION,
        base_url=base_url,
        served_model=ENDPOINT_SERVED_NAME,
        api_kind=ApiKind.COMPLETIONS,
    )
    return (
        f"{REFLECTION}: endpoint {endpoint.base_url} registered by {author} (it serves another "
        "model); its check is queued on the cpu worker"
    )


def signals_step(page_url: str = PAGE) -> str | None:
    """Done when the model page (at ``page_url``) shows all four signals raised."""
    from evaluations.evidence.matching import claim_evidence
    from evaluations.models import ModelRepo
    from evaluations.selectors.provenance import provenance_signals

    repo = ModelRepo.objects.filter(hub_id=REFLECTION).select_related("watch").first()
    if repo is None:
        return None
    raised = {
        signal.key
        for signal in provenance_signals(repo, claim_evidence(repo.id))
        if signal.verdict in FLAGGED
    }
    if not raised.issuperset(SIGNALS):
        return None
    return f"{REFLECTION}: all four provenance signals raised: open {page_url}"


@dataclass
class ReflectionCase:
    """The steps still to do; ``advance`` runs each pending one and says those that are done."""

    hub_root: Path
    published_sha: str
    author: str
    endpoint_url: str
    say: Callable[[str], None]
    page_url: str = PAGE
    pending: list[str] = field(default_factory=lambda: ["reupload", "endpoint", "signals"])

    def advance(self) -> None:
        steps: dict[str, Callable[[], str | None]] = {
            "reupload": lambda: reupload_step(self.hub_root, self.published_sha),
            "endpoint": lambda: endpoint_step(self.author, self.endpoint_url),
            "signals": lambda: signals_step(self.page_url),
        }
        for name in list(self.pending):
            try:
                line = steps[name]()
            except Exception as error:  # the demo goes on; the step is not tried again
                line = f"{REFLECTION}: the {name} step failed ({type(error).__name__}: {error})"
            if line is not None:
                self.pending.remove(name)
                self.say(line)


def page_lines(site_address: str) -> list[str]:
    """What the accounts box says of the case."""
    return [
        f"Reflection-style case: http://{site_address}{PAGE}",
        "  within minutes its Provenance panel raises four signals: claims contradicted,",
        "  weights from another base than named, weights re-uploaded after the claims,",
        "  and an endpoint serving another model",
    ]
