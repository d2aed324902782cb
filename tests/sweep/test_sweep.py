"""Sweeps, in-process and on a real LocalCluster on loopback: the same numbers bit for bit, a
worker killed mid-sweep, a sweep interrupted (or its process killed) and resumed, damaged and
foreign stores refused, per-point errors recorded, points stopped at a time limit, bad input
explained."""

import functools
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

from sweep_points import interrupted, noisy, sleepy, stalling  # noqa: E402

from echoscope import ESN, FileFormatError, Uniform, echo_index  # noqa: E402
from echoscope.sweep import Grid, SweepError, open_sweep, sweep  # noqa: E402
from echoscope.tasks.configured_sweep import check_config, sweep_point  # noqa: E402

GRID = {"a": [0.0, 1.0, 2.0, 3.0], "b": [-1.0, 0.5, 2.0]}  # 12 points
N = 12
TESTS = os.path.dirname(os.path.abspath(__file__))


# -- analyses (module level: workers import them) ---------------------------------------------------


def slow(rng, a, b):
    time.sleep(0.05)
    return noisy(rng, a, b)


def counted(rng, a, b, *, log, stop_after=None, pause=0.0):
    """``noisy``, logging each call to a file; raises KeyboardInterrupt once ``stop_after``
    calls are logged."""
    if stop_after is not None and os.path.exists(log):
        with open(log) as file:
            if len(file.read().split()) >= stop_after:
                raise KeyboardInterrupt("stop here")
    time.sleep(pause)
    with open(log, "a") as file:
        file.write(f"{a},{b}\n")
    return noisy(rng, a, b)


def fragile(rng, a, b):
    if b < 0:
        raise ValueError(f"negative b={b}")
    return noisy(rng, a, b)


def calls(log) -> list:
    if not os.path.exists(log):
        return []
    with open(log) as file:
        return sorted(tuple(float(v) for v in line.split(",")) for line in file.read().split())


def points(indices) -> list:
    grid = Grid(GRID)
    return sorted((grid.point(i)["a"], grid.point(i)["b"]) for i in indices)


def assert_bitwise(ds, ref):
    assert set(ds.data_vars) == set(ref.data_vars)
    for name in ref.data_vars:
        assert ds[name].dims == ref[name].dims, name
        assert ds[name].dtype == ref[name].dtype, name
        assert ds[name].values.tobytes() == ref[name].values.tobytes(), name
    for name in ref.coords:
        assert np.array_equal(ds[name].values, ref[name].values), name


def snapshot(path) -> dict:
    files = {}
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            with open(full, "rb") as file:
                files[os.path.relpath(full, path)] = (file.read(), os.stat(full).st_mtime_ns)
    return files


@pytest.fixture(scope="module")
def reference():
    return sweep(noisy, GRID, client="inprocess", rng=11)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client


# -- results ---------------------------------------------------------------------------------------


def test_results_are_the_points_own_draws(reference):
    ds = reference
    assert ds["x"].dims == ("a", "b") and ds["v"].dims == ("a", "b", "v_dim_0")
    assert ds["n"].dtype == np.int64 and ds["ok"].dtype == bool and ds["x"].dtype == np.float64
    assert ds["v"].shape == (4, 3, 3)
    assert np.array_equal(ds["a"].values, GRID["a"]) and np.array_equal(ds["b"].values, GRID["b"])
    assert (ds["error"].values == "").all()
    children = np.random.SeedSequence(11).spawn(N)
    grid = Grid(GRID)
    for i in range(N):  # point i, C order, is spawn child i
        want = noisy(np.random.default_rng(children[i]), **grid.point(i))
        j, k = np.unravel_index(i, grid.shape)
        assert ds["x"].values[j, k] == want["x"]
        assert np.array_equal(ds["v"].values[j, k], want["v"])
        assert ds["n"].values[j, k] == want["n"] and ds["ok"].values[j, k] == want["ok"]
    assert ds.attrs["analysis"] == "noisy" and ds.attrs["seed_entropy"] == "11"
    assert ds.attrs["n_points"] == N and ds.attrs["n_errors"] == 0
    assert json.loads(ds.attrs["metadata"]) == {}


