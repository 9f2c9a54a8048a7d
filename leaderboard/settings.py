"""One settings module, read from the environment.

Embedded defaults run the whole product on a bare machine: SQLite, Celery's filesystem
transport and a generated secret key, all under ``var/``. Setting ``DATABASE_URL`` and
``REDIS_URL`` (or ``CELERY_BROKER_URL``) switches to PostgreSQL and Redis.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
import django_stubs_ext
import plotly

# Django's generic classes (ModelAdmin[Claim], ...) are subscripted in class
# definitions for mypy; this makes them subscriptable at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_optional_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else None


def env_optional_float(name: str) -> float | None:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str) -> str:
    """A secret from ``NAME`` or from the file that ``NAME_FILE`` points to."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, "")


VAR_DIR = Path(env_str("LEADERBOARD_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    """A random key kept in var/ so the web and worker processes of one install share it."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_secret("SECRET_KEY") or _local_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "leaderboard.apps.StaticFilesConfig",  # django.contrib.staticfiles, less two bundles
    "django.contrib.humanize",
    "ninja",  # its Swagger UI page then loads the assets it ships, from our static files
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "evaluations",
    "workers",
    "leaderboard",
]

MIDDLEWARE = [
    # /healthz for the load balancer, before the host check and the HTTPS redirect.
    "leaderboard.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "leaderboard.middleware.RefuseNulCharactersMiddleware",
    "leaderboard.middleware.OneGenerationPerRequestMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "leaderboard.urls"
# --- Accounts ------------------------------------------------------------------------------
# django-allauth: Hugging Face sign-in (OpenID Connect) for authors and everyone else, e-mail
# and password for moderators and local use. The demo and tests point the provider at the
# stand-in hub on 127.0.0.1 (HF_OAUTH_SERVER_URL), as they do the hub itself.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env_bool("HTTPS", False) else "http"
ACCOUNT_RATE_LIMITS = {
    # Sign-in attempts per address: past this allauth answers 429 (leaderboard.errors).
    "login": env_str("RATE_LIMIT_SIGN_IN", "10/m/ip,60/h/ip"),
    # Failed sign-ins per account: past this the form refuses with "too many attempts".
    "login_failed": env_str("RATE_LIMIT_SIGN_IN_FAILED", "10/m/ip,5/5m/key"),
}
SOCIALACCOUNT_LOGIN_ON_GET = False  # a sign-in starts with a POST (CSRF-protected)
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never join accounts on an e-mail address alone
# The hub token the provider hands back is kept so that organisation membership can be asked
# again later (evaluations/services/authors.py re-checks it when it is stale).
SOCIALACCOUNT_STORE_TOKENS = True
# What the domain asks when that answer is stale: a class with ``refresh(user)``
# (evaluations.services.authors.HubMembershipSource); empty: the hub is never asked again.
AUTHOR_HUB_MEMBERSHIP_SOURCE = "leaderboard.hub_identity.HubUserinfo"
HF_OAUTH_CLIENT_ID = env_str("HF_OAUTH_CLIENT_ID")
HF_OAUTH_SERVER_URL = env_str(
    "HF_OAUTH_SERVER_URL", env_str("HF_ENDPOINT", "https://huggingface.co")
)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": "huggingface",
                "name": "Hugging Face",
                "client_id": HF_OAUTH_CLIENT_ID,
                "secret": env_secret("HF_OAUTH_CLIENT_SECRET"),
                "settings": {"server_url": HF_OAUTH_SERVER_URL},
            }
        ]
        if HF_OAUTH_CLIENT_ID
        else [],
    }
}
# A signed-in user's hub organisations are asked again after this many seconds.
AUTHOR_RECHECK_AFTER = env_int("AUTHOR_RECHECK_AFTER", 3600)
# When the hub cannot be asked again, the stale answer still stands this many seconds more
# (a short outage does not lock authors out; a long one does not keep a removed member in).
AUTHOR_HUB_OUTAGE_GRACE = env_int("AUTHOR_HUB_OUTAGE_GRACE", 6 * 3600)

