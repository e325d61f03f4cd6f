"""A running worker's side of an erasure (agents/erasures.py, agents/state.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from rocksdict import Options, Rdict

from agents.erasures import OVERLAP, ErasureFollower, remove_local
from agents.state import WriteBehind

P = "u_" + "p" * 26
OTHER = "u_" + "o" * 26
KID = "u_" + "k" * 26


class StandInTable(dict[bytes, bytes]):
    """A Faust table as remove_local and WriteBehind see it: RocksDB per partition."""

    def __init__(self, path: Path, partitions: int = 2) -> None:
        super().__init__()
        self.data = SimpleNamespace(
            _dbs={n: Rdict(str(path / f"p{n}"), Options(raw_mode=True))
                  for n in range(partitions)},
            _key_index={})
        self.writes: list[bytes] = []

    def put(self, partition: int, key: bytes) -> None:
        self.data._dbs[partition][key] = b"state"
        self.data._key_index[key] = partition

    def keys_everywhere(self) -> set[bytes]:
        return {key for db in self.data._dbs.values() for key in db.keys()}  # noqa: SIM118

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes.append(key)
        super().__setitem__(key, value)

    def written(self) -> list[Any]:
        return []


def _tables(tmp_path: Path) -> dict[str, StandInTable]:
    tables = {name: StandInTable(tmp_path / name) for name in ("actors", "risk", "pairs")}
    tables["actors"].put(0, P.encode())
    tables["actors"].put(1, P.encode())   # a copy left in another partition's store
    tables["actors"].put(1, OTHER.encode())
    tables["risk"].put(1, P.encode())
    tables["pairs"].put(0, f"{KID}|{P}".encode())
    tables["pairs"].put(1, f"{P}|{OTHER}".encode())
    tables["pairs"].put(1, f"{KID}|{OTHER}".encode())
    return tables


def test_the_persons_keys_leave_every_local_store_and_no_one_elses(tmp_path: Path) -> None:
    tables = _tables(tmp_path)
    assert remove_local(dict(tables), P) == 5
    assert tables["actors"].keys_everywhere() == {OTHER.encode()}
    assert tables["risk"].keys_everywhere() == set()
    assert tables["pairs"].keys_everywhere() == {f"{KID}|{OTHER}".encode()}
    assert P.encode() not in tables["actors"].data._key_index
    assert remove_local(dict(tables), P) == 0  # a second pass finds nothing


def test_a_pseudonym_inside_another_is_not_a_match(tmp_path: Path) -> None:
    tables = _tables(tmp_path)
    longer = P + "x"
    tables["pairs"].put(0, f"{KID}|{longer}".encode())
    remove_local(dict(tables), P)
    assert f"{KID}|{longer}".encode() in tables["pairs"].keys_everywhere()


def test_state_staged_before_the_erasure_is_never_written(tmp_path: Path) -> None:
    table = StandInTable(tmp_path / "actors")
    staged = WriteBehind(table)  # type: ignore[arg-type]
    write_old = staged.stage(P.encode(), b"old state")
    write_other = staged.stage(OTHER.encode(), b"other state")
    assert remove_local({"actors": table}, P) == 1   # the staged value
    assert staged.get(P.encode()) is None
    write_old()
    write_other()
    assert table.writes == [OTHER.encode()]
    write_new = staged.stage(P.encode(), b"built after the erasure")
    write_new()
    assert table.writes == [OTHER.encode(), P.encode()]


def test_the_follower_applies_each_request_once_across_overlapping_polls() -> None:
    follower = ErasureFollower("postgresql://unused")
    t0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    first = [("era_a", P, t0), ("era_b", OTHER, t0 + timedelta(seconds=1))]
    assert follower.new_requests(first) == [("era_a", P), ("era_b", OTHER)]
    # the next poll reaches back OVERLAP: the same rows again, and one committed late
    late = ("era_c", KID, t0 + timedelta(milliseconds=500))
    assert follower.new_requests([*first, late]) == [("era_c", KID)]
    assert follower.new_requests([]) == []
    much_later = t0 + 10 * OVERLAP
    assert follower.new_requests([("era_d", P, much_later)]) == [("era_d", P)]
    # requests older than twice the overlap are forgotten: no poll can return them now
    assert set(follower._applied) == {"era_d"}
