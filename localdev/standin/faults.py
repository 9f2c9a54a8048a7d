"""Download faults the stand-in hub can serve, per repo and file, for the fetch tests.

``set_fault(root, "alice/tiny", "model.safetensors", "drop", times=1)`` makes the next GET of
that file misbehave; ``times=None`` makes every GET misbehave. The faults live in
``ROOT/<org>/<name>/faults.json``, so a stand-in running as its own process serves them too.

    truncate   announce the whole range's Content-Length, send the bytes up to the file's
               middle, then close the connection cleanly (the client sees a short body)
    drop       the same, but the connection is reset (RST) instead of closed
    corrupt    send the whole range, every byte flipped: the right size, the wrong sha256
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
from pathlib import Path
from typing import Any, BinaryIO

FAULT_MODES = ("truncate", "drop", "corrupt")
CHUNK_SIZE = 1024 * 1024
_FLIPPED = bytes(byte ^ 0xFF for byte in range(256))
_lock = threading.Lock()


def set_fault(root: Path, repo_id: str, path: str, mode: str, *, times: int | None = None) -> None:
    """Serve ``path`` of ``repo_id`` with ``mode`` for the next ``times`` GETs (None: always)."""
    if mode not in FAULT_MODES:
        raise ValueError(f"unknown fault {mode!r}; one of {FAULT_MODES}")
    faults_path = Path(root) / repo_id / "faults.json"
    with _lock:
        faults = _read(faults_path)
        faults[path] = {"mode": mode, "times": times}
        _write(faults_path, faults)


def take_fault(root: Path, repo_id: str, path: str) -> str | None:
    """The fault to serve for one GET of ``path``, counting it; None to serve it as stored."""
    faults_path = Path(root) / repo_id / "faults.json"
    with _lock:
        faults = _read(faults_path)
        fault = faults.get(path)
        if fault is None or fault["times"] == 0:
            return None
        if fault["times"] is not None:
            fault["times"] -= 1
            _write(faults_path, faults)
        return str(fault["mode"])


def send_body(blob: Path, out: BinaryIO, start: int, end: int, fault: str | None) -> bool:
    """Write bytes ``start..end`` of ``blob`` to ``out`` as ``fault`` says; False when the
    connection must be closed after this answer (a truncated body cannot be followed)."""
    total = blob.stat().st_size
    last = min(end, total // 2 - 1) if fault in ("truncate", "drop") else end
    with blob.open("rb") as source:
        source.seek(start)
        remaining = last - start + 1
        while remaining > 0:
            chunk = source.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            out.write(chunk.translate(_FLIPPED) if fault == "corrupt" else chunk)
            remaining -= len(chunk)
    return fault not in ("truncate", "drop")


def reset(connection: socket.socket) -> None:
    """Close ``connection`` with a reset: linger on, zero seconds, so no FIN is sent."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def _read(path: Path) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return loaded


def _write(path: Path, faults: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(faults, indent=1, sort_keys=True))
    os.replace(tmp, path)