def test_inprocess_cluster_and_chunk_sizes_agree_bit_for_bit(reference, client):
    for options in ({"client": "inprocess", "chunk_size": 1},
                    {"client": "inprocess", "chunk_size": 5},
                    {"client": client}, {"client": client, "chunk_size": 1},
                    {"client": client, "chunk_size": 7}):
        assert_bitwise(sweep(noisy, GRID, rng=11, **options), reference)
    # The same points listed explicitly, in C order, get the same seeds and numbers.
    rows = list(itertools.product(GRID["a"], GRID["b"]))
    explicit = sweep(noisy, Grid.points(["a", "b"], rows), client=client, rng=11)
    assert explicit["x"].dims == ("point",)
    assert explicit["x"].values.tobytes() == reference["x"].values.ravel().tobytes()
    assert np.array_equal(explicit["b"].values, [b for _, b in rows])


def test_default_client_starts_a_local_cluster_for_larger_grids(reference):
    assert_bitwise(sweep(noisy, GRID, rng=np.random.SeedSequence(11)), reference)


def test_echo_index_over_a_grid(client):
    def index(rng, leak, drive):
        esn = ESN(np.diag([0.5, 1.75]), np.eye(2), leak=leak)
        result = echo_index(esn, np.tile([0.25, drive], (200, 1)), seeds=Uniform(40), rng=rng)
        return {"index": result.index, "converged": result.converged,
                "separation": result.separation}

    grid = {"leak": [0.25, 1.0], "drive": [0.05, 2.0]}
    here = sweep(index, grid, client="inprocess", rng=5)
    there = sweep(index, grid, client=client, rng=5, chunk_size=1)
    assert_bitwise(there, here)
    assert here["index"].sel(drive=0.05).values.tolist() == [2, 2]  # bistable (Ashwin & Ceni)
    assert here["index"].sel(drive=2.0).values.tolist() == [1, 1]  # a strong drive: ESP
    assert here["converged"].values.all()


def test_a_generator_seeds_the_sweep_reproducibly():
    first = sweep(noisy, GRID, client="inprocess", rng=np.random.default_rng(5))
    again = sweep(noisy, GRID, client="inprocess", rng=np.random.default_rng(5))
    assert_bitwise(again, first)
    generator = np.random.default_rng(5)
    sweep(noisy, GRID, client="inprocess", rng=generator)
    assert generator.random() != np.random.default_rng(5).random()  # it was drawn from


def test_progress_is_reported():
    seen = []
    sweep(noisy, GRID, client="inprocess", rng=1, chunk_size=5,
          progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, N), (5, N), (10, N), (12, N)]


# -- failures of workers, of the client, of the analysis --------------------------------------------


def test_a_worker_killed_mid_sweep_loses_no_point(reference, cluster, client, tmp_path):
    killed = []

    def kill_one(done, total):
        if not killed and 0 < done < total:
            nanny = next(iter(cluster.workers.values()))
            pid = nanny.process.process.pid
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    grid = {"a": GRID["a"], "b": GRID["b"] + [3.0, 4.0, 5.0]}  # 24 points, 12 tasks
    store = tmp_path / "killed.zarr"
    ds = sweep(slow, grid, client=client, rng=11, chunk_size=2, store=store, progress=kill_one)
    assert killed
    assert open_sweep(store)["done"].values.all()
    assert_bitwise(ds, sweep(noisy, grid, client="inprocess", rng=11))


def test_an_interrupted_sweep_resumes_with_the_missing_points_only(reference, client, tmp_path):
    log = str(tmp_path / "calls.txt")
    store = tmp_path / "run.zarr"
    with pytest.raises(KeyboardInterrupt):
        sweep(functools.partial(counted, log=log, stop_after=5), GRID, client="inprocess",
              store=store, rng=11, chunk_size=2)
    partial = open_sweep(store)
    done = partial["done"].values.ravel()
    assert done.tolist() == [True] * 4 + [False] * 8  # chunks (0, 1) and (2, 3)
    assert np.isnan(partial["x"].values.ravel()[4:]).all() and partial.attrs["n_done"] == 4
    os.remove(log)
    resumed = sweep(functools.partial(counted, log=log), GRID, client=client, store=store)
    assert calls(log) == points(range(4, N))  # only the missing points
    assert_bitwise(resumed, reference)
    # A finished sweep does no work: nothing is called, no scheduler is even contacted.
    os.remove(log)
    again = sweep(functools.partial(counted, log=log), GRID, client="127.0.0.1:1",
                  store=store, rng=11)
    assert calls(log) == []
    assert_bitwise(again, reference)


