"""A stand-in for the Hugging Face hub's HTTP surface, served from repos published locally.

The real ``huggingface_hub`` client talks to it through ``HF_ENDPOINT=http://127.0.0.1:PORT``,
so tests and the demo exercise the same requests production makes. Routes and error headers
follow huggingface_hub 2.4 (``hf_api.py``, ``file_download.py``, ``utils/_http.py``); see
shared/design/HUB_NOTES.md. Standard library only.

    python -m localdev.standin.hub_server --root DIR --host 127.0.0.1 --port 0
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from localdev.standin import faults, payloads, pulls
from localdev.standin.oidc import IdentityProvider, OidcError
from localdev.standin.repos import Commit, RepoState, RepoStore

LOG_ENV_VAR = "STANDIN_HUB_LOG"  # set to 1 to log every request to stderr
RANGE_PATTERN = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it, for tests that check what the client fetched."""

    method: str
    path: str
    range: str | None
    status: int


class HubError(Exception):
    """An answer the hub gives as an error: status plus the X-Error-* headers the client reads."""

    def __init__(self, status: int, code: str | None, message: str, commit_sha: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.commit_sha = commit_sha


class StandinHubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, address: tuple[str, int]) -> None:
        super().__init__(address, HubRequestHandler)
        self.store = RepoStore(root)
        self.identity = IdentityProvider(Path(root))
        self.request_log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        # Test hook, in-process only: called with (repo_id, path) before a file's body is sent.
        self.before_file_body: Callable[[str, str], None] | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, entry: RequestRecord) -> None:
        with self._log_lock:
            self.request_log.append(entry)

    def file_requests(self, repo_id: str, method: str = "GET") -> list[str]:
        """Paths of ``repo_id`` files requested with ``method`` through /resolve/."""
        prefix = f"/{repo_id}/resolve/"
        with self._log_lock:
            paths = [r.path for r in self.request_log if r.method == method]
        return [path[len(prefix) :].split("/", 1)[1] for path in paths if path.startswith(prefix)]


