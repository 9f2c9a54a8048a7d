"""What the demo prints, and how Ctrl-C ends it (``make demo`` itself is not run here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import demo
from tests.factories import finished_run, queued_run

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " print('ready', flush=True); time.sleep(60)",
]


@pytest.fixture(autouse=True)
def keep_sigint_handler() -> Iterator[None]:
    """``stop`` ignores a second Ctrl-C; the test run must get its own handler back."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_a_second_start_says_every_model_is_evaluated_and_nothing_queued() -> None:
    states: dict[str, str | None] = {
        "a/one": "finished",
        "a/two": "finished",
        "a/three": "finished",
    }
    assert demo.progress_line(states) == "3 demo models already evaluated; nothing queued"


def test_a_first_start_says_the_runs_are_queued() -> None:
    line = demo.progress_line({"a/one": "queued", "a/two": "running", "a/three": "finished"})
    assert line.startswith("1 demo model already evaluated; 2 demo models queued or running")
    assert "failed" not in line and "without scores" not in line
    assert "1 demo model ended without scores" in demo.progress_line({"a/one": "failed"})


def test_it_says_whether_the_tiny_models_must_be_built() -> None:
    assert "first start" in demo.publish_line(already=False)
    assert "already published" in demo.publish_line(already=True)
    assert "first" not in demo.publish_line(already=True).split("(")[0]


@pytest.mark.django_db
@pytest.mark.usefixtures("no_broker")
def test_it_reads_each_models_latest_run_from_the_database() -> None:
    finished_run("demo-org/done")
    queued_run("demo-org/done")  # a later run of the same model
    finished_run("demo-org/other", sha="3" * 40)
    assert demo.latest_states(["demo-org/done", "demo-org/other", "demo-org/never"]) == {
        "demo-org/done": "queued",
        "demo-org/other": "finished",
        "demo-org/never": None,
    }


def test_the_accounts_come_in_a_box() -> None:
    box = demo.accounts_box("moderator-secret", "author-secret").splitlines()
    assert box[0] == box[-1] and set(box[0]) == {"+", "-"}
    assert {len(line) for line in box} == {len(box[0])}
    assert all(line.startswith("| ") and line.endswith(" |") for line in box[1:-1])
    text = "\n".join(box)
    assert "'moderator-secret'" in text and "'author-secret'" in text and "'ada'" in text


def test_stop_ends_every_child_and_kills_one_that_ignores_sigterm(tmp_path: Path) -> None:
    calm = demo.start_child(SLEEPER, tmp_path / "calm.log")
    stubborn = demo.start_child(STUBBORN, tmp_path / "stubborn.log", stdout=subprocess.PIPE)
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    line = demo.stop([calm, stubborn], timeout=1)
    assert calm.returncode == -signal.SIGTERM and stubborn.returncode == -signal.SIGKILL
    assert line == (
        "Demo stopped: the workers, the site, the stand-in hub and endpoint ended"
        " (1 killed after 1 s)."
    )
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a second Ctrl-C is no traceback
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN  # nor a second SIGTERM


def test_ctrl_c_stops_the_children_and_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    children: list[subprocess.Popen[bytes]] = []

    def start_then_interrupt(processes: list[subprocess.Popen[bytes]]) -> None:
        processes.append(demo.start_child(SLEEPER, tmp_path / "site.log"))
        children.extend(processes)
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "start_demo", start_then_interrupt)
    demo.main()
    [child] = children
    assert child.returncode == -signal.SIGTERM
    assert capsys.readouterr().out == (
        "[demo] Demo stopped: the workers, the site, the stand-in hub and endpoint ended cleanly.\n"
    )


def test_children_do_not_share_the_terminals_ctrl_c(tmp_path: Path) -> None:
    child = demo.start_child(SLEEPER, tmp_path / "child.log")
    try:
        assert child.pid != 0 and os.getsid(child.pid) == child.pid
    finally:
        child.kill()
        child.wait()


def test_sigterm_ends_the_demo_as_ctrl_c_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def wait_for_sigterm(processes: list[subprocess.Popen[bytes]]) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(demo, "start_demo", wait_for_sigterm)
    demo.main()  # returns: the SIGTERM became a KeyboardInterrupt that main handles
    # (the default action would have ended this process); while it stopped, a second
    # SIGTERM is ignored
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN


def test_the_wait_loop_advances_the_reflection_case_until_ctrl_c(tmp_path: Path) -> None:
    child = demo.start_child(SLEEPER, tmp_path / "child.log")
    ticks: list[int] = []

    def tick() -> None:
        ticks.append(1)
        if len(ticks) == 2:
            raise KeyboardInterrupt  # what Ctrl-C raises in the loop

    try:
        with pytest.raises(KeyboardInterrupt):
            demo.wait([child], tick, tick_every=0)
    finally:
        demo.stop([child], timeout=1)
    assert len(ticks) == 2 and child.returncode == -signal.SIGTERM


def test_a_hub_published_by_an_older_demo_gains_the_reflection_repos_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localdev.standin import demo_repos
    from localdev.standin.reflection_repo import REFLECTION
    from localdev.standin.repos import RepoStore
    from localdev.tiny_models import build_tiny_model

    hub_root = tmp_path / "hub"
    hub_root.mkdir()
    (hub_root / demo.PUBLISHED_STAMP).write_text(json.dumps({"demo-org/tiny-trained": "1" * 40}))
    trained = build_tiny_model(tmp_path / "trained", seed=0)
    monkeypatch.setattr(demo_repos, "build_models", lambda cache: {demo_repos.TRAINED: trained})
    shas = demo.publish_once(hub_root, tmp_path / "models")
    assert shas["demo-org/tiny-trained"] == "1" * 40  # the older repos are kept as they were
    repo = RepoStore(hub_root).repo(REFLECTION)
    assert repo is not None and repo.branches["main"] == shas[REFLECTION]
    assert demo.publish_once(hub_root, tmp_path / "models") == shas  # read from the stamp
    assert json.loads((hub_root / demo.PUBLISHED_STAMP).read_text()) == shas