def test_an_abort_on_a_worker_stops_the_sweep_and_keeps_finished_chunks(client, tmp_path):
    log = str(tmp_path / "calls.txt")
    store = tmp_path / "run.zarr"
    analysis = functools.partial(counted, log=log, stop_after=3)
    with pytest.raises(SweepError, match=r"raised KeyboardInterrupt: stop here at point \d+ "
                       r"\(a=.*\); the sweep stopped. The store .* keeps the \d+ points"):
        sweep(analysis, GRID, client=client, store=store, rng=11, chunk_size=1)
    done = open_sweep(store)["done"].values
    assert 0 < done.sum() < N


def test_a_killed_client_loses_no_finished_point(reference, tmp_path):
    store = tmp_path / "run.zarr"
    log = str(tmp_path / "calls.txt")
    script = (f"import sys, functools; sys.path.insert(0, {TESTS!r})\n"
              "from test_sweep import GRID, counted\n"
              "from echoscope.sweep import sweep\n"
              f"sweep(functools.partial(counted, log={log!r}, pause=0.1), GRID, "
              f"client='inprocess', store={str(store)!r}, rng=11, chunk_size=1)\n")
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while len(calls(log)) < 3 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    done = open_sweep(store)["done"].values.ravel()
    assert 0 < done.sum() < N
    lock = tmp_path / "run.zarr.lock"
    assert json.loads(lock.read_text())["pid"] == child.pid  # left by the killed process
    os.remove(log)
    resumed = sweep(functools.partial(counted, log=log), GRID, client="inprocess", store=store)
    assert calls(log) == points(np.flatnonzero(~done))
    assert_bitwise(resumed, reference)
    assert not lock.exists()  # taken over (its process is gone) and released


def test_a_store_is_written_by_one_sweep_at_a_time(tmp_path):
    store, lock = tmp_path / "run.zarr", tmp_path / "run.zarr.lock"
    seen = []
    sweep(noisy, GRID, client="inprocess", store=store, rng=1, chunk_size=4,
          progress=lambda done, total: seen.append(json.loads(lock.read_text())))
    assert {(h["pid"], h["host"]) for h in seen} == {(os.getpid(), socket.gethostname())}
    assert not lock.exists()
    # Held by a live process of this host, by another host, or unreadable: refused, untouched.
    other = tmp_path / "other.zarr"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for content, message in [
            ({"host": socket.gethostname(), "pid": holder.pid, "started": "noon"},
             rf"is being written by process {holder.pid} on .* since noon"),
            ({"host": "elsewhere.example", "pid": os.getpid(), "started": "noon"},
             "is being written by process .* on elsewhere.example"),
            ("not json", "is being written by an unreadable lock"),
        ]:
            text = content if isinstance(content, str) else json.dumps(content)
            (tmp_path / "other.zarr.lock").write_text(text)
            with pytest.raises(SweepError, match=message + r".*delete the lock file"):
                sweep(noisy, GRID, client="inprocess", store=other, rng=1)
            assert not other.exists()
            assert (tmp_path / "other.zarr.lock").read_text() == text
    finally:
        holder.kill()
        holder.wait()
    # A lock of a process that is gone is taken over.
    (tmp_path / "other.zarr.lock").write_text(json.dumps(
        {"host": socket.gethostname(), "pid": holder.pid, "started": "noon"}))
    ds = sweep(noisy, GRID, client="inprocess", store=other, rng=1)
    assert int(ds.attrs["n_points"]) == N and not (tmp_path / "other.zarr.lock").exists()


