"""A whole stack of real processes to break: PostgreSQL, Redis, Celery workers, the site.

The fault tests (tests/workers/test_faults.py), ``make chaos`` (localdev.chaos) and
``make bench-workers`` (localdev.bench_workers) start their own PostgreSQL (``initdb`` in a
temporary folder, as the ``postgres`` user when run as root) and their own ``redis-server``,
each on a free port, so that they can kill and restart them without touching the machine's
shared ones. Tiny models on the stand-in hub, one repo per submission (no duplicates), are
evaluated by real workers running lm-eval. Every query here is plain SQL on that PostgreSQL:
the caller's own Django settings may point at another database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Intervals short enough that a killed worker's run is reaped and attempted again in seconds.
FAST_RECOVERY = {
    "EVAL_HEARTBEAT_INTERVAL": "1",
    "EVAL_HEARTBEAT_TIMEOUT": "8",
    "EVAL_REAP_INTERVAL": "2",
    "EVAL_REQUEUE_INTERVAL": "3",
    "EVAL_MAX_ATTEMPTS": "5",
}
# One cheap task: the runs cost lm-eval's start and a few dozen log-likelihoods.
TASKS = [{"benchmark": "smoke_arc", "shots": 0}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(command: list[str]) -> list[str]:
    """initdb refuses to run as root: run the server as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else name


class OwnPostgres:
    """A PostgreSQL server of its own in ``root``, on a free port."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        root.chmod(0o755)
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        initdb = [_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
        subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE leaderboard")

    def url(self, name: str = "leaderboard") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w"]
        subprocess.run(_as_postgres([*command, "-o", options, *args]), check=True)

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """A restart as an operator's: every connection is cut."""
        self._ctl("-m", "fast", "restart")


class OwnRedis:
    """A redis-server of its own, with the append-only file the production stack uses."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.dir), "--appendonly", "yes", "--save", ""]
        log = (self.dir / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        eventually(self._answers, 30)

    def _answers(self) -> bool | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG") or None
        except OSError:
            return None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Outcome:
    """What became of each submission, read from the runs' rows."""

    submissions: int
    finished_once: int  # exactly one finished run, with one set of scores
    lost: int  # no finished run
    duplicated: int  # more than one finished run, or scores from more than one run
    retried: int  # runs ended as worker-lost (each attempted again)

    failures: list[str]  # how each run that failed for another reason ended

    def line(self) -> str:
        return (
            f"{self.submissions} submissions: {self.finished_once} finished exactly once, "
            f"lost {self.lost}, duplicated {self.duplicated}, retried {self.retried}"
        ) + "".join(f"\n  {failure}" for failure in self.failures)


