"""What a signed-in person has in play: the repos they are an author of (as the hub last said)
and those they submitted or reported claims of, with every submission, run, claim and flag,
each with its state and what, if anything, they should do next. The same few queries
whatever the number of repos (``services.contributions`` records what they send)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Q

from evaluations.evidence.matching import ClaimEvidence, evidence_for_repos
from evaluations.evidence.verdicts import Verdict
from evaluations.models import (
    Claim,
    EvaluationRun,
    FlagState,
    HubMembership,
    ModelRepo,
    RunState,
    Submission,
)


@dataclass(frozen=True)
class RunWork:
    run: EvaluationRun
    next_action: str  # "" when there is nothing to do


@dataclass(frozen=True)
class ClaimWork:
    evidence: ClaimEvidence
    may_correct: bool  # this person may correct or withdraw it
    next_action: str


@dataclass
class RepoWork:
    repo: ModelRepo
    authored: bool  # the hub last said this person is an author of it
    runs: list[RunWork] = field(default_factory=list)
    claims: list[ClaimWork] = field(default_factory=list)

    @property
    def to_do(self) -> int:
        """How many of its rows ask something of the person."""
        acting = [entry.next_action for entry in self.runs]
        acting += [entry.next_action for entry in self.claims]
        return sum(1 for action in acting if action and not action.startswith("wait"))


def owners(membership: HubMembership | None) -> list[str]:
    """The hub names whose repos this person is an author of, in lower case."""
    if membership is None or membership.source == HubMembership.Source.EXPIRED:
        return []
    return sorted({membership.hub_username.lower(), *(org.lower() for org in membership.orgs)})


def work_of(user: User) -> list[RepoWork]:
    """Every repo the person authors, submitted or reported a claim of, newest activity
    first, with its runs (newest first) and current claims."""
    membership = HubMembership.objects.filter(user=user).order_by("-checked_at", "-id").first()
    names = owners(membership)
    # Subqueries, not joins: a join over both submissions and claims multiplies their rows.
    theirs = Q(id__in=Submission.objects.filter(submitted_by=user).values("repo_id")) | Q(
        id__in=Claim.objects.filter(reporter=user).values("repo_id")
    )
    for name in names:
        theirs |= Q(hub_id__istartswith=f"{name}/")
    repos = {repo.id: repo for repo in ModelRepo.objects.filter(theirs)}
    submissions = (
        Submission.objects.filter(repo_id__in=list(repos))
        .select_related("repo", "submitted_by")
        .prefetch_related("runs__revision", "runs__duplicate_of")
    )
    work = {
        repo_id: RepoWork(repo, authored=repo.hub_id.split("/", 1)[0].lower() in names)
        for repo_id, repo in repos.items()
    }
    for submission in submissions:
        for run in submission.runs.all():
            work[submission.repo_id].runs.append(RunWork(run, run_next_action(run)))
    for repo_id, rows in evidence_for_repos(list(repos)).items():
        for row in rows:
            # The page lists the user's own work: moderators' powers play no part here.
            may_correct = row.claim.correctable_by(
                user.pk, author=work[repo_id].authored, moderator=False
            )
            work[repo_id].claims.append(
                ClaimWork(row, may_correct, claim_next_action(row, may_correct))
            )
    for item in work.values():
        item.runs.sort(key=lambda entry: entry.run.created_at, reverse=True)
    return sorted(work.values(), key=_latest_activity, reverse=True)


def _latest_activity(work: RepoWork) -> tuple[object, ...]:
    moments = [entry.run.created_at for entry in work.runs]
    moments += [entry.evidence.claim.created_at for entry in work.claims]
    return (max(moments) if moments else work.repo.created_at, work.repo.id)


def run_next_action(run: EvaluationRun) -> str:
    """What the submitter does next about a run, in a few words ("" for nothing)."""
    if run.duplicate_of_id:
        return ""
    if run.state == RunState.QUEUED:
        return "wait: queued"
    if not run.is_final:
        return "wait: evaluating"
    if run.is_refused:
        return "fix the repo, then submit it again"
    if run.state == RunState.FAILED:
        return "read why it failed; submit again once it is fixed"
    if run.state == RunState.CANCELLED:
        return "submit again if it should still be measured"
    return ""


def claim_next_action(row: ClaimEvidence, may_correct: bool) -> str:
    """What the person does next about a claim ("" for nothing)."""
    verdict = row.verdict
    review = row.review
    asked = (
        review is not None
        and review.decision is not None
        and review.decision.state == FlagState.AUTHOR_ASKED
    )
    if verdict == Verdict.CONTRADICTED:
        if asked:
            return "answer the flag: a moderator asked you"
        if review is not None and review.in_force:  # confirmed by a moderator
            return "correct or withdraw the claim" if may_correct else "read the flag"
        return (
            "answer the flag, or correct or withdraw the claim"
            if may_correct
            else "answer the flag"
        )
    if verdict == Verdict.HARNESS_IN_DOUBT:
        return "wait: a moderator checks the run"
    if verdict == Verdict.PENDING:
        return "wait: a run in the claimed setting" if row.needs_run else "wait: not measured yet"
    if verdict == Verdict.NOT_COMPARABLE:
        return "correct the claim's setting, if it was mistyped" if may_correct else ""
    if asked:
        return "answer the flag: a moderator asked you"
    return ""
