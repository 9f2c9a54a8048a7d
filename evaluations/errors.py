"""Why an evaluation run failed: stable message ids and the words a person reads.

A run stores only the id (``eval:user:no-safetensors``) and an optional detail; the sentence
lives here, in one place. Ids starting ``eval:user:`` are the submitter's to fix; ids starting
``eval:infra:`` are ours.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "eval:user:repo-not-found": (
        "The repository does not exist on the hub, or it is private. Check the repo id; "
        "only public repositories can be evaluated."
    ),
    "eval:user:gated": (
        "The repository is gated: its files need an accepted licence. Only openly downloadable "
        "repositories can be evaluated."
    ),
    "eval:user:revision-not-found": (
        "The revision (branch, tag or commit) was not found in the repository."
    ),
    "eval:user:no-safetensors": (
        "The repository has no safetensors weights. Pickle-based weights (.bin, .pt, .pth, "
        ".ckpt, .pkl) can run code when loaded, so they are refused: convert them to "
        "safetensors and push a new commit."
    ),
    "eval:user:remote-code": (
        "The model needs custom code (an auto_map in its configuration or Python files in the "
        "repository). Submitted code is never run: use an architecture that transformers "
        "supports natively."
    ),
    "eval:user:unsupported-architecture": (
        "The model's architecture (model_type) is not one the installed transformers can load "
        "without custom code."
    ),
    "eval:user:no-config": "The repository has no config.json, so the model cannot be loaded.",
    "eval:user:config-too-deep": (
        "A configuration file nests its objects or lists far deeper than any model's "
        "configuration does, so it was refused before loading. Flatten it (a real "
        "configuration nests a few levels) and push a new commit."
    ),
    "eval:user:unsupported-quantisation": (
        "The model's config.json asks for a quantisation method (its quantization_config) "
        "that this worker cannot load. Submit unquantised weights (bf16 or fp16), or a "
        "version quantised with a method the detail below lists as supported."
    ),
    "eval:user:too-large": (
        "Refused: the model has more parameters than the worker's limit, so nothing was "
        "downloaded or evaluated, and nothing queues the run again."
    ),
    # Runs recorded before checksum mismatches were found to be no fault of the submitter's
    # keep this id; new runs end with eval:infra:checksum-mismatch.
    "eval:user:checksum-mismatch": (
        "A downloaded file did not match the checksum the hub published for it. The download "
        "was discarded; submit again, and if it repeats the repository's files are damaged."
    ),
    "eval:user:time-limit": (
        "The evaluation ran past the time limit for this worker and was stopped. Smaller "
        "suites or a smaller model finish sooner."
    ),
    "eval:user:model-load-failed": (
        "lm-evaluation-harness could not load the model from its files. The log below shows "
        "the error."
    ),
    "eval:infra:hub-unreachable": (
        "The hub could not be reached. This is on our side; the run can be retried."
    ),
    "eval:infra:download-truncated": (
        "The hub ended a file's download before sending all the bytes it announced, on every "
        "attempt. The partial download was deleted. This is on our side or the hub's, not "
        "the repository's; the run can be retried."
    ),
    "eval:infra:download-interrupted": (
        "The connection to the hub broke while a file was downloading, on every attempt. "
        "The partial download was deleted. This is on our side or the hub's; the run can be "
        "retried."
    ),
    "eval:infra:checksum-mismatch": (
        "A downloaded file did not match the size or checksum the hub published for it, on "
        "every attempt. The hub computes those itself, so the file was damaged on its way or "
        "in the hub's storage, not by the repository's author. The download was deleted; the "
        "run can be retried."
    ),
    "eval:infra:disk-full": (
        "The worker's scratch disk had no room for the model's files. The partial download "
        "was deleted. This is on our side; the run can be retried."
    ),
    "eval:infra:worker-lost": (
        "The worker running this evaluation stopped sending heartbeats and was presumed lost. "
        "This is on our side; the run can be retried."
    ),
    "eval:infra:evaluation-crashed": (
        "The evaluation process stopped with an error. The log below shows the last lines; "
        "the run can be retried."
    ),
    "eval:infra:unexpected": (
        "An unexpected error stopped the run. It has been logged; the run can be retried."
    ),
    "eval:cancelled": "The run was cancelled before it finished.",
}


# The submitter's errors raised when the worker inspects the repo, before any weights are
# downloaded: the repo is refused, not failed (nothing was evaluated, nothing retries it).
REFUSAL_CODES = frozenset(
    {
        "eval:user:repo-not-found",
        "eval:user:gated",
        "eval:user:revision-not-found",
        "eval:user:no-safetensors",
        "eval:user:remote-code",
        "eval:user:unsupported-architecture",
        "eval:user:no-config",
        "eval:user:too-large",
        "eval:user:config-too-deep",
        "eval:user:unsupported-quantisation",
    }
)
# The refusals in which the hub never showed us the repo (a typo, a private repo, a bad ref).
NOT_FOUND_CODES = frozenset({"eval:user:repo-not-found", "eval:user:revision-not-found"})


def is_refusal(code: str) -> bool:
    """Whether a run that failed with ``code`` was refused before evaluation."""
    return code in REFUSAL_CODES


def reason_for(code: str, detail: str = "") -> str:
    """The sentence for an error id followed by its detail, e.g. a refusal's limit."""
    message = message_for(code)
    return f"{message.rstrip('.')} ({detail})." if detail else message


def message_for(code: str) -> str:
    """The sentence shown for an error id; unknown ids fall back to the generic one."""
    return MESSAGES.get(code, MESSAGES["eval:infra:unexpected"])


class EvaluationError(Exception):
    """A run cannot go on. ``code`` is a key of MESSAGES; ``detail`` adds specifics."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def is_users(self) -> bool:
        return self.code.startswith("eval:user:")
