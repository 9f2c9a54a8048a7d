from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = "Evaluations"

    def ready(self) -> None:
        checks.register(worker_classes_check)


def worker_classes_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """A table of worker classes no worker could serve stops every process at start."""
    from evaluations import routing

    try:
        routing.worker_classes()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="evaluations.E001")]
    return []
