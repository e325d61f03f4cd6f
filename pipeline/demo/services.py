"""Starting and stopping the worker and the API the demo runs, as child processes."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import WardstreamError
from pipeline.pseudonym import MIN_MASTER_KEY_BYTES
from pipeline.settings import Settings


class DemoError(WardstreamError):
    """A demo step failed; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def master_key(settings: Settings, home: Path) -> str:
    """The configured master key, or a local one kept under ``home`` for demo runs."""
    if settings.pseudonym_master_key is not None:
        return settings.pseudonym_master_key.get_secret_value()
    path = home / "demo-pseudonym-master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(MIN_MASTER_KEY_BYTES), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check(self) -> None:
        if not self.alive():
            raise DemoError(f"the {self.name} exited with {self.popen.returncode}; see {self.log}")

    def stop(self) -> None:
        if not self.alive():
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


def start(name: str, args: list[str], env: dict[str, str], log: Path) -> Child:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        popen = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", *args],
            env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
    return Child(name, popen, log)


def wait_for_port(child: Child, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise DemoError(f"the {child.name} did not listen on port {port}; see {child.log}")
