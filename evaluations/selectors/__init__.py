"""Every read of the domain: what pages, the admin, the API and the services look up. No
writes here, and no selector imports a service (services may import selectors; the import
contract in pyproject.toml holds it).

The modules mirror ``services`` where a concern has both:

- ``runs``: runs and the commits they measured;
- ``flags``: which flags stand, a model's history;
- ``moderation``: the queue of flags to decide, the models moderators hid;
- ``discussions``: a flag's comments and actions, the audit log;
- ``open_data``: the open-data API's paged lists;
- ``comparison``: the compare and scatter pages;
- ``rankings``: the rankings' rows and pages, over ``ranking_query`` (filters, sort) and
  ``standings`` (ranks and ties, kept per generation);
- ``read_models``: the rows the rankings' read table is derived from (``services.read_models``
  writes the table).

The reads that pages and the API share most are named here too; the rest are read from
their modules.
"""

from evaluations.selectors.flags import (
    RepoClaims,
    flag_history,
    flagged_repo_ids,
    flags_with_state,
    history_data,
    open_flags,
    repo_claims,
)
from evaluations.selectors.moderation import (
    QUEUE_SORTS,
    SEVERITY_ORDER,
    hidden_repo_ids,
    moderation_queue,
)
from evaluations.selectors.runs import (
    RevisionView,
    default_suite,
    is_repo_contributor,
    latest_full_run,
    latest_refusal,
    model_revisions,
    pending_runs,
    queue_position,
    recent_runs,
    recent_runs_kept,
    repo_runs,
    revision_changes,
    run_attempts,
)

__all__ = [
    "QUEUE_SORTS",
    "SEVERITY_ORDER",
    "RepoClaims",
    "RevisionView",
    "default_suite",
    "flag_history",
    "flagged_repo_ids",
    "flags_with_state",
    "hidden_repo_ids",
    "history_data",
    "is_repo_contributor",
    "latest_full_run",
    "latest_refusal",
    "model_revisions",
    "pending_runs",
    "moderation_queue",
    "open_flags",
    "queue_position",
    "run_attempts",
    "recent_runs",
    "recent_runs_kept",
    "repo_claims",
    "repo_runs",
    "revision_changes",
]
