"""The lm_eval command lines that repeat a run, in the box a model page shows under each
run's scores (``run_blocks.run_block``)."""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

from evaluations.models import EvaluationRun
from evaluations.reproduce import run_reproduction


def reproduce_box(run: EvaluationRun) -> SafeString:
    """The "Reproduce these numbers" box of a run. Built as one string, as the score rows
    are: a model page has one per run, and a template's nodes cost more than its text. Every
    text is escaped; the shots are an integer."""
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
