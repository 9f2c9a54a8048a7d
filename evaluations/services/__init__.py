"""Every change of state in the domain goes through these functions.

``runs``: submissions and the evaluation run's state machine. ``claims``: claims and the flags
the discrepancy rule raises on them. Views, admin, API and tasks import from here.
"""

from evaluations.services.card_import import ResultsFile, card_claims_import
from evaluations.services.claims import (
    ClaimInput,
    claims_import_card,
    claims_record,
)
from evaluations.services.contributions import (
    claim_correct,
    claim_withdraw,
    claims_submit,
    submission_submit,
)
from evaluations.services.evidence import claim_matched_runs_queue, evidence_changed
from evaluations.services.flags import flags_recompute
from evaluations.services.routing import RouteDecision, run_pin_revision, run_route
from evaluations.services.runs import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    _transition,
    run_cancel,
    run_claim,
    run_fail,
    run_heartbeat,
    run_record_inspection,
    run_record_results,
    run_retry,
    run_start_evaluating,
    runs_reap_stale,
    runs_requeue_stalled,
)
from evaluations.services.submissions import SubmissionOutcome, submission_create

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ClaimInput",
    "ResultsFile",
    "card_claims_import",
    "claim_matched_runs_queue",
    "InvalidTransition",
    "RouteDecision",
    "SubmissionOutcome",
    "_transition",
    "claims_import_card",
    "claims_record",
    "claim_correct",
    "claim_withdraw",
    "claims_submit",
    "evidence_changed",
    "flags_recompute",
    "run_cancel",
    "run_claim",
    "run_fail",
    "run_heartbeat",
    "run_pin_revision",
    "run_record_inspection",
    "run_record_results",
    "run_retry",
    "run_route",
    "run_start_evaluating",
    "runs_reap_stale",
    "runs_requeue_stalled",
    "submission_create",
    "submission_submit",
]
