"""Every Eval Ever, the field's shared format for evaluation results (schema 0.3.0).

Two directions, both pure (no writes):
- ``run_record`` turns a finished run of ours into one aggregate record: we are a third party
  to every model we measure, the record carries each score's standard error, 95 % interval and
  number of items, and points to the run's per-sample outputs by their sha256;
- ``read_record`` reads a record someone else wrote into claim inputs mapped to the
  catalogue, refusing what it cannot read with a sentence a person can act on.

The schema is kept as data in ``evaluations/schemas/`` (where it comes from is noted there);
the tests validate every exported record against it.
"""

from evaluations.every_eval_ever.common import SCHEMA_VERSION, RecordError
from evaluations.every_eval_ever.export import exportable, record_path, record_uuid, run_record
from evaluations.every_eval_ever.reading import ReadRecord, read_record

__all__ = [
    "SCHEMA_VERSION",
    "ReadRecord",
    "RecordError",
    "exportable",
    "read_record",
    "record_path",
    "record_uuid",
    "run_record",
]
