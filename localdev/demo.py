"""`make demo`: the whole product on one machine, with nothing to install but the venv.

Migrates, publishes tiny models on a stand-in hub (127.0.0.1), starts real Celery workers
(one evaluating, one with beat for housekeeping) and the site under gunicorn on
http://127.0.0.1:8000 (DEMO_ADDRESS), then submits the demo models and prints, last and in
a box, the accounts to sign in with. While it waits, it plays out the Reflection-style case
(``reflection_case``: a re-upload, and an endpoint served by a stand-in child process). The
children log to var/demo/logs/, so the console keeps only the demo's own lines. Ctrl-C stops
everything it started, in one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import django

from localdev import reflection_case
from localdev.standin.demo_repos import SUBMITTED_CLAIMS, TRAINED
from localdev.standin.oidc import add_oauth_client, subject_for
from localdev.standin.reflection_repo import REFLECTION
from localdev.standin.repos import add_user

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SITE_ADDRESS = os.environ.get("DEMO_ADDRESS", "127.0.0.1:8000")
# The stand-in endpoint of the Reflection-style case: a fixed port, so that the address
# registered on a first start still answers on the next.
ENDPOINT_PORT = int(os.environ.get("DEMO_ENDPOINT_PORT", "8001"))
DEMO_OAUTH_CLIENT = "claimcheck-demo"
DEMO_AUTHOR, DEMO_AUTHOR_ORGS = "ada", ("demo-org", "other-lab")
PUBLISHED_STAMP = "published.json"
STOP_TIMEOUT = 15.0  # seconds a child has to stop on SIGTERM before it is killed


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    django.setup()
    processes: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, interrupt)
    try:
        case = start_demo(processes)
        wait(processes, case.advance if case is not None else None)
    except KeyboardInterrupt:
        pass  # Ctrl-C: the one expected way to end the demo
    finally:
        say(stop(processes))


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the demo as Ctrl-C does: the children, in sessions of their own, would
    otherwise outlive it."""
    raise KeyboardInterrupt


def demo_environment() -> None:
    """The demo's settings (those set already win): the Reflection-style case's signals show
    within minutes (``reflection_case.DEMO_SETTINGS``)."""
    for key, value in reflection_case.DEMO_SETTINGS.items():
        os.environ.setdefault(key, value)


def start_demo(processes: list[subprocess.Popen[bytes]]) -> reflection_case.ReflectionCase:
    """Everything up to the accounts box; each child is appended to ``processes`` as it
    starts, so that Ctrl-C at any point stops what has started. Returns the Reflection-style
    case, whose steps the wait loop advances."""
    from django.conf import settings
    from django.core.management import call_command

    var_dir = Path(settings.VAR_DIR)
    say("Migrating the database")
    call_command("migrate", verbosity=0)
    call_command("refresh_read_tables", verbosity=0)  # read tables of an older install
    say("Collecting static files (hashed and compressed, as production serves them)")
    call_command("collectstatic", interactive=False, verbosity=0)
    hub_root = var_dir / "demo" / "hub"
    say(publish_line(already=(hub_root / PUBLISHED_STAMP).exists()))
    shas = publish_once(hub_root, var_dir / "demo" / "models")
    logs = var_dir / "demo" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    hub_url = start_hub(hub_root, processes, logs)
    client_secret = demo_secret(var_dir, "oauth-client-secret")
    add_oauth_client(
        hub_root,
        DEMO_OAUTH_CLIENT,
        client_secret,
        [f"http://{SITE_ADDRESS}/accounts/oidc/huggingface/login/callback/"],
    )
    env = {
        **os.environ,
        "HF_ENDPOINT": hub_url,
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings",
        "HF_OAUTH_CLIENT_ID": DEMO_OAUTH_CLIENT,
        "HF_OAUTH_CLIENT_SECRET": client_secret,
        "HF_OAUTH_SERVER_URL": hub_url,
    }
    say(f"Stand-in hub on {hub_url}; workers and site log to {logs}")
    processes.append(start_worker("cpu", env, logs))
    # Beat and the reaper on a worker of their own, as in production: a busy evaluation
    # queue never delays them.
    beat = ["-B", "--schedule", str(var_dir / "celerybeat-schedule")]
    processes.append(start_worker("housekeeping", env, logs, beat))
    processes.append(start_site(env, logs))
    endpoint_url = start_endpoint(var_dir / "demo" / "models", processes, logs)
    say(f"Stand-in endpoint on {endpoint_url}, serving {TRAINED}'s weights")
    author_password = demo_author(var_dir, hub_root)
    submit_demo_models()
    moderator_password = demo_moderator(var_dir)
    say(progress_line(latest_states(list(SUBMITTED_CLAIMS))))
    print(accounts_box(moderator_password, author_password), flush=True)
    return reflection_case.ReflectionCase(
        hub_root=hub_root,
        published_sha=shas[REFLECTION],
        author=DEMO_AUTHOR,
        endpoint_url=endpoint_url,
        say=say,
        page_url=f"http://{SITE_ADDRESS}{reflection_case.PAGE}",
    )


