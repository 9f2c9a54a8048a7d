"""The evaluation child's sandbox: no network, a read-only model snapshot, resource limits.

The child runs through a chain of util-linux programs, each of which execs the next, so the
process the worker started keeps its pid and its parent (``PR_SET_PDEATHSIG`` still works)::

    prlimit --as=… --nofile=… --cpu=… \\
    unshare --net --mount [--user --map-root-user] \\
    sh -c 'mount --bind M M && mount -o remount,bind,ro M M; (loopback up);
           exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"' \\
    python -m workers.evaluate_child …

- Network: a namespace of its own with only a loopback interface (vLLM talks to itself over
  it); nothing outside the child can be reached, the worker's own loopback included.
- Model: files 0444 and folders 0555 always. Mode bits stop neither the owner (who may chmod
  them back) nor root, so inside the namespace the folder is also bind-mounted read-only and
  the child keeps no capabilities: it cannot remount it writable, even as root.
- Limits: address space (RLIMIT_AS; off on GPU workers, where CUDA reserves huge virtual
  ranges), open files, CPU seconds (the hard time limit times the CPUs the worker may use).

Namespaces need root or unprivileged user namespaces; the machine is probed once per
process. Where neither works (a container without CAP_SYS_ADMIN, user namespaces disabled),
the fallback is the mode bits and the limits only: the child then shares the worker's
network, and a child running as root could write the snapshot. The log of every run starts
with the line that says which protections applied.
"""

from __future__ import annotations

import functools
import logging
import os
import resource
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

GIB = 1024**3
DEFAULT_OPEN_FILES = 4096
DEFAULT_HARD_TIME_LIMIT = int(4 * 3600 * 1.2)
# Tried in order: as root; then, for an unprivileged worker, in a user namespace of its own.
NAMESPACE_FORMS = (("--net", "--mount"), ("--net", "--mount", "--user", "--map-root-user"))
# `ip link set lo up` without iproute2 (slim images lack it): SIOCGIFFLAGS, then SIOCSIFFLAGS
# with IFF_UP. vLLM's processes talk to each other over the loopback.
LOOPBACK_UP = (
    "import fcntl, socket, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
    "request = struct.pack('16sH14x', b'lo', 0); "
    "flags = struct.unpack('16sH14x', fcntl.ioctl(s, 0x8913, request))[1]; "
    "fcntl.ioctl(s, 0x8914, struct.pack('16sH14x', b'lo', flags | 1))"
)
DROP_PRIVILEGES = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]


