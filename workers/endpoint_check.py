"""An endpoint check: is a hosted endpoint serving the released weights?

1. The weights: the commit of the repo's latest finished whole-suite run, downloaded and
   verified like a run's (``workers.hub``).
2. Pre-flight, in the manner of vendors' verifiers (``workers.endpoint_probe.preflight``): does
   the endpoint honour the sampling parameters, count prompt tokens like the repo's tokenizer,
   apply the repo's chat template? Shown beside the equality test, so that "misconfigured" is
   told apart from "another model".
3. The equality test: completions sampled on a fixed probe set from the endpoint and from the
   weights (same prompts and settings, temperature > 0, several samples per prompt), compared
   by a two-sample MMD test with a Hamming kernel and a permutation p-value. A chat endpoint
   is sent each prompt as a user message, and the weights answer it through the repo's chat
   template; a repo without one leaves the test inconclusive.
4. The scores (completions endpoints): the run's tasks through lm-eval's
   ``local-completions`` against the endpoint, paired item by item with the run's own results
   (``workers.endpoint_scores``).

Every outcome, an error included, is recorded as an ``EndpointCheck`` with the evidence found.
The endpoint's secret is decrypted here, used for these calls, and never logged or recorded.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from evaluations.endpoint_secrets import SecretUnreadable, secret_decrypt
from evaluations.endpoint_stats import mmd_test
from evaluations.endpoint_verdict import endpoint_verdict
from evaluations.errors import EvaluationError
from evaluations.models import ApiKind, EvaluationRun, HostedEndpoint
from evaluations.selectors.endpoints import weights_run
from evaluations.services import endpoints as endpoint_services
from workers import endpoint_probe, endpoint_scores, hub, scratch
from workers.runner import local_task_dir, submission_tasks

logger = logging.getLogger(__name__)
PROBE_SEED = 20250
# lm-eval 0.4.13's chat backend: ``LocalChatCompletion.loglikelihood`` raises
# NotImplementedError (lm_eval/models/openai_completions.py).
CHAT_SCORES_NOTE = (
    "Not compared: lm-eval's local-chat-completions backend cannot score log-likelihood "
    "(multiple-choice) items (in lm-eval 0.4.13 its loglikelihood raises "
    "NotImplementedError), and the weights' scores were measured on plain prompts without a "
    "chat template, so answers generated through a chat would not pair item by item either. "
    "The equality test above compares the chat answers."
)


def check_endpoint(endpoint_id: int) -> str:
    """Check the endpoint once and record what was found; returns the verdict."""
    endpoint = HostedEndpoint.objects.select_related("repo").get(id=endpoint_id)
    if endpoint.retired_at is not None:
        return "retired"
    started = timezone.now()
    run = weights_run(endpoint.repo_id)
    evidence: dict[str, Any] = {"settings": _probe_settings()}
    error = ""
    if run is None:
        error = "the released weights have no finished evaluation to compare with yet"
    else:
        work_dir = Path(settings.WORKER_SCRATCH_DIR) / f"endpoint-{endpoint_id}-{uuid.uuid4().hex}"
        work_dir.mkdir(parents=True, exist_ok=True)
        try:
            _gather(endpoint, run, work_dir, evidence)
        except (EvaluationError, endpoint_probe.EndpointError, ValidationError) as failure:
            error = _message(failure)
        except endpoint_probe.NoChatTemplate as failure:
            error = str(failure)
        except SecretUnreadable as failure:
            error = str(failure)
        except Exception as failure:  # ours: keep the reason on the check, the trace in the log
            logger.exception("endpoint check %s failed unexpectedly", endpoint_id)
            error = f"unexpected error: {type(failure).__name__}"
        finally:
            scratch.remove(work_dir)
    verdict, summary = endpoint_verdict(
        preflight=evidence.get("preflight", []),
        mmd=evidence.get("mmd"),
        scores=evidence.get("scores", []),
        error=error,
        alpha=settings.ENDPOINT_ALPHA,
        min_items=settings.ENDPOINT_MIN_PAIRED_ITEMS,
    )
    endpoint_services.endpoint_check_record(
        endpoint_id=endpoint_id,
        revision_id=run.revision_id if run is not None else None,
        weights_run_id=run.id if run is not None else None,
        verdict=verdict,
        summary=summary,
        evidence=evidence,
        started_at=started,
        error=error,
    )
    return verdict


def _probe_settings() -> dict[str, Any]:
    return {
        "prompts": len(endpoint_probe.PROBE_PROMPTS),
        "samples": settings.ENDPOINT_SAMPLES_PER_PROMPT,
        "temperature": settings.ENDPOINT_SAMPLE_TEMPERATURE,
        "max_tokens": settings.ENDPOINT_SAMPLE_MAX_TOKENS,
        "permutations": settings.ENDPOINT_PERMUTATIONS,
        "alpha": settings.ENDPOINT_ALPHA,
        "seed": PROBE_SEED,
        "score_items_per_task": settings.ENDPOINT_SCORE_LIMIT,
    }


def _message(failure: Exception) -> str:
    if isinstance(failure, EvaluationError):
        return failure.detail or failure.code
    if isinstance(failure, ValidationError):
        return " ".join(failure.messages)
    return str(failure)


def _gather(
    endpoint: HostedEndpoint, run: EvaluationRun, work_dir: Path, evidence: dict[str, Any]
) -> None:
    """Fill ``evidence`` step by step, so what was found before a failure is kept."""
    # The address is checked again: the name may resolve elsewhere since it was registered.
    base_url = endpoint_services.clean_endpoint_url(endpoint.base_url)
    api_key = secret_decrypt(endpoint.secret_encrypted)
    assert run.revision is not None
    inspection = hub.inspect_repo(
        endpoint.repo.hub_id, run.revision.commit_sha, max_parameters=None
    )
    model_dir = hub.download_repo(
        inspection, work_dir / "model", retries=settings.WORKER_DOWNLOAD_RETRIES
    )
    key = api_key or None
    chat = endpoint.api_kind == ApiKind.CHAT
    rows = endpoint_probe.preflight(
        base_url, model=endpoint.served_model, api_key=key, model_dir=model_dir, chat=chat
    )
    evidence["preflight"] = [dataclasses.asdict(row) for row in rows]
    prompts, samples = endpoint_probe.PROBE_PROMPTS, settings.ENDPOINT_SAMPLES_PER_PROMPT
    temperature, max_tokens = (
        settings.ENDPOINT_SAMPLE_TEMPERATURE,
        settings.ENDPOINT_SAMPLE_MAX_TOKENS,
    )
    # The weights first: a repo without a chat template ends a chat check before the
    # endpoint is asked anything more.
    released = endpoint_probe.sample_weights(
        model_dir,
        prompts=prompts,
        samples=samples,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=PROBE_SEED,
        chat=chat,
    )
    served = endpoint_probe.sample_endpoint(
        base_url,
        model=endpoint.served_model,
        api_key=key,
        prompts=prompts,
        samples=samples,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=PROBE_SEED,
        chat=chat,
    )
    result = mmd_test(
        served, released, permutations=settings.ENDPOINT_PERMUTATIONS, seed=PROBE_SEED
    )
    evidence["mmd"] = dataclasses.asdict(result)
    evidence["examples"] = {
        prompt: {"endpoint": served[prompt][:2], "weights": released[prompt][:2]}
        for prompt in list(served)[:3]
    }
    if any(row.passed is False for row in rows):
        evidence["scores_note"] = (
            "Not compared: a pre-flight check failed, so scores would measure the endpoint's "
            "setup rather than the model it serves."
        )
        return
    if chat:
        evidence["scores_note"] = CHAT_SCORES_NOTE
        return
    tasks = submission_tasks(run.submission.suite, run.submission.tasks)
    uses_smoke = any(benchmark.task.startswith("smoke_") for benchmark, _ in tasks)
    endpoint_path = endpoint_scores.endpoint_samples(
        completions_url=f"{base_url}/completions",
        model=endpoint.served_model,
        api_key=api_key,
        model_dir=model_dir,
        tasks=tasks,
        include_path=str(local_task_dir()) if uses_smoke else None,
        work_dir=work_dir,
        limit=settings.ENDPOINT_SCORE_LIMIT,
    )
    evidence["scores"] = endpoint_scores.paired_scores(run, endpoint_path)