# Rate limits an operator sets (0 = no limit). The allow-list (comma-separated) lifts them:
# bare names are hub accounts or organisations (verified by the Hugging Face sign-in),
# "user:<name>" a local account; moderators are never limited.
RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = env_int("RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK", 20)
RATE_LIMIT_SUBMISSIONS_PER_ORG_WEEK = env_int("RATE_LIMIT_SUBMISSIONS_PER_ORG_WEEK", 50)
RATE_LIMIT_CLAIMS_PER_DAY = env_int("RATE_LIMIT_CLAIMS_PER_DAY", 200)
RATE_LIMIT_ALLOW_LIST = env_list("RATE_LIMIT_ALLOW_LIST", "")

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")  # links in e-mails
WSGI_APPLICATION = "leaderboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leaderboard.context_processors.visitor",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'leaderboard.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write concurrently: WAL and immediate transactions
    # make SQLite wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    # Server-side binding, and psycopg preparing a query the fifth time a connection runs it:
    # PostgreSQL then plans the generation's read and the pages' few queries once per
    # connection, not on every request (planning the model page's read of its repo took ten
    # times as long as running it). Django turns preparing off unless asked, for the sake of
    # connection poolers in transaction mode: behind one, set DATABASE_PREPARE_THRESHOLD=0.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = env_bool("DATABASE_SERVER_SIDE_BINDING", True)
    options["prepare_threshold"] = env_int("DATABASE_PREPARE_THRESHOLD", 5) or None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Public pages are cached per process (leaderboard/page_cache.py, the "pages" cache). Every
