"""``{% reproduction run as repro %}``: the lm_eval command lines that repeat a run."""

from __future__ import annotations

from django import template

from evaluations.models import EvaluationRun
from evaluations.reproduce import Reproduction, run_reproduction

register = template.Library()


@register.simple_tag
def reproduction(run: EvaluationRun) -> Reproduction:
    return run_reproduction(run)