class HubRequestHandler(BaseHTTPRequestHandler):
    server: StandinHubServer
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects; every answer sets a length

    def do_GET(self) -> None:
        self._handle(send_body=True)

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_POST(self) -> None:
        self._handle(send_body=True)

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get(LOG_ENV_VAR):
            super().log_message(format, *args)

    # --- routing ------------------------------------------------------------------------

    def _handle(self, *, send_body: bool) -> None:
        url = urlsplit(self.path)
        segments = [unquote(part) for part in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        try:
            if segments[:1] in (["oauth"], [".well-known"]):
                status = self._route_oidc(segments, query)
            elif self.command == "POST":
                raise HubError(405, None, "Method not allowed")
            else:
                status = self._route(segments, query, send_body)
        except OidcError as error:
            payload = {"error": error.error, "error_description": error.description}
            status = self._send_json(error.status, payload, True)
        except HubError as error:
            status = self._send_hub_error(error, send_body)
        except (BrokenPipeError, ConnectionResetError):
            status = 499  # the client went away mid-answer (nginx's code for it)
        except Exception:
            # A bug in the stand-in: answer 500, as the real hub would, and show the trace.
            traceback.print_exc()
            status = self._send_hub_error(HubError(500, None, "Internal Error"), send_body)
        decoded_path = "/" + "/".join(segments)
        record = RequestRecord(self.command, decoded_path, self.headers.get("Range"), status)
        self.server.record(record)

    def _route(self, segments: list[str], query: dict[str, list[str]], send_body: bool) -> int:
        if segments[:2] == ["api", "whoami-v2"]:
            return self._send_json(200, self._whoami(), send_body)
        if segments[:2] == ["api", "agent-harnesses"]:
            # huggingface_hub's user-agent telemetry asks for this list unless
            # HF_HUB_DISABLE_TELEMETRY is set: an empty one means "no agent detected".
            return self._send_json(200, {"standardEnvVars": [], "harnesses": {}}, send_body)
        if segments[:2] == ["api", "models"] and len(segments) >= 4:
            return self._route_api(segments[2:], query, send_body)
        if len(segments) >= 5 and segments[2] == "resolve":
            repo_id = "/".join(segments[:2])
            return self._send_file(repo_id, segments[3], "/".join(segments[4:]), send_body)
        raise HubError(404, None, "Sorry, we can't find the page you are looking for.")

    def _route_oidc(self, segments: list[str], query: dict[str, list[str]]) -> int:
        """The sign-in routes (localdev/standin/oidc.py): discovery, authorise, token, userinfo."""
        identity, route = self.server.identity, "/".join(segments)
        params = {key: values[0] for key, values in query.items()}
        if route == ".well-known/openid-configuration":
            return self._send_json(200, identity.configuration(self.server.url), True)
        if route == "oauth/jwks":
            return self._send_json(200, identity.jwks(), True)
        if route == "oauth/userinfo":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            return self._send_json(200, identity.user(token), True)
        if route == "oauth/authorize" and self.command == "GET":
            identity.check_authorize(params)
            return self._send_html(200, identity.sign_in_page(params))
        if route == "oauth/authorize" and self.command == "POST":
            form = {**params, **self._form()}
            try:
                location = identity.authorize(form)
            except OidcError as error:
                if error.status != 401:
                    raise
                return self._send_html(401, identity.sign_in_page(form, error.description))
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 302
        if route == "oauth/token" and self.command == "POST":
            answer = identity.exchange(
                self._form(), self.headers.get("Authorization", ""), self.server.url
            )
            return self._send_json(200, answer, True)
        raise HubError(404, None, "Sorry, we can't find the page you are looking for.")

    def _form(self) -> dict[str, str]:
        length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
        fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        return {key: values[0] for key, values in fields.items()}

    def _send_html(self, status: int, page: str) -> int:
        body = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status

    def _route_api(self, rest: list[str], query: dict[str, list[str]], send_body: bool) -> int:
        repo_id, action, arguments = "/".join(rest[:2]), rest[2:3], rest[3:]
        if not action:
            return self._send_json(200, self._model_info(repo_id, "main", query), send_body)
        if action == ["revision"] and arguments:
            info = self._model_info(repo_id, "/".join(arguments), query)
            return self._send_json(200, info, send_body)
        if action == ["refs"]:
            return self._send_json(200, self._refs(repo_id, query), send_body)
        if action == ["discussions"]:
            self._visible_repo(repo_id)
            answer = pulls.discussions_payload(self.server.store.root, repo_id, query)
            return self._send_json(200, answer, send_body)
        if action == ["tree"] and arguments:
            tree = self._tree(repo_id, arguments[0], "/".join(arguments[1:]), query)
            return self._send_json(200, tree, send_body)
        raise HubError(404, None, "Sorry, we can't find the page you are looking for.")

    # --- lookups shared by the routes -----------------------------------------------------

    def _visible_repo(self, repo_id: str) -> RepoState:
        repo = self.server.store.repo(repo_id)
        # The hub answers a private repo exactly like a missing one to anyone without access.
        if repo is None or repo.private:
            raise HubError(401, "RepoNotFound", "Repository not found")
        return repo

    def _commit_at(self, repo: RepoState, revision: str) -> Commit:
        commit_sha = self.server.store.resolve(repo, revision)
        if commit_sha is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return self.server.store.commit(repo, commit_sha)

    def _require_access(self, repo: RepoState) -> None:
        if repo.gated:
            # Unauthenticated: 401; signed in but not approved: 403. Both carry GatedRepo.
            status = 403 if self.headers.get("Authorization") else 401
            message = (
                f"Access to model {repo.repo_id} is restricted. You must have access to it "
                "and be authenticated to access it. Please log in."
            )
            raise HubError(status, "GatedRepo", message)

    # --- JSON routes ------------------------------------------------------------------------

    def _model_info(self, repo_id: str, revision: str, query: dict[str, list[str]]) -> dict:
        repo = self._visible_repo(repo_id)
        commit = self._commit_at(repo, revision)
        with_blobs = query.get("blobs", ["false"])[0].lower() == "true"
        return payloads.model_info(repo, commit, with_blobs=with_blobs)

    def _refs(self, repo_id: str, query: dict[str, list[str]]) -> dict:
        include_prs = query.get("include_prs", [""])[0] in ("1", "true", "True")
        return payloads.refs(
            self.server.store.root, self._visible_repo(repo_id), include_prs=include_prs
        )

    def _tree(self, repo_id: str, revision: str, folder: str, query: dict[str, list[str]]) -> list:
        commit = self._commit_at(self._visible_repo(repo_id), revision)
        recursive = query.get("recursive", ["false"])[0].lower() == "true"
        return payloads.tree(commit, folder, recursive=recursive)

    def _whoami(self) -> dict:
        authorization = self.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ").strip()
        user = self.server.store.user_for_token(token) if token else None
        if user is None:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        return {
            "type": "user",
            "name": user["name"],
            "fullname": user["name"],
            "orgs": [{"type": "org", "name": org} for org in user["orgs"]],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": "standin", "role": "read"},
            },
        }

    # --- files --------------------------------------------------------------------------

    def _send_file(self, repo_id: str, revision: str, path: str, send_body: bool) -> int:
        repo = self._visible_repo(repo_id)
        self._require_access(repo)
        commit = self._commit_at(repo, revision)
        file = commit.files.get(path)
        if file is None:
            raise HubError(
                404,
                "EntryNotFound",
                f'{path} does not exist on "{revision}"',
                commit_sha=commit.sha,
            )
        blob = self.server.store.blob_path(repo, file.served_sha256)
        total = blob.stat().st_size
        start, end = self._byte_range(total)
        partial = (start, end) != (0, total - 1)
        self.send_response(206 if partial else 200)
        for name, value in payloads.file_headers(commit, file).items():
            self.send_header(name, value)
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{total}")
        self.send_header("Content-Length", str(max(end - start + 1, 0)))
        self.end_headers()
        if send_body:
            self._send_body(repo_id, path, blob, start, end)
        return 206 if partial else 200

    def _send_body(self, repo_id: str, path: str, blob: Path, start: int, end: int) -> None:
        if self.server.before_file_body is not None:
            self.server.before_file_body(repo_id, path)
        fault = faults.take_fault(self.server.store.root, repo_id, path)
        if faults.send_body(blob, self.wfile, start, end, fault):
            return
        self.close_connection = True  # the body is short: this connection cannot go on
        if fault == "drop":
            faults.reset(self.connection)

    def _byte_range(self, total: int) -> tuple[int, int]:
        """(first, last) byte to send; the whole file unless a satisfiable Range asks less."""
        header = self.headers.get("Range")
        match = RANGE_PATTERN.match(header.strip()) if header else None
        if match is None or match.groups() == ("", ""):
            return 0, total - 1
        first, last = match.groups()
        if first == "":  # "bytes=-N": the last N bytes
            return max(total - int(last), 0), total - 1
        if int(first) >= total and total > 0:
            raise HubError(416, None, f"Range {header} not satisfiable for {total} bytes")
        return int(first), min(int(last), total - 1) if last else total - 1

    # --- responses ----------------------------------------------------------------------

    def _send_json(
        self, status: int, payload: Any, send_body: bool, headers: dict[str, str] | None = None
    ) -> int:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
        return status

    def _send_hub_error(self, error: HubError, send_body: bool) -> int:
        headers = {"X-Error-Message": error.message}
        if error.code:
            headers["X-Error-Code"] = error.code
        if error.commit_sha:
            headers["X-Repo-Commit"] = error.commit_sha
        return self._send_json(error.status, {"error": error.message}, send_body, headers)


# --- starting it ----------------------------------------------------------------------------


def serve_in_thread(
    root: Path, host: str = "127.0.0.1", port: int = 0
) -> tuple[StandinHubServer, str]:
    """Start the stand-in on a daemon thread. Stop it with ``server.shutdown()`` and
    ``server.server_close()``."""
    server = StandinHubServer(Path(root), (_loopback_only(host), port))
    # A short poll interval keeps server.shutdown() (and so each test's teardown) quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="standin-hub", daemon=True
    )
    thread.start()
    return server, server.url


def _loopback_only(host: str) -> str:
    # A test double serving whatever sits in a folder must never be reachable from outside.
    address = "127.0.0.1" if host == "localhost" else host
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"the stand-in hub binds only to loopback addresses, not {host!r}")
    return address


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stand-in Hugging Face hub for tests and demos.")
    parser.add_argument("--root", type=Path, required=True, help="folder of published repos")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    arguments = parser.parse_args(argv)
    arguments.root.mkdir(parents=True, exist_ok=True)
    server = StandinHubServer(arguments.root, (_loopback_only(arguments.host), arguments.port))
    print(f"LISTENING {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
