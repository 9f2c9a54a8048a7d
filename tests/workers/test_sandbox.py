"""The evaluation child's sandbox: no network, limits in force, a snapshot it cannot write.

A probe (tests/workers/sandbox_probe.py) runs in the child's place through the real
``run_child``; the end-to-end test (tests/test_end_to_end.py) runs lm-eval itself in the
sandbox. Namespaces need root or user namespaces: where a run as another user finds
neither, the tests that need them skip and say so; as root (CI) they must work.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workers import sandbox, scratch
from workers.child import run_child

LIMITS = sandbox.Limits(address_space=8 * sandbox.GIB, open_files=256, cpu_seconds=600)
CONFIG = '{"model_type": "llama"}'


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port on the worker's loopback that accepts connections."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def needs_namespaces() -> None:
    if sandbox.namespace_form() is not None:
        return
    if os.geteuid() == 0:
        pytest.fail("running as root, yet unshare --net --mount failed (see the log)")
    pytest.skip("no root and no user namespaces here: the child shares the worker's network")


def probe(tmp_path: Path, port: int) -> tuple[dict[str, Any], str]:
    work_dir = tmp_path / "run-1"
    (work_dir / "model").mkdir(parents=True)
    (work_dir / "model" / "config.json").write_text(CONFIG)
    spec = {"model_dir": str(work_dir / "model"), "port": port}
    outcome = run_child(
        spec,
        work_dir,
        lambda done, total: True,
        limits=LIMITS,
        module="tests.workers.sandbox_probe",
    )
    return json.loads(outcome.results_path.read_text()), outcome.log_path.read_text()


def limit(report: dict[str, Any], name: str) -> list[str]:
    line = next(line for line in report["limits"].splitlines() if line.startswith(name))
    return line[len(name) :].split()[:2]  # soft, hard


def test_the_child_cannot_reach_the_workers_loopback(tmp_path: Path, listener: int) -> None:
    needs_namespaces()
    socket.create_connection(("127.0.0.1", listener), timeout=5).close()  # the worker can

    report, _ = probe(tmp_path, listener)

    assert report["connect"] == "ECONNREFUSED"  # its own loopback, where nothing listens


def test_the_child_runs_under_its_limits(tmp_path: Path, listener: int) -> None:
    report, _ = probe(tmp_path, listener)

    assert limit(report, "Max open files") == ["256", "256"]
    assert limit(report, "Max cpu time") == ["600", "600"]
    assert limit(report, "Max address space") == [str(8 * sandbox.GIB)] * 2


def test_the_child_cannot_write_the_model_snapshot(tmp_path: Path, listener: int) -> None:
    if os.geteuid() == 0:
        needs_namespaces()  # root ignores mode bits: only the read-only mount stops it

    report, _ = probe(tmp_path, listener)

    assert report["overwrite"] != "ok" and report["create"] != "ok"
    assert (tmp_path / "run-1" / "model" / "config.json").read_text() == CONFIG
    assert not (tmp_path / "run-1" / "model" / "added.json").exists()
    if sandbox.namespace_form() is not None:
        assert report["chmod"] == "EROFS"  # nor can it make the files writable again


def test_the_child_is_the_workers_own_child(tmp_path: Path, listener: int) -> None:
    """The wrappers exec one another: the worker's child is the evaluation itself, so it
    still dies with the worker (tests/workers/test_crash_recovery.py)."""
    report, _ = probe(tmp_path, listener)

    assert report["parent_pid"] == os.getpid()


def test_the_log_says_which_protections_applied(tmp_path: Path, listener: int) -> None:
    _, log = probe(tmp_path, listener)

    first_line = log.splitlines()[0]
    assert first_line.startswith("sandbox: network ")
    assert "open files 256, CPU time 600 s" in first_line
    if sandbox.namespace_form() is not None:
        assert "network own namespace" in first_line and "read-only bind mount" in first_line


def test_without_namespaces_the_child_keeps_its_limits_and_mode_bits(
    tmp_path: Path, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback, as on a machine that allows no namespaces: said so in the log."""
    monkeypatch.setattr(sandbox, "namespace_form", lambda: None)

    report, log = probe(tmp_path, listener)

    assert log.startswith("sandbox: network shared with the worker")
    assert "read-only by mode bits only" in log.splitlines()[0]
    assert report["connect"] == "ok"  # the fallback's limit, stated rather than hidden
    assert limit(report, "Max open files") == ["256", "256"]
    # Mode bits stop another user, not root: the fallback's other stated limit.
    assert (report["overwrite"] == "ok") == (os.geteuid() == 0)


def test_a_read_only_snapshot_is_deleted_with_its_run(tmp_path: Path) -> None:
    folder = tmp_path / "run-7"
    (folder / "model" / "sub").mkdir(parents=True)
    (folder / "model" / "sub" / "weights.safetensors").write_bytes(b"weights")
    sandbox.make_read_only(folder / "model")
    assert (folder / "model" / "sub").stat().st_mode & 0o777 == 0o555

    scratch.remove(folder)

    assert not folder.exists()


def test_limits_follow_the_workers_settings() -> None:
    cpus = len(os.sched_getaffinity(0))
    limits = sandbox.Limits.for_worker(address_space_gb=0, open_files=512, hard_time_limit=100)

    assert limits == sandbox.Limits(address_space=None, open_files=512, cpu_seconds=100 * cpus)
    assert "--as" not in " ".join(limits.prlimit_arguments())  # 0: no address-space limit