# key holds the site's generation, which lives in the database, so the web and worker
# processes of any deployment agree on when a page is old without sharing the store. The
# timeout only bounds how long a relative time ("3 minutes ago") may read old and lets old
# generations age out.
# The default cache holds allauth's sign-in rate-limit counters: with Redis it is shared, so
# every gunicorn worker counts the same attempts (a per-process cache would let an attacker
# multiply the limit by the number of workers).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 60)
_PAGE_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "pages",
    "OPTIONS": {"MAX_ENTRIES": env_int("PAGE_CACHE_ENTRIES", 1000)},
}
# Parts of a page that many pages share ({% cache ... using="fragments" %}: the rankings'
# controls, the same on every page of a sort; the recent runs), keyed on the generation like
# the pages, so kept for any visitor, signed in or not. Each process keeps them in memory;
# with Redis they are shared too, so that one process renders what all the others then read
# (leaderboard/cache.py).
_FRAGMENT_CACHE = {
    "BACKEND": "leaderboard.cache.LayeredCache"
    if env_str("REDIS_URL")
    else "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": PAGE_CACHE_SECONDS,  # a fragment read from the shared cache is kept as long
    "OPTIONS": {"MAX_ENTRIES": env_int("FRAGMENT_CACHE_ENTRIES", 1000)},
}
# When Redis is down, the default cache serves from process memory (leaderboard/cache.py):
# pages and sign-in keep answering, with per-process counters until Redis is back.
CACHES = {
    "default": {
        "BACKEND": "leaderboard.cache.FallbackRedisCache",
        "LOCATION": env_str("REDIS_URL"),
        "KEY_PREFIX": "claimcheck-cache",  # the broker may share the database: never flush it
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
    if env_str("REDIS_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    "pages": _PAGE_CACHE,
    "fragments": _FRAGMENT_CACHE,
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
# `collectstatic` writes here the hashed and compressed (gzip; brotli when the Brotli package
# is installed) copies the site serves; `make demo` and the Docker image run it. whitenoise
# then sends a hashed name with a one-year, immutable Cache-Control.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The model page's charts use the basic plotly.js bundle vendored in static/vendor/; the
# scatter page the full one, from the plotly package itself (see static/vendor/plotly-basic).
STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(plotly.__file__).parent / "package_data")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security headers. HTTPS-only settings switch on with HTTPS=1 (production behind TLS).
HTTPS = env_bool("HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# allauth's sign-in limits count per client address: behind a proxy that address is the last
# hop of X-Forwarded-For the proxies added, or every visitor would share the proxy's bucket.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # One line per hub request is noise in a worker's log; failures still show.
    "loggers": {"httpx": {"level": "WARNING"}, "httpx2": {"level": "WARNING"}},
}

# --- Evaluation workers -----------------------------------------------------------------
# Which lm-eval backend this worker runs ("hf" on CPU machines, "vllm" on GPU ones).
WORKER_BACKEND = env_str("WORKER_BACKEND", "hf")
WORKER_DEVICE = env_str("WORKER_DEVICE", "cpu")
WORKER_BATCH_SIZE = env_str("WORKER_BATCH_SIZE", "8")
WORKER_MAX_PARAMETERS = env_int("WORKER_MAX_PARAMETERS", 3_000_000_000)


@dataclass(frozen=True)
class VllmEngineSettings:
    """The vLLM engine arguments a worker with the ``vllm`` backend passes to lm-eval (None:
    vLLM's own default). The run records them with its setting."""

    enforce_eager: bool = False  # no CUDA graphs / compilation: a faster start
    max_model_len: int | None = None  # None: the model's own context length
    gpu_memory_utilization: float | None = None
    tensor_parallel_size: int = 1


WORKER_VLLM = VllmEngineSettings(
    enforce_eager=env_bool("WORKER_VLLM_ENFORCE_EAGER", False),
    max_model_len=env_optional_int("WORKER_VLLM_MAX_MODEL_LEN"),
    gpu_memory_utilization=env_optional_float("WORKER_VLLM_GPU_MEMORY_UTILIZATION"),
    tensor_parallel_size=env_int("WORKER_VLLM_TENSOR_PARALLEL_SIZE", 1),
)
# Worker classes: one queue per kind of machine (README: "Add a worker machine"). A run goes
# to the smallest class of its backend whose memory holds the model's weights × the overhead
# (KV cache and activations); one larger than every class is refused before it is queued.
# memory_gib is per GPU (per machine for a CPU class); tensor × pipeline parallel = the GPUs;
# a class of several nodes runs vLLM's Ray executor. EVAL_WORKER_CLASSES (JSON) replaces the
# whole table; evaluations/routing.py reads and checks it.
EVAL_MEMORY_OVERHEAD = env_float("EVAL_MEMORY_OVERHEAD", 1.2)
EVAL_WORKER_CLASSES: list[dict[str, object]] = json.loads(
    env_str("EVAL_WORKER_CLASSES") or "null"
) or [
    {"name": "cpu", "backend": "hf", "memory_gib": 16, "max_parameters": WORKER_MAX_PARAMETERS},
    {"name": "gpu-24g", "backend": "vllm", "memory_gib": 24, "gpus_per_node": 1},
    {"name": "gpu-80g", "backend": "vllm", "memory_gib": 80, "gpus_per_node": 1},
    {
        "name": "gpu-multi",
        "backend": "vllm",
        "memory_gib": 80,
        "gpus_per_node": 8,
        "nodes": 2,
        "tensor_parallel_size": 8,
        "pipeline_parallel_size": 2,
    },
]
# Soft limit T is reported to the submitter; the hard one (1.2 T) kills the process.
EVAL_SOFT_TIME_LIMIT = env_int("EVAL_SOFT_TIME_LIMIT", 4 * 3600)
EVAL_HARD_TIME_LIMIT = int(EVAL_SOFT_TIME_LIMIT * 1.2)
# A worker stamps its run's heartbeat this often in every stage, downloads included; a run
# whose heartbeat is older than the timeout is presumed lost. The reaper looks every
# EVAL_REAP_INTERVAL seconds, so a dead worker's run ends within the sum of the three (75 s).
EVAL_HEARTBEAT_INTERVAL = env_int("EVAL_HEARTBEAT_INTERVAL", 5)
EVAL_HEARTBEAT_TIMEOUT = env_int("EVAL_HEARTBEAT_TIMEOUT", 60)
EVAL_REAP_INTERVAL = env_int("EVAL_REAP_INTERVAL", 10)
# A run whose worker was lost is attempted again, as a new run, up to this many attempts.
EVAL_MAX_ATTEMPTS = env_int("EVAL_MAX_ATTEMPTS", 3)
# A run still queued after this long has its message sent again (the row is the truth); one
# whose send failed (the broker was down) is sent at the first requeue pass after it is back.
EVAL_REQUEUE_AFTER = env_int("EVAL_REQUEUE_AFTER", 600)
EVAL_REQUEUE_INTERVAL = env_int("EVAL_REQUEUE_INTERVAL", 30)
# A worker whose database connection breaks (a PostgreSQL restart) reconnects and tries its
# writes again for this long before the run fails.
EVAL_DB_RETRY_SECONDS = env_int("EVAL_DB_RETRY_SECONDS", 60)
# The re-upload watch asks the hub about this many evaluated repos per tick, those checked
# longest ago first: 50 every 5 minutes goes round 10,000 repos in about 17 hours.
PROVENANCE_WATCH_INTERVAL = env_int("PROVENANCE_WATCH_INTERVAL", 300)
PROVENANCE_WATCH_BATCH = env_int("PROVENANCE_WATCH_BATCH", 50)
# The lineage check compares each evaluated commit with the base its card names and with these
# candidates (the bases people commonly name; moderators add more from the site) that share
# its shapes. It reads slabs of rows of at most LINEAGE_MAX_TENSORS matrices, each capped at
# LINEAGE_MAX_BYTES_PER_TENSOR, by Range requests: a few MiB per repo, not the weights.
LINEAGE_CANDIDATE_BASES = env_list(
    "LINEAGE_CANDIDATE_BASES",
    "meta-llama/Llama-3.1-8B,meta-llama/Meta-Llama-3-8B,Qwen/Qwen2.5-7B,"
    "mistralai/Mistral-7B-v0.1,google/gemma-2-9b",
)
LINEAGE_MAX_BYTES_PER_TENSOR = env_int("LINEAGE_MAX_BYTES_PER_TENSOR", 2 * 1024 * 1024)
LINEAGE_MAX_TENSORS = env_int("LINEAGE_MAX_TENSORS", 24)
LINEAGE_CHECK_INTERVAL = env_int("LINEAGE_CHECK_INTERVAL", 600)
LINEAGE_CHECK_BATCH = env_int("LINEAGE_CHECK_BATCH", 10)
# Hosted endpoints (an author's API said to serve the model). Secrets are encrypted with the
# first of these Fernet keys (comma-separated, newest first; each one decrypts); none set: a key
# derived from SECRET_KEY. Private and loopback addresses are refused unless allowed (the
# worker would otherwise call into its own network for whoever registers one).
ENDPOINT_SECRETS_KEYS = [key for key in env_secret("ENDPOINT_SECRETS_KEYS").split(",") if key]
ENDPOINT_ALLOW_PRIVATE_ADDRESSES = env_bool("ENDPOINT_ALLOW_PRIVATE_ADDRESSES", False)
# The equality test: completions sampled per probe prompt from each side, and their settings.
ENDPOINT_SAMPLES_PER_PROMPT = env_int("ENDPOINT_SAMPLES_PER_PROMPT", 10)
ENDPOINT_SAMPLE_TEMPERATURE = env_float("ENDPOINT_SAMPLE_TEMPERATURE", 1.0)
ENDPOINT_SAMPLE_MAX_TOKENS = env_int("ENDPOINT_SAMPLE_MAX_TOKENS", 16)
ENDPOINT_PERMUTATIONS = env_int("ENDPOINT_PERMUTATIONS", 1000)
ENDPOINT_ALPHA = env_float("ENDPOINT_ALPHA", 0.05)
# Fewer paired items than this on every benchmark: the score comparison says nothing.
ENDPOINT_MIN_PAIRED_ITEMS = env_int("ENDPOINT_MIN_PAIRED_ITEMS", 10)
# The score comparison's items per task through the endpoint (lm-eval's limit: the first N,
# paired with the same N of the weights' run); unset: every item, as the run measured.
ENDPOINT_SCORE_LIMIT = env_optional_int("ENDPOINT_SCORE_LIMIT")
ARTIFACTS_DIR = Path(env_str("ARTIFACTS_DIR", str(VAR_DIR / "artifacts")))
WORKER_SCRATCH_DIR = Path(env_str("WORKER_SCRATCH_DIR", str(VAR_DIR / "scratch")))
# A file whose download breaks off or arrives damaged is fetched again up to this many times.
WORKER_DOWNLOAD_RETRIES = env_int("WORKER_DOWNLOAD_RETRIES", 2)
# The evaluation child's limits (workers/sandbox.py). Address space in GiB, 0 for none: by
# default the machine's memory on CPU workers and none on GPU ones (CUDA and vLLM reserve
# virtual ranges far larger than memory). CPU seconds: the hard time limit times the CPUs.
_MEMORY_GB = -(-os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024**3)
EVAL_CHILD_ADDRESS_SPACE_GB = env_int(
    "EVAL_CHILD_ADDRESS_SPACE_GB", 0 if WORKER_DEVICE == "cuda" else _MEMORY_GB
)
EVAL_CHILD_OPEN_FILES = env_int("EVAL_CHILD_OPEN_FILES", 4096)
HF_ENDPOINT = env_str("HF_ENDPOINT", "https://huggingface.co")
# The task definitions lm-eval does not ship (the smoke suite's): a dotted path to a function
# that writes them into a folder and returns it; the worker loads it only for a `smoke_` task.
WORKER_LOCAL_TASKS = env_str("WORKER_LOCAL_TASKS", "localdev.smoke.smoke_task_dir")
# huggingface_hub otherwise fetches a telemetry list from the endpoint it read at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# /metrics (Prometheus): staff signed in, or a scraper sending "Authorization: Bearer <this>".
# Empty: staff only.
METRICS_TOKEN = env_secret("METRICS_TOKEN")

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or env_str("REDIS_URL")
# Redis hands an unacknowledged message to another worker after visibility_timeout, even
# while the first still runs it: keep it above the hard time limit, in all three places.
_VISIBILITY_TIMEOUT = EVAL_HARD_TIME_LIMIT + 600
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": _VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT}
CELERY_VISIBILITY_TIMEOUT = _VISIBILITY_TIMEOUT
if not CELERY_BROKER_URL:
    # Embedded default: a broker in a folder, so the demo needs no Redis. Same Celery path.
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        data_folder_in=str(_broker_dir / "queue"),
        data_folder_out=str(_broker_dir / "queue"),
        processed_folder=str(_broker_dir / "processed"),
        control_folder=str(_broker_dir / "control"),
        store_processed=False,
        polling_interval=0.2,  # the folder is polled; Redis pushes
    )
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = EVAL_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = EVAL_HARD_TIME_LIMIT
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Housekeeping has a queue and a worker of its own: a long evaluation queue never delays the
# reaper. A beat message not taken within its interval is dropped; the next one does its work.
HOUSEKEEPING_QUEUE = "housekeeping"
# Endpoint checks download the weights and sample from them on CPU: a queue of their own.
ENDPOINT_QUEUE = env_str("ENDPOINT_QUEUE", "cpu")
CELERY_TASK_ROUTES = {
    "workers.reap_stale_runs": {"queue": HOUSEKEEPING_QUEUE},
    "workers.requeue_stalled_runs": {"queue": HOUSEKEEPING_QUEUE},
    "workers.watch_reuploads": {"queue": HOUSEKEEPING_QUEUE},
    "workers.check_lineage": {"queue": HOUSEKEEPING_QUEUE},
    "workers.check_endpoint": {"queue": ENDPOINT_QUEUE},
}
CELERY_BEAT_SCHEDULE = {
    "reap-stale-runs": {
        "task": "workers.reap_stale_runs",
        "schedule": float(EVAL_REAP_INTERVAL),
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": float(EVAL_REAP_INTERVAL)},
    },
    "requeue-stalled-runs": {
        "task": "workers.requeue_stalled_runs",
        "schedule": float(EVAL_REQUEUE_INTERVAL),
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": float(EVAL_REQUEUE_INTERVAL)},
    },
    "watch-reuploads": {
        "task": "workers.watch_reuploads",
        "schedule": float(PROVENANCE_WATCH_INTERVAL),
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": float(PROVENANCE_WATCH_INTERVAL)},
    },
    "check-lineage": {
        "task": "workers.check_lineage",
        "schedule": float(LINEAGE_CHECK_INTERVAL),
        "options": {"queue": HOUSEKEEPING_QUEUE, "expires": float(LINEAGE_CHECK_INTERVAL)},
    },
}