class Stack:
    """PostgreSQL, Redis, the stand-in hub with ``repos`` tiny models, and worker processes."""

    def __init__(self, root: Path, *, repos: int, env: dict[str, str] | None = None) -> None:
        from localdev.standin.demo_repos import model_files
        from localdev.standin.hub_server import serve_in_thread
        from localdev.standin.repos import publish_repo
        from localdev.tiny_models import build_tiny_model

        self.root = root
        self.processes: list[subprocess.Popen[bytes]] = []
        self._next_worker = 0
        self._cleanup = ExitStack()  # undone in reverse, also when a start fails half-way
        try:
            self.postgres = OwnPostgres(root)
            self._cleanup.callback(self._stop_postgres)
            self.redis = OwnRedis(root)
            self._cleanup.callback(self.redis.stop)
            model_dir = build_tiny_model(root / "model", seed=2)
            self.repo_ids = [f"chaos-org/tiny-{i}" for i in range(repos)]
            for repo_id in self.repo_ids:
                publish_repo(root / "hub", repo_id, model_files(model_dir, repo_id))
            self.hub, hub_url = serve_in_thread(root / "hub")
            self._cleanup.callback(self.hub.shutdown)
            self._cleanup.callback(self.stop_processes)
            self.env = {
                **os.environ,
                "DATABASE_URL": self.postgres.url(),
                "REDIS_URL": self.redis.url,
                "CELERY_BROKER_URL": self.redis.url,
                "HF_ENDPOINT": hub_url,
                "HF_HOME": str(root / "hf-home"),
                "HF_DATASETS_OFFLINE": "1",
                "LEADERBOARD_VAR_DIR": str(root / "var"),
                "WORKER_SCRATCH_DIR": str(root / "scratch"),
                "PYTHONPATH": str(PROJECT_ROOT),
                **(env or {}),
            }
            self.manage("migrate", "-v0")
        except BaseException:
            self.close()
            raise

    # --- processes --------------------------------------------------------------------------

    def _start(self, command: list[str], log_name: str, **env: str) -> subprocess.Popen[bytes]:
        log = (self.root / log_name).open("ab")
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a process group of its own, as a container would be
        )
        self.processes.append(process)
        return process

    def worker(self, queue: str = "cpu", *extra: str) -> subprocess.Popen[bytes]:
        """A Celery worker process (concurrency 1) on ``queue``."""
        self._next_worker += 1
        name = f"{queue}-{self._next_worker}"
        command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker"]
        command += ["--queues", queue, "--concurrency", "1", "--loglevel", "INFO"]
        command += ["--hostname", f"{name}@%h", "--without-mingle", "--without-gossip", *extra]
        return self._start(command, f"worker-{name}.log")

    def housekeeping(self) -> subprocess.Popen[bytes]:
        """The reaper and the requeue, with beat, on their own worker (as docker-compose)."""
        return self.worker("housekeeping", "-B", "--schedule", str(self.root / "beat-schedule"))

    def web(self) -> str:
        """The site under gunicorn; returns its address."""
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "leaderboard.wsgi", "--workers", "1"]
        command += ["--bind", f"127.0.0.1:{port}", "--timeout", "60"]
        # DEBUG: static files by their source names, so no collectstatic (minutes) first.
        self._start(command, "web.log", DEBUG="1")
        url = f"http://127.0.0.1:{port}"
        eventually(lambda: http_status(url + "/") == 200 or None, 180)
        return url

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the process's whole group: the worker, its pool and the lm-eval child."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_processes(self) -> None:
        """End every worker and web process started so far (SIGTERM, then SIGKILL)."""
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def close(self) -> None:
        self._cleanup.close()

    def _stop_postgres(self) -> None:
        try:
            self.postgres.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped

    # --- the domain, through its own processes ----------------------------------------------

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout

    def submit(self, repo_ids: list[str]) -> list[int]:
        """Submit each repo as the form does (services.submission_create); returns run ids."""
        script = textwrap.dedent(
            f"""
            from evaluations import services
            for repo_id in {repo_ids!r}:
                print(services.submission_create(repo_id=repo_id, tasks={TASKS!r}).run.id)
            """
        )
        return [int(line) for line in self.manage("shell", "-v0", "-c", script).split()]

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.postgres.url(), connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def states(self) -> dict[int, str]:
        return dict(self.rows("SELECT id, state FROM evaluations_evaluationrun"))

    def all_final(self) -> bool | None:
        active = self.rows(
            "SELECT count(*) FROM evaluations_evaluationrun WHERE state NOT IN "
            "('finished', 'failed', 'cancelled')"
        )
        return active[0][0] == 0 or None

    def outcome(self, runs: list[int] | None = None) -> Outcome:
        """Counts over the submissions of ``runs`` (all submissions without it)."""
        per_submission = self.rows(
            """
            SELECT s.id,
                   count(*) FILTER (WHERE r.state = 'finished' AND r.duplicate_of_id IS NULL),
                   (SELECT count(DISTINCT sc.run_id) FROM evaluations_score sc
                      JOIN evaluations_evaluationrun r2 ON r2.id = sc.run_id
                     WHERE r2.submission_id = s.id),
                   count(*) FILTER (WHERE r.error_code = 'eval:infra:worker-lost')
              FROM evaluations_submission s
              JOIN evaluations_evaluationrun r ON r.submission_id = s.id
             WHERE %s::bigint[] IS NULL OR s.id IN (
                   SELECT submission_id FROM evaluations_evaluationrun WHERE id = ANY(%s))
             GROUP BY s.id
            """,
            runs,
            runs,
        )
        return Outcome(
            submissions=len(per_submission),
            finished_once=sum(1 for _, f, s, _ in per_submission if f == 1 and s == 1),
            lost=sum(1 for _, f, _, _ in per_submission if f == 0),
            duplicated=sum(1 for _, f, s, _ in per_submission if f > 1 or s > 1),
            retried=sum(lost for *_, lost in per_submission),
            failures=[
                f"run #{run_id} {code}: {detail[:300]}"
                for run_id, code, detail in self.rows(
                    "SELECT id, error_code, error_detail FROM evaluations_evaluationrun "
                    "WHERE state = 'failed' AND error_code <> 'eval:infra:worker-lost' "
                    "AND (%s::bigint[] IS NULL OR submission_id IN (SELECT submission_id "
                    "FROM evaluations_evaluationrun WHERE id = ANY(%s)))",
                    runs,
                    runs,
                )
            ],
        )


@contextmanager
def stack(*, repos: int, env: dict[str, str] | None = None) -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="claimcheck-faults-"))
    built = Stack(root, repos=repos, env={**FAST_RECOVERY, **(env or {})})
    try:
        yield built
    finally:
        built.close()
        shutil.rmtree(root, ignore_errors=True)


def http_status(url: str) -> int | None:
    """The status a GET of ``url`` answers; None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (ours, local)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


def eventually(find: Callable[[], T | None], seconds: float, poll: float = 0.1) -> T:
    deadline = time.monotonic() + seconds
    while (found := find()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting after {seconds} s")
        time.sleep(poll)
    return found
