"""Fixtures for tests against the real Kafka broker and PostgreSQL.

The stack is the one ``deploy/local/up.sh`` runs (started here if nothing
answers, and stopped again at the end if this session started it). Services
are real; each test gets its own tenant so tests never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from confluent_kafka.admin import AdminClient

from pipeline.demo.services import Child, free_port, start
from pipeline.kafka import topics
from pipeline.settings import Settings
from pipeline.storage.migrate import migrate
from pipeline.storage.tenants import add_tenant, create_key
from pipeline.topology import load_topology, prefixed_document

REPO = Path(__file__).resolve().parents[2]
MASTER_KEY = "integration-tests-master-key-0123456789abcdef"


def _reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns a truthy value; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def _prefixed_topology(prefix: str, partitions: int | None = None) -> dict[str, Any]:
    """The shipped topology with every topic renamed ``<prefix>.<name>`` (and, if
    ``partitions`` is given, that many partitions for every topic)."""
    document: dict[str, Any] = yaml.safe_load(
        (REPO / "topologies" / "topics.yaml").read_text(encoding="utf-8"))
    if partitions is not None:
        document["defaults"]["partitions"] = partitions
        for spec in document["topics"].values():
            spec["partitions"] = partitions
    return prefixed_document(document, prefix)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The stack, with this module's own topics (a module may set ``TOPIC_PARTITIONS``)."""
    kafka_port = os.environ.get("WARDSTREAM_KAFKA_PORT", "19092")
    env = {
        "WARDSTREAM_KAFKA_BOOTSTRAP": os.environ.get(
            "WARDSTREAM_KAFKA_BOOTSTRAP", f"127.0.0.1:{kafka_port}"
        ),
        "WARDSTREAM_PG_DSN": os.environ.get(
            "WARDSTREAM_PG_DSN",
            "postgresql://wardstream:wardstream@127.0.0.1:"
            f"{os.environ.get('WARDSTREAM_PG_PORT', '54329')}/wardstream",
        ),
    }
    started = False
    pg_host_port = env["WARDSTREAM_PG_DSN"].rsplit("@", 1)[1].split("/", 1)[0]
    if not (_reachable(env["WARDSTREAM_KAFKA_BOOTSTRAP"]) and _reachable(pg_host_port)):
        subprocess.run([str(REPO / "deploy/local/up.sh")], check=True)
        started = True
    migrate(env["WARDSTREAM_PG_DSN"])
    # Each test module gets its own topics and consumer group: what one module
    # leaves behind (a backlog, a stalled group) cannot reach another. See the
    # session note on the open worker stall this isolation works around.
    session = f"it{secrets.token_hex(3)}"
    topology_file = tmp_path_factory.mktemp("topology") / "topics.yaml"
    partitions = getattr(request.module, "TOPIC_PARTITIONS", None)
    topology_file.write_text(yaml.safe_dump(_prefixed_topology(session, partitions)),
                             encoding="utf-8")
    env["WARDSTREAM_TOPOLOGY_FILE"] = str(topology_file)
    env["WARDSTREAM_APP_ID"] = f"wardstream-{session}"
    topology = load_topology(topology_file)
    admin = AdminClient({"bootstrap.servers": env["WARDSTREAM_KAFKA_BOOTSTRAP"]})
    topics.apply(admin, topics.plan(topology, topics.describe(admin, sorted(topology.topics))))
    yield env
    if started:
        subprocess.run([str(REPO / "deploy/local/down.sh")], check=False)


@pytest.fixture(scope="module")
def settings(stack: dict[str, str]) -> Settings:
    return Settings(
        kafka_bootstrap=stack["WARDSTREAM_KAFKA_BOOTSTRAP"],
        pg_dsn=stack["WARDSTREAM_PG_DSN"],
        pseudonym_master_key=MASTER_KEY,
        topology_file=Path(stack["WARDSTREAM_TOPOLOGY_FILE"]),
        app_id=stack["WARDSTREAM_APP_ID"],
    )