@dataclass(frozen=True)
class Limits:
    """What ``prlimit`` sets for the child; None leaves a limit as the worker's."""

    address_space: int | None
    open_files: int
    cpu_seconds: int

    @classmethod
    def for_worker(cls, *, address_space_gb: int, open_files: int, hard_time_limit: int) -> Limits:
        """``address_space_gb`` 0 means no limit. Open files stay within the worker's own hard
        limit, which an unprivileged worker cannot raise."""
        cpus = len(os.sched_getaffinity(0))
        hard_open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard_open_files != resource.RLIM_INFINITY:
            open_files = min(open_files, hard_open_files)
        return cls(address_space_gb * GIB or None, open_files, hard_time_limit * cpus)

    @classmethod
    def defaults(cls) -> Limits:
        """Without settings: the machine's memory, DEFAULT_OPEN_FILES, 4.8 hours per CPU."""
        memory_gb = -(-os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // GIB)
        return cls.for_worker(
            address_space_gb=memory_gb,
            open_files=DEFAULT_OPEN_FILES,
            hard_time_limit=DEFAULT_HARD_TIME_LIMIT,
        )

    def prlimit_arguments(self) -> list[str]:
        arguments = ["prlimit", f"--nofile={self.open_files}", f"--cpu={self.cpu_seconds}"]
        if self.address_space is not None:
            arguments.append(f"--as={self.address_space}")
        return [*arguments, "--"]

    def describe(self) -> str:
        address_space = (
            f"{self.address_space / GIB:.1f} GiB" if self.address_space else "not limited"
        )
        return (
            f"address space {address_space}, open files {self.open_files}, "
            f"CPU time {self.cpu_seconds} s"
        )


@dataclass(frozen=True)
class Sandbox:
    limits: Limits
    namespace: tuple[str, ...] | None  # unshare's flags; None where namespaces are unavailable
    read_only_dir: Path | None  # bind-mounted read-only inside the namespace

    def wrap(self, command: list[str]) -> list[str]:
        """``command`` run inside the sandbox, as one process that keeps its pid."""
        wrapped = self.limits.prlimit_arguments() if shutil.which("prlimit") else []
        if self.namespace is None:
            return [*wrapped, *command]
        script = _enter_script(self.read_only_dir)
        target = str(self.read_only_dir or "")
        return [*wrapped, "unshare", *self.namespace, "--", "sh", "-c", script, target, *command]

    def describe(self) -> str:
        if self.namespace is None:
            network = "shared with the worker (no namespaces on this machine)"
            model = "read-only by mode bits only (its owner or root could still write it)"
        else:
            user = " in a user namespace" if "--user" in self.namespace else ""
            network = f"own namespace{user}, loopback only"
            model = (
                "read-only bind mount, no capabilities"
                if self.read_only_dir
                else "no snapshot to protect"
            )
        limits = self.limits.describe() if shutil.which("prlimit") else "none (no prlimit)"
        return f"sandbox: network {network}; model {model}; limits {limits}"


def prepare(model_dir: Path, limits: Limits) -> Sandbox:
    """Make the snapshot read-only and say how the child will run."""
    model_dir = Path(model_dir)
    present = model_dir.is_dir()
    if present:
        make_read_only(model_dir)
    namespace = namespace_form()
    return Sandbox(limits, namespace, model_dir if present and namespace else None)


def make_read_only(folder: Path) -> None:
    """Files 0444, folders 0555, the folder itself included."""
    for root, dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(0o444)
        for name in dirs:
            Path(root, name).chmod(0o555)
    folder.chmod(0o555)


def make_writable(folder: Path) -> None:
    """Undo ``make_read_only`` for the owner, so the folder can be deleted."""
    if not folder.is_dir() or folder.is_symlink():
        return
    folder.chmod(folder.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
    for root, dirs, _ in os.walk(folder):
        for name in dirs:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)


@functools.cache
def namespace_form() -> tuple[str, ...] | None:
    """unshare's flags that work on this machine, found once by trying each on a scratch
    folder; None (and a warning in the log) where none does."""
    missing = [tool for tool in ("unshare", "setpriv", "mount") if not shutil.which(tool)]
    if missing:
        logger.warning("evaluation sandbox: no namespaces (%s not installed)", ", ".join(missing))
        return None
    reasons = []
    with tempfile.TemporaryDirectory() as scratch:
        for form in NAMESPACE_FORMS:
            limits = Limits.for_worker(address_space_gb=0, open_files=64, hard_time_limit=60)
            probe = Sandbox(limits, form, Path(scratch))
            result = subprocess.run(
                probe.wrap(["true"]), capture_output=True, text=True, timeout=30, check=False
            )
            if result.returncode == 0:
                logger.info("evaluation sandbox: unshare %s", " ".join(form))
                return form
            reasons.append(f"unshare {' '.join(form)}: {result.stderr.strip()[-200:]}")
    logger.warning("evaluation sandbox: no namespaces, fallback to mode bits: %s", reasons)
    return None


def _enter_script(read_only_dir: Path | None) -> str:
    """The shell step between unshare and the command; "$0" is the folder to protect."""
    steps = []
    if read_only_dir is not None:
        steps.append('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" || exit 125')
    steps.append(f"{shlex.quote(sys.executable)} -c {shlex.quote(LOOPBACK_UP)} || exit 125")
    steps.append(f'exec {" ".join(DROP_PRIVILEGES)} "$@"')
    return "; ".join(steps)
