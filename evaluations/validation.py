"""Checks on what submitters type, shared by the form, the API and the services."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# The hub's rules: "namespace/name", letters, digits, "-", "_", "."; no "--" or "..";
# neither part starts or ends with "-" or "."; at most 96 characters for the name.
_REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
REPO_ID_RE = re.compile(rf"^{_REPO_PART}/{_REPO_PART}$")
# A git ref or a commit SHA: no spaces, control characters, "..", "~^:?*[\" or trailing "/".
REF_RE = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
COMMIT_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


def clean_repo_id(value: str) -> str:
    repo_id = (value or "").strip()
    if repo_id.startswith("https://huggingface.co/"):
        repo_id = repo_id.removeprefix("https://huggingface.co/").strip("/")
    if not REPO_ID_RE.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise ValidationError(
            "Enter a Hugging Face repo id like “meta-llama/Llama-3.1-8B”: an owner and a "
            "name separated by one “/”, using letters, digits, “-”, “_” and “.”.",
            code="invalid_repo_id",
        )
    return repo_id


def clean_commit_sha(value: str) -> str:
    """A full commit id as the hub reports it: 40 lowercase hexadecimal digits."""
    commit_sha = (value or "").strip()
    if not COMMIT_SHA_RE.match(commit_sha):
        raise ValidationError(
            "Enter the commit as its full 40-character SHA (digits and a-f, lowercase).",
            code="invalid_commit_sha",
        )
    return commit_sha


def clean_ref(value: str) -> str:
    ref = (value or "").strip() or "main"
    if not REF_RE.match(ref) or ".." in ref or ref.endswith("/") or ref.startswith("/"):
        raise ValidationError(
            "Enter a branch, tag or 40-character commit SHA (letters, digits, “.”, “_”, "
            "“-” and “/”).",
            code="invalid_ref",
        )
    return ref