def test_errors_are_recorded_per_point_and_the_sweep_goes_on(reference, client):
    for where in ("inprocess", client):
        ds = sweep(fragile, GRID, client=where, rng=11, chunk_size=2)
        failed = ds["b"] < 0
        errors = ds["error"].transpose("a", "b").values
        assert (errors[:, 0] == "ValueError: negative b=-1.0").all()
        assert (errors[:, 1:] == "").all() and ds.attrs["n_errors"] == 4
        assert ds["n"].dtype == np.float64 and ds["ok"].dtype == np.float64  # NaN needs floats
        assert np.isnan(ds["x"]).sum() == 4 and np.isnan(ds["x"].where(failed, 0)).sum() == 4
        assert np.isnan(ds["v"].values[:, 0]).all()
        kept = ds.isel(b=[1, 2])
        assert kept["x"].values.tobytes() == reference.isel(b=[1, 2])["x"].values.tobytes()
        assert np.array_equal(kept["n"].values, reference.isel(b=[1, 2])["n"].values)


def test_unusable_results_are_point_errors():
    def odd(rng, a):
        return "text" if a == 1 else {"y": a}

    ds = sweep(odd, {"a": [0, 1, 2]}, client="inprocess", rng=0)
    assert ds["error"].values[1].startswith("TypeError: sweep: the analysis must return a dict")
    assert ds["y"].values[0] == 0 and np.isnan(ds["y"].values[1])

    def bare(rng, a):
        return a * rng.random()

    assert sweep(bare, {"a": [1.0, 2.0]}, client="inprocess", rng=0)["result"].shape == (2,)

    def clash(rng, a):
        return {"a": a}

    ds = sweep(clash, {"a": [0, 1]}, client="inprocess", rng=0)
    assert ds["error"].values[0] == ("ValueError: sweep: the analysis returned a result named "
                                     "'a'; names must be Python identifiers other than the "
                                     "grid's names, 'error', 'done', 'point' and '*_dim_<k>'.")

    def widening(rng, a):  # a bool, then an int, then a float: the widest kind is kept
        return {"y": [True, 2, 2.5][a]}

    ds = sweep(widening, {"a": [0, 1, 2]}, client="inprocess", rng=0, chunk_size=1)
    assert ds["y"].dtype == np.float64 and ds["y"].values.tolist() == [1.0, 2.0, 2.5]
    ds = sweep(widening, {"a": [0, 1]}, client="inprocess", rng=0, chunk_size=1)
    assert ds["y"].dtype == np.int64 and ds["y"].values.tolist() == [1, 2]


def test_results_that_do_not_fit_together_stop_the_sweep():
    def ragged(rng, a):
        return {"y": np.zeros(a)}

    with pytest.raises(ValueError, match=r"returned 'y' of shape \(2,\) at point 1 \(a=2\), "
                       r"and of shape \(1,\) at the points before"):
        sweep(ragged, {"a": [1, 2]}, client="inprocess", rng=0)

    def renamed(rng, a):
        return {f"y{a}": 1.0}

    with pytest.raises(ValueError, match="must return the same names at every point"):
        sweep(renamed, {"a": [1, 2]}, client="inprocess", rng=0)


# -- time limits -----------------------------------------------------------------------------------

LATE = "TimeoutError: sweep: the point exceeded the time limit of 0.5 s; its process was stopped."


