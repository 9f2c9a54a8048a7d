"""Runs in the evaluation child's place for tests/workers/test_sandbox.py, through the same
``run_child`` and sandbox, and writes what the sandbox let it do to OUT_DIR/results.json.

    python -m tests.workers.sandbox_probe SPEC_JSON OUT_DIR
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path


def attempt(action: Callable[[], object]) -> str:
    """The word "ok", or the error's name (ECONNREFUSED, EROFS, …)."""
    try:
        action()
    except OSError as error:
        return errno.errorcode.get(error.errno or 0, str(error))
    return "ok"


def main(spec_path: str, out_dir: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    model = Path(spec["model_dir"])
    address = ("127.0.0.1", spec["port"])
    report = {
        "parent_pid": os.getppid(),
        "limits": Path("/proc/self/limits").read_text(),
        "connect": attempt(lambda: socket.create_connection(address, timeout=5).close()),
        "overwrite": attempt(lambda: (model / "config.json").write_text("{}")),
        "create": attempt(lambda: (model / "added.json").write_text("{}")),
        "chmod": attempt(lambda: (model / "config.json").chmod(0o644)),
    }
    Path(out_dir, "results.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