@pytest.fixture(scope="module")
def raw_json_topic(settings: Settings) -> str:
    return load_topology(settings.topology_file).port("normalize", "reads", "json")


@pytest.fixture(scope="module")
def raw_avro_topic(settings: Settings) -> str:
    return load_topology(settings.topology_file).port("normalize", "reads", "avro")


@pytest.fixture
def db(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        yield conn


@dataclass
class Tenant:
    tenant_id: str
    api_key: str


@pytest.fixture
def tenant(db: psycopg.Connection) -> Tenant:
    tenant_id = f"t-{secrets.token_hex(4)}"
    add_tenant(db, tenant_id, "integration test")
    return Tenant(tenant_id, create_key(db, tenant_id, ["ingest"]))


@dataclass
class Process:
    """A ``wardstream`` subprocess with its log file (built on the demo's child handling)."""

    args: list[str]
    env: dict[str, str]
    log_path: Path
    child: Child | None = None

    def start(self) -> Process:
        self.child = start(" ".join(self.args), self.args, self.env, self.log_path)
        return self

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        assert self.child is not None, "process not started"
        return self.child.popen

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def terminate(self, timeout: float) -> int | None:
        """SIGTERM; the exit code, or None if the process still runs after ``timeout``."""
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def running(self) -> bool:
        """True while the process lives; fails the test with its log if it died."""
        if not self.child or not self.child.alive():
            raise AssertionError(
                f"wardstream {' '.join(self.args)} exited with {self.popen.returncode}:\n"
                + self.log_tail()
            )
        return True

    def diagnose(self) -> str:
        """Stacks of a live process and its log's tail.

        SIGUSR2 makes a worker write every asyncio task's await chain to its log
        (agents/diagnostics.py); py-spy adds every thread's Python stack (the consumer
        runs in a thread of its own).
        """
        parts = [f"--- wardstream {' '.join(self.args)} (pid {self.popen.pid})"]
        if self.child is not None and self.child.alive():
            if self.args[0] == "worker":
                os.kill(self.popen.pid, signal.SIGUSR2)  # agents/diagnostics.py
                time.sleep(2)
            try:
                py_spy = str(Path(sys.executable).with_name("py-spy"))
                dump = subprocess.run([py_spy, "dump", "--pid", str(self.popen.pid)],
                                      capture_output=True, text=True, timeout=30)
                parts.append(dump.stdout + dump.stderr)
            except (OSError, subprocess.TimeoutExpired) as exc:
                parts.append(f"(no stack dump: {exc})")
        parts.append(self.log_tail(400))
        return "\n".join(parts)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _process_env(stack: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    env.update(stack)
    env["WARDSTREAM_PSEUDONYM_MASTER_KEY"] = MASTER_KEY
    env["WARDSTREAM_LOG_LEVEL"] = "INFO"  # logs stay in the test's tmp dir, for diagnosis
    env.update(extra)
    return env


@pytest.fixture
def worker_factory(
    stack: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Process]]:
    made: list[Process] = []

    def make(**extra: str) -> Process:
        """A worker with its own data dir and port; ``extra`` adds environment."""
        index = len(made)
        env = _process_env(
            stack,
            WARDSTREAM_WORKER_DATA_DIR=str(tmp_path / f"worker-{index}"),
            WARDSTREAM_WORKER_WEB_PORT=str(free_port()),
            **extra,
        )
        process = Process(["worker"], env, tmp_path / f"worker-{index}.log")
        made.append(process)
        return process

    yield make
    if request.node.stash.get(_CALL_FAILED, False):
        # Shown under "Captured stdout teardown": what each worker was doing.
        for process in made:
            print(process.diagnose())
    for process in made:
        process.stop()


@pytest.fixture
def api(stack: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = Process(["api", "--port", str(port)], _process_env(stack),
                      tmp_path / "api.log").start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _reachable(f"127.0.0.1:{port}"), 30, "the API to listen")
        yield base
    finally:
        process.stop()