def worker_processes() -> list:
    """The worker processes of a time limit that are children of this process (Linux)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as file:
                parent = int(file.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                command = file.read()
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"_worker.py" in command:
            found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """``stalling`` in-process with a time limit of 0.5 s, into a store."""
    store = tmp_path_factory.mktemp("limited") / "run.zarr"
    ds = sweep(stalling, GRID, client="inprocess", store=store, rng=11, chunk_size=5,
               time_limit=0.5)
    return ds, store


def test_a_point_over_the_time_limit_is_an_error_and_the_sweep_goes_on(reference, limited,
                                                                        capfd):
    ds, _ = limited
    errors = ds["error"].values
    assert errors[1, 1] == LATE  # a loop in Python
    assert errors[2, 2] == LATE  # a long LAPACK call
    assert errors[3, 0] == ("ChildProcessError: sweep: the process running the point ended "
                            "(exit status 3).")
    ok = errors == ""
    assert ok.sum() == N - 3 and ds.attrs["n_errors"] == 3
    # The other points have the numbers of a sweep without a limit, bit for bit.
    for name in ("x", "v"):
        assert ds[name].values[ok].tobytes() == reference[name].values[ok].tobytes(), name
        assert np.isnan(ds[name].values[~ok]).all()
    for name in ("n", "ok"):
        assert np.array_equal(ds[name].values[ok], reference[name].values[ok]), name
    if sys.platform.startswith("linux"):
        assert worker_processes() == []  # every worker process was ended and reaped


def test_time_limits_give_the_same_results_on_a_cluster(limited, client):
    ds = sweep(stalling, GRID, client=client, rng=11, chunk_size=2, time_limit=0.5)
    assert_bitwise(ds, limited[0])


def test_a_point_stopped_at_the_time_limit_is_done_for_a_resumed_sweep(limited):
    ds, store = limited
    assert open_sweep(store)["done"].values.all()
    # Nothing is run again: no scheduler is even contacted.
    assert_bitwise(sweep(stalling, GRID, client="127.0.0.1:1", store=store, time_limit=0.5), ds)


def test_an_abort_under_a_time_limit_stops_the_sweep(tmp_path):
    store = tmp_path / "run.zarr"
    with pytest.raises(KeyboardInterrupt, match="stop here"):
        sweep(interrupted, GRID, client="inprocess", store=store, rng=11, chunk_size=3,
              time_limit=5)
    assert open_sweep(store)["done"].values.ravel().tolist() == [True] * 6 + [False] * 6


def test_a_time_limit_needs_a_picklable_analysis(tmp_path):
    store = tmp_path / "run.zarr"
    for analysis, reason in [
        (functools.partial(sleepy, handle=threading.Lock()),
         r"got sleepy, which is not \(TypeError: cannot pickle '_thread.lock' object\)"),
        (Unloadable(), r"got Unloadable, which is not \(RuntimeError: this analysis cannot be "
         r"loaded here\)"),
    ]:
        with pytest.raises(TypeError, match=r"The 'analysis' parameter of sweep must be "
                           r"picklable when 'time_limit' is given .*; " + reason):
            sweep(analysis, GRID, client="inprocess", store=store, time_limit=1)
        assert not os.listdir(tmp_path)  # refused before any work


def test_a_configured_sweep_takes_a_time_limit():
    check_config({"sweep": {"seed": 1, "time_limit": 30}})
    with pytest.raises(ValueError, match="did you mean 'time_limit'"):
        check_config({"sweep": {"timelimit": 30}})
    config = {"system": {"n_state": 5, "n_input": 1, "spectral_radius": 0.9},
              "input": {"n_steps": 40}, "analysis": {"kind": "lyapunov"}}
    analysis = functools.partial(sweep_point, config)
    grid = {"leak": [0.5, 1.0]}
    assert_bitwise(sweep(analysis, grid, client="inprocess", rng=3, time_limit=60),
                   sweep(analysis, grid, client="inprocess", rng=3))


# -- stores ----------------------------------------------------------------------------------------


@pytest.fixture
def finished(tmp_path):
    store = tmp_path / "done.zarr"
    sweep(noisy, GRID, client="inprocess", store=store, rng=11, chunk_size=4,
          metadata={"note": "test"})
    return store


@pytest.mark.parametrize("damage, message", [
    (lambda s: (s / "x" / "c" / "1").write_bytes(b"garbage"),
     r"corrupted: the array 'x' cannot be read \(RuntimeError: Zstd"),
    (lambda s: (s / "v" / "c" / "2" / "0").write_bytes(b"\x28\xb5\x2f\xfd" + b"0" * 40),
     "corrupted: the array 'v' cannot be read"),
    (lambda s: (s / "error" / "c" / "0").unlink(),
     "corrupted: the chunk 0 of the array 'error' is missing, although its points are done"),
    (lambda s: (s / "zarr.json").write_text("{garbage"),
     "corrupted: its zarr metadata cannot be read"),
    (lambda s: (s / "n" / "zarr.json").unlink(), "corrupted: the array 'n' is missing"),
    (lambda s: edit_header(s, lambda h: h["grid"]["values"][0].append("x")),
     "corrupted: the grid in its header is invalid"),
    (lambda s: edit_header(s, lambda h: h.pop("seed")), "corrupted: 'seed' in its header"),
    (lambda s: edit_header(s, lambda h: h.update(format_version=99)),
     r"written by a newer echoscope \(sweep format version 99\)"),
    (lambda s: edit_header(s, lambda h: h.update(format="other")),
     "is not an echoscope sweep store"),
])
def test_a_damaged_store_is_reported_and_never_overwritten(finished, damage, message):
    damage(finished)
    before = snapshot(finished)
    with pytest.raises(FileFormatError, match=message):
        sweep(noisy, GRID, client="inprocess", store=finished, rng=11)
    with pytest.raises(FileFormatError, match=message):
        open_sweep(finished)
    assert snapshot(finished) == before


def edit_header(store, change, reseal=True):
    """Change the store's header; resealed (its checksum recomputed as the format says), so
    that the checks behind the checksum are reached."""
    import hashlib

    with open(store / "zarr.json") as file:
        meta = json.load(file)
    header = meta["attributes"]["echoscope_sweep"]
    change(header)
    if reseal:
        body = {k: v for k, v in header.items() if k != "header_sha256"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        header["header_sha256"] = hashlib.sha256(text.encode("ascii")).hexdigest()
    with open(store / "zarr.json", "w") as file:
        json.dump(meta, file)


@pytest.mark.parametrize("change", [
    lambda h: h["grid"]["values"][0].__setitem__(0, 99.0),
    lambda h: h.update(chunk_size=h["chunk_size"] + 1),
    lambda h: h["seed"].update(entropy="12"),
    lambda h: h["metadata"].update(note="edited"),
    lambda h: h.pop("header_sha256"),
])
def test_an_edited_store_header_is_refused(finished, tmp_path, change):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    edit_header(copy, change, reseal=False)
    with pytest.raises(FileFormatError, match=r"its header .* does not match its checksum "
                                              r"\('header_sha256'\); it was edited"):
        open_sweep(copy)


def test_a_version_1_store_is_read_without_the_header_check(finished, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(finished, copy)
    expected = open_sweep(finished)

    def downgrade(h):
        h.update(format_version=1)
        h.pop("header_sha256")

    edit_header(copy, downgrade, reseal=False)
    opened = open_sweep(copy)
    again = sweep(noisy, GRID, client="inprocess", store=copy, rng=11, chunk_size=4,
                  metadata={"note": "test"})  # resumed: nothing left to compute
    import xarray as xr

    xr.testing.assert_equal(opened, expected)
    xr.testing.assert_equal(again, expected.drop_vars("done"))


def test_a_store_of_another_sweep_is_never_overwritten(reference, finished, tmp_path):
    before = snapshot(finished)
    other = {"a": GRID["a"], "b": [-1.0, 0.5, 2.5]}
    for call, message in [
        (lambda: sweep(noisy, other, client="inprocess", store=finished, rng=11),
         r"holds a sweep over another grid .* will not be overwritten"),
        (lambda: sweep(noisy, GRID, client="inprocess", store=finished, rng=12),
         r"another seed \(entropy 11\) than rng gives \(12\)"),
        (lambda: sweep(fragile, GRID, client="inprocess", store=finished, rng=11),
         "holds a sweep of the analysis 'noisy', not 'fragile'"),
        (lambda: sweep(noisy, GRID, client="inprocess", store=finished, metadata={"n": 1}),
         "holds other metadata"),
    ]:
        with pytest.raises(FileFormatError, match=message):
            call()
    with pytest.raises(ValueError, match=r"written in chunks of 4 points; got chunk_size=3"):
        sweep(noisy, GRID, client="inprocess", store=finished, chunk_size=3)
    assert snapshot(finished) == before
    # rng=None resumes with the store's seed; overwrite=True replaces it explicitly.
    assert_bitwise(sweep(noisy, GRID, client="inprocess", store=finished), reference)
    replaced = sweep(noisy, other, client="inprocess", store=finished, rng=3, overwrite=True)
    assert_bitwise(open_sweep(finished).drop_vars("done"), replaced)
    # A directory that is not a zarr store is never replaced.
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("precious")
    for call in (lambda: sweep(noisy, GRID, client="inprocess", store=foreign, overwrite=True),
                 lambda: open_sweep(foreign)):
        with pytest.raises(FileFormatError, match="not a sweep store .* even with overwrite"):
            call()
    assert (foreign / "chapter1.tex").read_text() == "precious"


def test_a_store_is_an_xarray_readable_zarr_group_and_the_result_saves_to_netcdf(finished,
                                                                                 tmp_path):
    raw = xr.open_zarr(finished, consolidated=False)
    assert raw["x"].dims == ("point",) and raw.sizes["point"] == N
    ds = open_sweep(finished)
    assert json.loads(ds.attrs["metadata"]) == {"note": "test"} and ds.attrs["chunk_size"] == 4
    path = tmp_path / "results.nc"
    ds.drop_vars("done").to_netcdf(path, engine="scipy")
    with xr.open_dataset(path, engine="scipy") as back:
        assert np.array_equal(back["x"].values, ds["x"].values)


def test_open_sweep_needs_a_store(tmp_path):
    with pytest.raises(FileNotFoundError, match="'store' parameter of open_sweep must be an "
                       "existing sweep store"):
        open_sweep(tmp_path / "nothing.zarr")


def test_an_empty_directory_is_a_new_store(reference, tmp_path):
    store = tmp_path / "empty"
    store.mkdir()
    assert_bitwise(sweep(noisy, GRID, client="inprocess", store=store, rng=11), reference)


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("grid, kind, message", [
    ({}, ValueError, "'grid' parameter of sweep must be a dict naming at least one"),
    ({"a": [], "b": [1.0]}, ValueError, r"'axes\['a'\]' parameter of Grid must be a sequence "
     "of at least one value"),
    ({"a": [[1, 2], [3, 4]], "b": [1.0]}, ValueError, r"must be a 1-d sequence of values; got "
     r"shape \(2, 2\)"),
    ({"a": 0.5, "b": [1.0]}, TypeError, "must be a 1-d sequence of finite numbers or of "
     "strings; got 0.5"),
    ({"a": [1.0, np.nan], "b": [1.0]}, ValueError, "must hold finite numbers; got nan at index 1"),
    ({"a": [1.0, "x"], "b": [1.0]}, TypeError, r"\(not a mix\)"),
    ({"a": [1.0, 1.0], "b": [1.0]}, ValueError, "must not repeat values"),
    ({"a": [1.0], "b": [1.0], "c": [2], "d": [3]}, ValueError,
     r"the grid names 'c', 'd', which the analysis noisy\(rng, a, b\) does not take"),
    ({"a": [1.0]}, ValueError, r"the analysis noisy\(rng, a, b\) needs 'b', which the grid "
     "does not name"),
    ({"rng": [1.0]}, ValueError, "named by Python identifiers other than 'rng'"),
    ([1, 2], TypeError, "must be a Grid or a dict"),
])
def test_bad_grids_are_explained(grid, kind, message):
    with pytest.raises(kind, match=message):
        sweep(noisy, grid, client="inprocess")


@pytest.mark.parametrize("options, kind, message", [
    ({"rng": -1}, ValueError, "'rng' parameter of sweep must be None, a non-negative int"),
    ({"rng": "seed"}, TypeError, "'rng' parameter of sweep"),
    ({"chunk_size": 0}, ValueError, "'chunk_size' parameter of sweep must be an integer >= 1"),
    ({"client": 3}, TypeError, "'client' parameter of sweep must be None, 'inprocess'"),
    ({"timeout": 0}, ValueError, "'timeout' parameter of sweep must be a positive number"),
    ({"timeout": 10**400}, ValueError, r"'timeout' parameter of sweep .*\(finite as a float\)"),
    ({"time_limit": 0}, ValueError, r"'time_limit' parameter of sweep must be in \(0, inf\); "
     "got 0"),
    ({"time_limit": math.inf}, ValueError, r"'time_limit' parameter of sweep must be in \(0, "),
    ({"time_limit": "1"}, TypeError, "'time_limit' parameter of sweep must be a real number"),
    ({"metadata": {"x": np.nan}}, ValueError, "'metadata' parameter of sweep"),
    ({"progress": 1}, TypeError, "'progress' parameter of sweep"),
    ({"store": 3}, TypeError, "'store' parameter of sweep"),
    ({"store": "\x00"}, ValueError, r"The 'store' parameter of sweep must be the path of a "
     r"directory \(not empty, without NUL characters\); got '\\x00'"),
    ({"store": ""}, ValueError, r"'store' parameter of sweep .*not empty.*; got ''"),
])
def test_bad_options_are_explained(options, kind, message):
    with pytest.raises(kind, match=message):
        sweep(noisy, GRID, **{"client": "inprocess", **options})


def test_open_sweep_refuses_a_nul_character():
    with pytest.raises(ValueError, match="'store' parameter of open_sweep .* without NUL"):
        open_sweep("a\x00b")


def test_a_chunk_larger_than_the_grid_is_the_whole_grid(reference, tmp_path):
    """Any chunk size is accepted (2**63 does not fit numpy's integers): the chunk is the
    grid, and a resumed store takes the same size."""
    ds = sweep(noisy, GRID, client="inprocess", rng=11, chunk_size=2**63)
    assert_bitwise(ds, reference)
    assert ds.attrs["chunk_size"] == N
    store = tmp_path / "big.zarr"
    sweep(noisy, GRID, client="inprocess", rng=11, chunk_size=10**30, store=store)
    assert_bitwise(sweep(noisy, GRID, client="inprocess", chunk_size=2**63, store=store),
                   reference)


def test_a_time_limit_beyond_what_a_lock_can_wait_is_no_limit(reference):
    grid = {"a": [1.0], "b": [0.5, 2.0]}
    expected = sweep(noisy, grid, client="inprocess", rng=11)
    for limit in (1e300, float(threading.TIMEOUT_MAX) * 2):
        assert_bitwise(sweep(noisy, grid, client="inprocess", rng=11, time_limit=limit),
                       expected)


def test_bad_analyses_and_points_are_explained():
    with pytest.raises(TypeError, match="'analysis' parameter of sweep must be a callable"):
        sweep(3, GRID)
    with pytest.raises(ValueError, match="must take the random generator as its first"):
        sweep(lambda *, a, b: None, GRID)
    with pytest.raises(ValueError, match=r"'rows\[1\]' parameter of Grid.points must be a row "
                       "of 2 values"):
        Grid.points(["a", "b"], [(1, 2), (3,)])
    with pytest.raises(ValueError, match="must be a list of at least one point"):
        Grid.points(["a"], [])
    assert sweep(lambda rng, **point: {"s": sum(point.values())}, GRID,
                 client="inprocess")["s"].shape == (4, 3)


def test_an_unreachable_scheduler_is_reported_within_the_timeout():
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="must be 'inprocess', 'local', a "
                       "distributed.Client or the address of a Dask scheduler that answers "
                       "within 1 s; got '127.0.0.1:1'"):
        sweep(noisy, GRID, client="127.0.0.1:1", timeout=1)
    assert time.monotonic() - start < 10


def test_a_scheduler_address_that_fails_leaves_no_client_behind():
    """A client whose connection failed is closed at once: none is left for the interpreter
    to close at exit (which would wait and print "Exception ignored ... TimeoutError")."""
    script = (f"import sys; sys.path.insert(0, {TESTS!r})\n"
              "from sweep_points import noisy\n"
              "from echoscope.sweep import sweep\n"
              "for address in ('nonsense', 'tcp://host:port', '127.0.0.1:1'):\n"
              "    try:\n"
              "        sweep(noisy, {'a': [1.0], 'b': [0.5]}, client=address, timeout=1)\n"
              "    except ConnectionError as exc:\n"
              "        assert repr(address) in str(exc), exc\n"
              "    else:\n"
              "        raise AssertionError(address)\n"
              "print('refused')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "refused", done.stderr
    assert "Exception ignored" not in done.stderr and "TimeoutError" not in done.stderr, \
        done.stderr


def test_no_file_is_left_behind_by_a_refused_store(tmp_path):
    with pytest.raises(FileNotFoundError, match="'store' parameter of sweep must be a path in "
                       "an existing directory"):
        sweep(noisy, GRID, client="inprocess", store=tmp_path / "no" / "such.zarr")
    assert not os.listdir(tmp_path)


def _refuse_to_load():
    raise RuntimeError("this analysis cannot be loaded here")


class Unloadable:
    """An analysis that workers cannot unpickle."""

    def __call__(self, rng, a, b):
        return noisy(rng, a, b)

    def __reduce__(self):
        return _refuse_to_load, ()


def test_a_task_that_fails_on_the_cluster_stops_the_sweep(client):
    with pytest.raises(SweepError, match=r"(?s)a task failed on the cluster \(RuntimeError: "
                       r".*\); the sweep stopped. Pass store= to keep finished points"):
        sweep(Unloadable(), GRID, client=client, rng=0, chunk_size=6)
