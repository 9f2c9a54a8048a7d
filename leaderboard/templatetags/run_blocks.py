"""A run as the pages show it: its state badge, what it ran with, and on a model page its
whole block (header, scores, provenance and the box of lm_eval command lines that repeat it).

Built as strings, as the rankings' rows and the evidence table are: a model page shows a
block per run of every commit, and through the template engine each cost more than the
rest of the page around it. Every text from the database goes through ``escape``; numbers
and ids are made here.
"""

from __future__ import annotations

from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.safestring import SafeString, mark_safe

from evaluations.models import EvaluationRun, RunState
from evaluations.reproduce import run_reproduction
from leaderboard.templatetags.scores import measured_rows, row_reverse

register = template.Library()

SCORES_HEAD = (
    '<thead><tr><th>Benchmark</th><th title="± is the half-width of the 95 % interval">'
    "Measured ± 95 %</th>\n          <th>Metric</th><th>Shots</th><th>Items</th></tr></thead>"
)
VERSIONS = (  # what a run records it ran with, as the provenance line names each
    ("lm_eval_version", "lm-eval"),
    ("transformers_version", "transformers"),
    ("vllm_version", "vLLM"),
    ("torch_version", "torch"),
    ("python_version", "Python"),
)


@register.simple_tag
def run_state(run: EvaluationRun) -> SafeString:
    """The run's state as a badge: "Refused" and "Duplicate of run #N" as well as the states."""
    return mark_safe(_state(run))  # noqa: S308 - escaped


def _state(run: EvaluationRun) -> str:
    return (
        f'<span class="state state-{escape(run.shown_state)}">{escape(str(run.state_label))}</span>'
    )


@register.simple_tag
def run_provenance(run: EvaluationRun) -> SafeString:
    """What the run ran with (backend, library and task versions) and its raw data files,
    each named by its sha256."""
    versions = run.versions or {}
    backend = run.backend_used or run.submission.backend
    ran_with = "".join(
        f" · {label} {escape(str(versions[key]))}" for key, label in VERSIONS if versions.get(key)
    )
    lines = [
        '<div class="provenance">',
        f"  <p><strong>Ran with</strong> {escape(backend)} backend{ran_with}</p>",
    ]
    tasks = versions.get("task_versions")
    if tasks:
        named = ", ".join(f"{escape(str(task))} v{escape(str(v))}" for task, v in tasks.items())
        lines.append(f"  <p><strong>Tasks</strong> {named}</p>")
    artifacts = run.artifacts.all()
    if artifacts:
        files = " · ".join(
            f'<a href="{escape(row_reverse("run-artifact", run.id, artifact.kind))}">'
            f"{escape(str(artifact.get_kind_display()))}</a> "
            f'<small class="muted" title="sha256 {escape(artifact.sha256)}">'
            f"sha256 {escape(artifact.sha256[:12])}…</small>"
            for artifact in artifacts
        )
        lines.append(f"  <p><strong>Raw data</strong> {files}</p>")
    lines.append("</div>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every text escaped above


@register.simple_tag
def run_block(run: EvaluationRun) -> SafeString:
    """A run on its model page: a line pointing at the run it duplicates, or its block."""
    link = escape(row_reverse("run-detail", run.id))
    if run.duplicate_of_id:
        original = escape(row_reverse("run-detail", run.duplicate_of_id))
        return mark_safe(  # noqa: S308 - escaped, or numbers
            f'<p class="run-duplicate muted" id="run-{run.id}">Submitted again '
            f"{escape(str(naturaltime(run.created_at)))}: the same commit and setting as "
            f'<a href="{original}">run #{run.duplicate_of_id}</a>, so nothing was run again.</p>'
        )
    submission = run.submission
    finished = f", finished {escape(str(naturaltime(run.finished_at)))}" if run.finished_at else ""
    lines = [
        '<article class="run-block">',
        f'  <h3><a href="{link}">Run #{run.id}</a> · {escape(submission.suite)} · {_state(run)}'
        f' <small class="muted">{escape(str(submission.get_backend_display()))}, '
        f"{escape(submission.precision)}, chat template "
        f"{'on' if submission.chat_template else 'off'}{finished}</small></h3>",
    ]
    scores = run.scores.all()
    if run.state == RunState.FAILED:
        lines.append(f'  <p class="error">{escape(run.error_reason)}</p>')
    elif scores:
        lines += [
            '  <div class="table-wrap">',
            f"  <table>\n        {SCORES_HEAD}\n        <tbody>\n        {measured_rows(scores)}",
            "        </tbody>\n      </table>\n      </div>",
            run_provenance(run),
            reproduce_box(run),
        ]
    lines.append("</article>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every text escaped above


def reproduce_box(run: EvaluationRun) -> SafeString:
    """The "Reproduce these numbers" box of a run. Every text is escaped; the shots are an
    integer."""
    repro = run_reproduction(run)
    lines = ['<details class="reproduce">', "  <summary>Reproduce these numbers</summary>"]
    if repro.unavailable:
        lines.append(f'  <p class="muted">{escape(repro.unavailable)}</p>')
    else:
        if repro.install:
            python = repro.python_version and f" (Python {escape(repro.python_version)})"
            lines.append(f"  <p>Install the versions the run used{python}:</p>")
            lines.append(_command_html(repro.install))
        for command in repro.commands:
            benchmarks = ", ".join(escape(benchmark) for benchmark in command.benchmarks)
            lines.append(f"  <p>{benchmarks} ({int(command.shots)}-shot):</p>")
            if command.problem:
                lines.append(f'  <p class="error">{escape(command.problem)}</p>')
            else:
                lines.append(_command_html(command.text))
        lines.append("  " + "".join(f'<p class="muted">{escape(n)}</p>' for n in repro.notes))
    lines.append("</details>")  # the page loads reproduce.js once, for every box's copy button
    return mark_safe("\n".join(lines))  # noqa: S308 - every text escaped above


def _command_html(text: str) -> str:
    return f'  <pre class="command" data-copy><code>{escape(text)}</code></pre>'
