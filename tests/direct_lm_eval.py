"""A direct ``lm_eval.simple_evaluate`` call, as a person would make it, in a process of its own.

    python -m tests.direct_lm_eval ARGUMENTS_JSON OUT_JSON

vLLM's engine (its threads, torch.distributed, its memory) stays out of the test process.
The arguments are simple_evaluate's keywords, with ``include_path`` for the task folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# vLLM on CPU in tests: one process (no engine subprocess) and no compilation start in about
# 3 s instead of a minute; 1 GiB of KV cache; loopback only; no usage statistics sent.
VLLM_TEST_ENVIRONMENT = {
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_HOST_IP": "127.0.0.1",
    "VLLM_NO_USAGE_STATS": "1",
    "DO_NOT_TRACK": "1",
}


def direct_evaluate(arguments: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    """``results`` and ``samples`` of a simple_evaluate call with ``arguments``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    arguments_path, out_path = work_dir / "arguments.json", work_dir / "results.json"
    arguments_path.write_text(json.dumps(arguments))
    env = {
        **os.environ,
        **VLLM_TEST_ENVIRONMENT,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tests.direct_lm_eval", str(arguments_path), str(out_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    result: dict[str, Any] = json.loads(out_path.read_text())
    return result


def main(arguments_path: str, out_path: str) -> None:
    import lm_eval
    from lm_eval.tasks import TaskManager

    from workers.results import json_safe

    arguments = json.loads(Path(arguments_path).read_text())
    task_manager = TaskManager(include_path=arguments.pop("include_path"), include_defaults=False)
    results = lm_eval.simple_evaluate(task_manager=task_manager, **arguments)
    keep = {"results": results["results"], "samples": results.get("samples", {})}
    Path(out_path).write_text(json.dumps(json_safe(keep)))


if __name__ == "__main__":  # vLLM's engine may start processes that import this module
    main(*sys.argv[1:])