def start_child(
    command: list[str], log: Path, env: dict[str, str] | None = None, stdout: int | None = None
) -> subprocess.Popen[bytes]:
    """A child in a session of its own, so that Ctrl-C reaches the demo alone and the demo
    stops it (see ``stop``); its output goes to ``log``, so the console keeps the demo's."""
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output if stdout is None else stdout,
            stderr=output,
            start_new_session=True,
        )


def start_worker(
    queue: str, env: dict[str, str], logs: Path, extra: list[str] | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--queues", queue]
    command += ["--concurrency", "1", "--loglevel", "INFO", "--hostname", f"demo-{queue}@%h"]
    return start_child(command + (extra or []), logs / f"worker-{queue}.log", env=env)


def start_site(env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "leaderboard.wsgi", "--bind", SITE_ADDRESS]
    command += ["--workers", "2", "--access-logfile", "-"]
    return start_child(command, logs / "site.log", env=env)


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def publish_once(hub_root: Path, models_dir: Path) -> dict[str, str]:
    """Publish the demo repos the first time; later runs serve the same commits."""
    from localdev.standin.demo_repos import build_models, publish_demo_hub
    from localdev.standin.reflection_repo import publish_reflection_repos

    stamp = hub_root / PUBLISHED_STAMP
    if stamp.exists():
        shas: dict[str, str] = json.loads(stamp.read_text())
        if REFLECTION in shas:
            return shas
        # published by an older demo: add the Reflection-style repos
        shas |= publish_reflection_repos(hub_root, build_models(models_dir)[TRAINED])
    else:
        shas = publish_demo_hub(hub_root, models_dir)
    stamp.write_text(json.dumps(shas, indent=2))
    return shas


def start_hub(hub_root: Path, processes: list[subprocess.Popen[bytes]], logs: Path) -> str:
    process = start_child(
        [
            sys.executable,
            "-m",
            "localdev.standin.hub_server",
            "--root",
            str(hub_root),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        logs / "hub.log",
        stdout=subprocess.PIPE,
    )
    processes.append(process)
    return listening_address(process, "the stand-in hub")


def start_endpoint(models_dir: Path, processes: list[subprocess.Popen[bytes]], logs: Path) -> str:
    """The stand-in endpoint said to serve the Reflection-style model; it serves another
    model's weights (the trained demo model's). Returns its base URL (``…/v1``)."""
    from localdev.standin.demo_repos import build_models

    command = [sys.executable, "-m", "localdev.standin.endpoint"]
    command += [str(build_models(models_dir)[TRAINED]), "--port", str(ENDPOINT_PORT)]
    command += ["--served-name", reflection_case.ENDPOINT_SERVED_NAME]
    process = start_child(command, logs / "endpoint.log", stdout=subprocess.PIPE)
    processes.append(process)
    return listening_address(process, "the stand-in endpoint")


def listening_address(process: subprocess.Popen[bytes], what: str) -> str:
    """The address a stand-in prints first ("LISTENING <url>") once it listens."""
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("LISTENING "):
        raise RuntimeError(f"{what} did not start (its log is in var/demo/logs/): {line!r}")
    return line.split(" ", 1)[1]


def demo_secret(var_dir: Path, name: str) -> str:
    """A random secret kept in var/demo/ (never a fixed one), the same on every demo run."""
    import secrets

    path = var_dir / "demo" / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_author(var_dir: Path, hub_root: Path) -> str:
    """Ada, an author of the demo repos: a stand-in hub account in demo-org and other-lab,
    already signed in once (so the site knows her organisations and submits as her)."""
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth.models import User

    from evaluations.services import authors

    password = demo_secret(var_dir, "author-password")
    hub_token = demo_secret(var_dir, "author-hub-token")
    add_user(
        hub_root,
        hub_token,
        DEMO_AUTHOR,
        DEMO_AUTHOR_ORGS,
        password=password,
        email=f"{DEMO_AUTHOR}@example.org",
    )
    user, created = User.objects.get_or_create(
        username=DEMO_AUTHOR, defaults={"email": f"{DEMO_AUTHOR}@example.org"}
    )
    if created:
        user.set_unusable_password()  # she signs in through the hub
        user.save()
        userinfo = {
            "preferred_username": DEMO_AUTHOR,
            "orgs": [{"preferred_username": org} for org in DEMO_AUTHOR_ORGS],
        }
        SocialAccount.objects.create(
            user=user,
            provider="huggingface",
            uid=subject_for(DEMO_AUTHOR),
            extra_data={"userinfo": userinfo},
        )
        authors.hub_membership_record(
            user=user, hub_username=DEMO_AUTHOR, orgs=list(DEMO_AUTHOR_ORGS), source="sign-in"
        )
    return password


def submit_demo_models() -> None:
    from django.contrib.auth.models import User

    from evaluations import services
    from evaluations.models import Submission

    author = User.objects.get(username=DEMO_AUTHOR)

    for repo_id, claimed in SUBMITTED_CLAIMS.items():
        if Submission.objects.filter(repo__hub_id=repo_id).exists():
            say(f"{repo_id}: submitted by an earlier demo run")
            continue
        claims = [
            services.ClaimInput(
                benchmark=key,
                value=value,
                unit="percent",
                shots=shots,
                source_url=f"https://example.org/{repo_id}/announcement",
            )
            for key, value, shots in claimed
        ]
        outcome = services.submission_submit(
            user=author, repo_id=repo_id, ref="main", suite="smoke", claims=claims
        )
        note = "already evaluated or on its way" if outcome.reused else "queued"
        say(f"{repo_id}: run #{outcome.run.id} {note}, {len(claims)} claim(s) submitted")


def demo_moderator(var_dir: Path) -> str:
    """A moderator for the demo, with a random password kept in var/ (never a fixed one)."""
    from django.contrib.auth.models import Group, User

    password = demo_secret(var_dir, "moderator-password")
    user, _ = User.objects.get_or_create(username="moderator")
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name="moderators"))
    return password


