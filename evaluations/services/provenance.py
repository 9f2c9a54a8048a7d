"""The re-upload watch's writes: what the hub said about an evaluated repo's ref.

A ref that names a new commit after the commit evaluated opens a ``ProvenanceEvent`` with the
files added, removed and changed (sizes, sha256, blob ids: the hub's metadata, no download).

- The new commit is evaluated again, with the same suite and setting, when a file the model
  load reads changed (weights, config, tokenizer); a card-only or README-only change is
  recorded and re-evaluates nothing.
- A flag opens for moderators when weights changed after claims were made on the commit
  evaluated. A re-upload is not wrongdoing by itself (fixes happen): the flag asks a moderator
  to look, and the two commits' results are shown side by side.

Recording the same move twice adds nothing (one event per old commit and new commit).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from evaluations.generation import generation_bump
from evaluations.models import (
    Claim,
    EvaluationRun,
    Flag,
    FlagKind,
    ModelRepo,
    ProvenanceEvent,
    RepoWatch,
    Revision,
    Submission,
    WatchOutcome,
    file_kind,
)
from evaluations.selectors.provenance import claims_on, evaluated_revision
from evaluations.services.flags import provenance_flag_open
from evaluations.services.submissions import submission_create

RELOADED_KINDS = frozenset({"weights", "config", "tokenizer"})
HONEST_NOTE = (
    "A re-upload is not wrongdoing by itself: fixes happen. What matters is whether the claims "
    "made on the commit evaluated still describe the weights served now; compare the two "
    "commits' results."
)


def watch_record_failure(*, repo_id: int, ref: str, outcome: str, detail: str = "") -> None:
    """The hub could not say where the ref points (repo gone, gated now, network...)."""
    _watch_update(repo_id, ref, outcome=outcome, detail=detail[:2000])


def watch_record_commit(
    *,
    repo_id: int,
    ref: str,
    commit_sha: str,
    committed_at: datetime | None,
    files: Iterable[Mapping[str, Any]],
) -> ProvenanceEvent | None:
    """The ref names ``commit_sha`` now, with these files. Returns the event it opened, if
    the ref moved after the commit evaluated and no event records that move yet."""
    with transaction.atomic():
        ModelRepo.objects.select_for_update().get(id=repo_id)  # one watch of a repo at a time
        old = evaluated_revision(repo_id)
        if old is None or old.commit_sha == commit_sha:
            _watch_update(repo_id, ref, outcome=WatchOutcome.UNCHANGED, commit_sha=commit_sha)
            return None
        _watch_update(repo_id, ref, outcome=WatchOutcome.NEW_COMMIT, commit_sha=commit_sha)
        known = ProvenanceEvent.objects.filter(
            repo_id=repo_id, old_revision=old, new_commit_sha=commit_sha
        )
        if known.exists():
            return None
        return _open_event(old, ref, commit_sha, committed_at, files)


def _watch_update(repo_id: int, ref: str, **fields: Any) -> None:
    fields.setdefault("detail", "")
    fields.setdefault("commit_sha", "")
    before = RepoWatch.objects.filter(repo_id=repo_id).values_list("outcome", flat=True).first()
    RepoWatch.objects.update_or_create(
        repo_id=repo_id, defaults={"ref": ref, "checked_at": timezone.now(), **fields}
    )
    if before != fields["outcome"]:  # the model page says what the watch last found
        generation_bump()


def _open_event(
    old: Revision,
    ref: str,
    commit_sha: str,
    committed_at: datetime | None,
    files: Iterable[Mapping[str, Any]],
) -> ProvenanceEvent:
    changes = file_changes(old.files, files)
    kinds = {entry["kind"] for group in changes.values() for entry in group}
    weights_changed = "weights" in kinds
    reevaluate = bool(kinds & RELOADED_KINDS)
    run = _queue_reevaluation(old, commit_sha) if reevaluate else None
    event = ProvenanceEvent.objects.create(
        repo_id=old.repo_id,
        ref=ref,
        old_revision=old,
        new_commit_sha=commit_sha,
        new_commit_at=committed_at,
        changes=changes,
        weights_changed=weights_changed,
        reevaluated=reevaluate,
        reevaluation=run,
    )
    claims = claims_on(old, before=event.detected_at)
    if weights_changed and claims.exists():
        _open_flag(event, claims)
    generation_bump()  # the model page shows the event
    return event


def file_changes(
    before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Files added, removed and changed between two listings, with their metadata. A file is
    the same when its sha256 (LFS files) or its blob id (small files), else its size, is."""
    old = {entry["path"]: _file(entry) for entry in before}
    new = {entry["path"]: _file(entry) for entry in after}
    return {
        "added": [new[path] for path in sorted(new.keys() - old.keys())],
        "removed": [old[path] for path in sorted(old.keys() - new.keys())],
        "changed": [
            {"path": path, "kind": new[path]["kind"], "before": old[path], "after": new[path]}
            for path in sorted(old.keys() & new.keys())
            if _identity(old[path]) != _identity(new[path])
        ],
    }


def _file(entry: Mapping[str, Any]) -> dict[str, Any]:
    path = str(entry["path"])
    return {
        "path": path,
        "kind": file_kind(path),
        "size": entry.get("size"),
        "sha256": entry.get("sha256"),
        "blob_id": entry.get("blob_id"),
    }


def _identity(file: Mapping[str, Any]) -> object:
    return file["sha256"] or file["blob_id"] or file["size"]


def _queue_reevaluation(old: Revision, commit_sha: str) -> EvaluationRun | None:
    """The new commit, in the setting of the evaluated commit's latest whole-suite run,
    submitted by the site (no user): it dispatches on commit, like any submission."""
    basis = (
        EvaluationRun.objects.finished_ok()
        .whole_suite()
        .filter(revision=old)
        .select_related("submission__repo")
        .order_by("-finished_at", "-id")
        .first()
    )
    if basis is None:
        return None
    setting: Submission = basis.submission
    outcome = submission_create(
        repo_id=setting.repo.hub_id,
        ref=commit_sha,
        suite=setting.suite,
        precision=setting.precision,
        chat_template=setting.chat_template,
        backend=setting.backend,
    )
    return outcome.run


def _open_flag(event: ProvenanceEvent, claims: QuerySet[Claim]) -> None:
    changed = [
        entry["path"]
        for group in event.changes.values()
        for entry in group
        if entry["kind"] == "weights"
    ]
    old_sha, new_sha = event.old_revision.commit_sha, event.new_commit_sha
    first_claim = min(claim.created_at for claim in claims)
    days = max(0, ((event.new_commit_at or event.detected_at) - first_claim).days)
    claims_count = len(claims)
    reason = (
        f"Weights replaced after evaluation: {claims_count} claim(s) were made on commit "
        f"{old_sha[:10]} ({first_claim:%Y-%m-%d}); {event.ref} names {new_sha[:10]} "
        f"{days} day(s) later, which changes {', '.join(changed)}. {HONEST_NOTE}"
    )
    provenance_flag_open(
        Flag(kind=FlagKind.WEIGHTS_REPLACED, provenance_event=event),
        reason=reason,
        run=event.reevaluation,
        evidence={
            "old_commit_sha": old_sha,
            "new_commit_sha": new_sha,
            "claims_on_old_commit": claims_count,
            "weight_files": changed,
            "provenance_event": event.id,
        },
    )
