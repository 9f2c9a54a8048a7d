"""`make demo`: the whole product on one machine, with nothing to install but the venv.

Migrates, publishes tiny models on a stand-in hub (127.0.0.1), starts real Celery workers
(one evaluating, one with beat for housekeeping) and the site under gunicorn on
http://127.0.0.1:8000, then submits the demo models. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import django

from localdev.standin.oidc import add_oauth_client, subject_for
from localdev.standin.repos import add_user

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SITE_ADDRESS = os.environ.get("DEMO_ADDRESS", "127.0.0.1:8000")
DEMO_OAUTH_CLIENT = "claimcheck-demo"
DEMO_AUTHOR, DEMO_AUTHOR_ORGS = "ada", ("demo-org", "other-lab")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    var_dir = Path(settings.VAR_DIR)
    say("Migrating the database")
    call_command("migrate", verbosity=0)
    call_command("refresh_read_tables", verbosity=0)  # read tables of an older install
    say("Collecting static files (hashed and compressed, as production serves them)")
    call_command("collectstatic", interactive=False, verbosity=0)
    say("Building tiny models and publishing them on the stand-in hub (first run: ~1 min)")
    hub_root = var_dir / "demo" / "hub"
    publish_once(hub_root, var_dir / "demo" / "models")

    processes: list[subprocess.Popen[bytes]] = []
    try:
        hub_url = start_hub(hub_root, processes)
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
        say(f"Stand-in hub on {hub_url}")
        processes.append(start_worker("cpu", env))
        # Beat and the reaper on a worker of their own, as in production: a busy evaluation
        # queue never delays them.
        beat = ["-B", "--schedule", str(var_dir / "celerybeat-schedule")]
        processes.append(start_worker("housekeeping", env, beat))
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "leaderboard.wsgi",
                    "--bind",
                    SITE_ADDRESS,
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                ],
                cwd=PROJECT_ROOT,
                env=env,
            )
        )
        author_password = demo_author(var_dir, hub_root)
        submit_demo_models()
        password = demo_moderator(var_dir)
        say(
            f"Moderator account: user 'moderator', password '{password}' "
            f"(sign in at http://{SITE_ADDRESS}/accounts/login/)"
        )
        say(
            f"Author account: 'Sign in with Hugging Face' on the same page, then on the "
            f"stand-in hub user '{DEMO_AUTHOR}', password '{author_password}' "
            f"(a member of demo-org and other-lab, so an author of their repos)"
        )
        say(f"Open http://{SITE_ADDRESS}/ : the demo runs are queued. Ctrl-C stops the demo.")
        wait(processes)
    except KeyboardInterrupt:
        say("Stopping")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def start_worker(
    queue: str, env: dict[str, str], extra: list[str] | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--queues", queue]
    command += ["--concurrency", "1", "--loglevel", "INFO", "--hostname", f"demo-{queue}@%h"]
    return subprocess.Popen(command + (extra or []), cwd=PROJECT_ROOT, env=env)


def say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def publish_once(hub_root: Path, models_dir: Path) -> dict[str, str]:
    """Publish the demo repos the first time; later runs serve the same commits."""
    from localdev.standin.demo_repos import publish_demo_hub

    stamp = hub_root / "published.json"
    if stamp.exists():
        return json.loads(stamp.read_text())
    shas = publish_demo_hub(hub_root, models_dir)
    stamp.write_text(json.dumps(shas, indent=2))
    return shas


def start_hub(hub_root: Path, processes: list[subprocess.Popen[bytes]]) -> str:
    process = subprocess.Popen(
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
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
    )
    processes.append(process)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("LISTENING "):
        raise RuntimeError(f"the stand-in hub did not start: {line!r}")
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
    from localdev.standin.demo_repos import SUBMITTED_CLAIMS

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


def wait(processes: list[subprocess.Popen[bytes]]) -> None:
    while all(process.poll() is None for process in processes):
        time.sleep(1)
    stopped = [p.args for p in processes if p.poll() is not None]
    say(f"a process stopped, ending the demo: {stopped}")


if __name__ == "__main__":
    main()