def wait(
    processes: list[subprocess.Popen[bytes]],
    on_tick: Callable[[], None] | None = None,
    tick_every: float = 5.0,
) -> None:
    """Until a child stops (or Ctrl-C), calling ``on_tick`` every ``tick_every`` seconds."""
    last_tick = 0.0
    while all(process.poll() is None for process in processes):
        if on_tick is not None and time.monotonic() - last_tick >= tick_every:
            last_tick = time.monotonic()
            on_tick()
        time.sleep(1)
    stopped = [p.args for p in processes if p.poll() is not None]
    say(f"a process stopped, ending the demo (its log is in var/demo/logs/): {stopped}")


def stop(processes: list[subprocess.Popen[bytes]], timeout: float = STOP_TIMEOUT) -> str:
    """SIGTERM to every child still running, SIGKILL to any that outlasts ``timeout``; a
    second Ctrl-C or SIGTERM meanwhile is ignored, so stopping never ends in a traceback
    (`make demo` under `timeout` gets SIGTERM twice: from `timeout` and from make)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.terminate()
    killed = 0
    for process in running:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed += 1
    how = f"ended ({killed} killed after {timeout:.0f} s)" if killed else "ended cleanly"
    return f"Demo stopped: the workers, the site, the stand-in hub and endpoint {how}."


def publish_line(*, already: bool) -> str:
    if already:
        return "Tiny models already published on the stand-in hub (built on the first start)"
    return "Building tiny models and publishing them on the stand-in hub (first start: ~1 min)"


def latest_states(repo_ids: list[str]) -> dict[str, str | None]:
    """Each demo model's latest run state; None for a model never submitted."""
    from evaluations.models import EvaluationRun

    latest = {
        run.submission.repo.hub_id: run.state
        for run in EvaluationRun.objects.filter(submission__repo__hub_id__in=repo_ids)
        .select_related("submission__repo")
        .order_by("created_at", "id")
    }
    return {repo_id: latest.get(repo_id) for repo_id in repo_ids}


def progress_line(states: dict[str, str | None]) -> str:
    """What the demo's models are doing, e.g. "3 demo models already evaluated; nothing
    queued" on a second start."""
    from evaluations.models import FINAL_STATES, RunState

    evaluated = sum(state == RunState.FINISHED for state in states.values())
    waiting = sum(state is not None and state not in FINAL_STATES for state in states.values())
    ended = sum(state in (RunState.FAILED, RunState.CANCELLED) for state in states.values())
    parts = [f"{_models(evaluated)} already evaluated"] if evaluated else []
    parts += [f"{_models(ended)} ended without scores (see its run page)"] if ended else []
    if waiting:
        parts.append(f"{_models(waiting)} queued or running (each takes a minute or so)")
    else:
        parts.append("nothing queued")
    return "; ".join(parts)


def _models(count: int) -> str:
    return f"{count} demo model{'s' if count != 1 else ''}"


def accounts_box(moderator_password: str, author_password: str) -> str:
    """The accounts to sign in with, boxed, printed last so that nothing scrolls them away."""
    lines = [
        f"Open http://{SITE_ADDRESS}/   (Ctrl-C stops the demo)",
        "",
        f"Sign in at http://{SITE_ADDRESS}/accounts/login/",
        f"  Moderator: user 'moderator', password '{moderator_password}'",
        f"  Author:    'Sign in with Hugging Face', then on the stand-in hub user '{DEMO_AUTHOR}',",
        f"             password '{author_password}' (a member of {' and '.join(DEMO_AUTHOR_ORGS)})",
        "",
        *reflection_case.page_lines(SITE_ADDRESS),
    ]
    width = max(len(line) for line in lines)
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


if __name__ == "__main__":
    demo_environment()
    main()
