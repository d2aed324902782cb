"""Crafted files for every reader: ``load``, ``read_metadata``, ``load_results`` and
``open_sweep``. Random bytes, truncations and bit flips of good files, ZIP archives with
traversal names or a bomb, and headers edited field by field -- with their checksums made to
match again, so that the checks behind the checksums are reached too. A reader either reads a
sound object or raises an error that names the file (``FileFormatError`` or another
``ValueError``/``TypeError``/``OSError``); nothing else, never a hang.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fuzz_strategies import FUZZ, guarded
from fuzz_table import ff_result, fixed_points, scratch, sweep_store, use_map
from hypothesis import given
from hypothesis import strategies as st

import echoscope as es

READERS = {"load": es.load, "read_metadata": es.read_metadata, "load_results": es.load_results}


@functools.cache
def good_files() -> dict:
    """A saved TrainedESN, a saved sparse ESN and a saved result, as bytes by name."""
    folder = Path(scratch())
    folder.mkdir()
    es.save(ff_result().trained, folder / "model.npz", metadata={"task": "fuzz"})
    es.save(es.random_esn(6, 2, density=0.3, sparse=True, rng=0), folder / "sparse.npz")
    es.save_result(fixed_points(), folder / "result.npz", extra={"inputs": np.zeros((3, 2))})
    return {p.stem: p.read_bytes() for p in folder.iterdir()}


def read_back(reader: str, path):
    """Read ``path`` with ``reader`` and use what came back."""
    out = READERS[reader](path)
    if reader == "load":
        assert isinstance(out, (es.ESN, es.Readout, es.TrainedESN))
        system = out.closed_loop() if isinstance(out, es.TrainedESN) else out
        if not isinstance(out, es.Readout):
            use_map(system)
    elif reader == "read_metadata":
        json.dumps(out, allow_nan=False)
    else:
        arrays, meta = out
        assert all(isinstance(a, np.ndarray) and a.dtype.kind in "biufcU"
                   for a in arrays.values())
        json.dumps(meta, allow_nan=False)
    return out


def judge_file(reader: str, path, note: str = "") -> str:
    """Read the crafted file: a sound object, or an allowed error naming the file."""
    try:
        with guarded():
            read_back(reader, path)
    except (es.EchoscopeError, ValueError, TypeError, OSError) as err:
        text = str(err)
        assert os.path.basename(str(path)) in text or "'path'" in text, (
            f"{note}: {reader} raised {type(err).__name__} without naming the file: {text}")
        return "refused"
    return "accepted"


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def entries(data: bytes) -> dict:
    """The entries of a ZIP archive, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def archive(members: dict) -> bytes:
    """A ZIP archive of the given entries (DEFLATE), in order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def signed(header: dict) -> bytes:
    """The header with a matching ``header_sha256`` (the checksum is no signature)."""
    rest = {k: v for k, v in header.items() if k != "header_sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()
    return json.dumps({**rest, "header_sha256": hashlib.sha256(canonical).hexdigest()},
                      indent=2).encode()


def npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=isinstance(arr, np.ndarray) and arr.dtype == object)
    return buf.getvalue()


reader_names = st.sampled_from(sorted(READERS))
kinds = st.sampled_from(["model", "sparse", "result"])


@FUZZ
@given(data=st.binary(max_size=2048), reader=reader_names)
def test_random_bytes(tmp_path_factory, data, reader):
    path = write(tmp_path_factory.mktemp("bytes"), "random.npz", data)
    judge_file(reader, path, f"{len(data)} random bytes")


@FUZZ
@given(kind=kinds, reader=reader_names, cut=st.floats(0.0, 1.0), flips=st.lists(
    st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), max_size=3))
def test_truncated_or_flipped_files(tmp_path_factory, kind, reader, cut, flips):
    data = bytearray(good_files()[kind])
    for where, bit in flips:
        data[int(where * (len(data) - 1))] ^= 1 << bit
    data = bytes(data[: max(1, int(cut * len(data)))]) if cut < 1.0 else bytes(data)
    path = write(tmp_path_factory.mktemp("cut"), f"{kind}.npz", data)
    judge_file(reader, path, f"{kind} cut at {cut:.3f} with bit flips {flips}")


TRAVERSAL = ["../evil.npy", "/etc/evil.npy", "a/../../evil.npy", "..\\evil.npy", "esn.w/../x",
             "C:/evil.npy", "esn.w.npy\x00.txt", "esn.w.npy/", "esn w.npy", ".npy"]


@FUZZ
@given(kind=kinds, reader=reader_names, name=st.sampled_from(TRAVERSAL),
       listed=st.booleans())
def test_archive_with_traversal_names(tmp_path_factory, kind, reader, name, listed):
    members = entries(good_files()[kind])
    header = json.loads(members["echoscope.json"])
    first = header["arrays"][0]
    members[name] = members.pop(f"{first['name']}.npy")
    if listed:  # the header names the entry too (its checksum made to match)
        first["name"] = name[:-4] if name.endswith(".npy") else name
        members["echoscope.json"] = signed(header)
    folder = tmp_path_factory.mktemp("trav")
    path = write(folder, f"{kind}.npz", archive(members))
    judge_file(reader, path, f"an entry named {name!r}")
    assert not (folder.parent / "evil.npy").exists()


@pytest.mark.parametrize("reader", ["load", "load_results"])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, reader):
    kind = "model" if reader == "load" else "result"
    members = entries(good_files()[kind])
    name = "esn.w.npy" if reader == "load" else "points.npy"
    members[name] = npy(np.zeros(20_000_000))  # 160 MB that deflate to 150 kB
    path = write(tmp_path, "bomb.npz", archive(members))
    assert len(path.read_bytes()) < 2 * 2**20
    assert judge_file(reader, path, "a bomb") == "refused"
    assert judge_file("read_metadata", path, "a bomb") == "accepted"  # reads the header only


JUNK_JSON = [None, True, -1, 0, 2**70, 1e308, -1.5, "", "x" * 300, "../evil", [], [1, "a"],
             {}, {"a": None}, [10**12, 10**12], [-1, 3], "|O", "<c16", "<U7", ">f8", "<i8",
             "Pickle", "relu", float("inf"), float("nan")]


def paths(value, prefix=()):
    """Every key path into a JSON value (dicts and lists)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def replaced(value, path, new):
    if not path:
        return new
    out = copy.deepcopy(value)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return out


@FUZZ
@given(kind=kinds, reader=reader_names, data=st.data(), resign=st.booleans())
def test_edited_headers(tmp_path_factory, kind, reader, data, resign):
    members = entries(good_files()[kind])
    header = json.loads(members["echoscope.json"])
    where = data.draw(st.sampled_from([p for p in paths(header) if p]), label="field")
    new = data.draw(st.sampled_from(JUNK_JSON), label="value")
    edited = replaced(header, where, new)
    members["echoscope.json"] = signed(edited) if resign else json.dumps(edited).encode()
    path = write(tmp_path_factory.mktemp("hdr"), f"{kind}.npz", archive(members))
    judge_file(reader, path, f"header field {where} set to {new!r}")


ARRAYS = [np.zeros((10**3, 10**3)), np.zeros(0), np.zeros((2, 2), dtype=complex),
          np.array(["a", "b"]), np.array([{"a": 1}], dtype=object), np.full((10, 10), np.nan),
          np.zeros((10, 10), dtype=np.float32), np.zeros((10, 10), dtype=np.int64),
          np.zeros((10, 10)).T, np.ones((10, 9))]


@FUZZ
@given(kind=kinds, reader=reader_names, data=st.data(), fix_checksums=st.booleans())
def test_edited_arrays(tmp_path_factory, kind, reader, data, fix_checksums):
    members = entries(good_files()[kind])
    header = json.loads(members["echoscope.json"])
    index = data.draw(st.integers(0, len(header["arrays"]) - 1), label="array")
    arr = data.draw(st.sampled_from(ARRAYS), label="replacement")
    entry = header["arrays"][index]
    members[f"{entry['name']}.npy"] = npy(arr)
    if fix_checksums:  # the header then describes the new array: the deeper checks decide
        if arr.dtype != object:
            entry.update(shape=list(arr.shape), dtype=arr.dtype.str,
                         sha256=hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest())
        members["echoscope.json"] = signed(header)
    path = write(tmp_path_factory.mktemp("arr"), f"{kind}.npz", archive(members))
    judge_file(reader, path, f"array {entry['name']} replaced by {arr.dtype} {arr.shape}")


@pytest.mark.parametrize("reader", sorted(READERS))
def test_missing_paths_and_folders(tmp_path, reader):
    for path in (tmp_path / "missing.npz", tmp_path, tmp_path / "missing" / "deep.npz"):
        judge_file(reader, path, f"{path}")


# -- sweep stores ---------------------------------------------------------------------------------


def store_files(store) -> list:
    return sorted(p.relative_to(store) for p in store.rglob("*") if p.is_file())


def judge_store(store, note: str) -> str:
    try:
        with guarded():
            ds = es.open_sweep(store)
            assert "done" in ds.data_vars
    except (es.EchoscopeError, ValueError, TypeError, OSError) as err:
        text = str(err)
        assert os.path.basename(str(store)) in text or "'store'" in text, (
            f"{note}: open_sweep raised {type(err).__name__} without naming the store: {text}")
        return "refused"
    return "accepted"


@FUZZ
@given(data=st.data(), how=st.sampled_from(["delete", "garbage", "truncate", "json"]))
def test_damaged_sweep_stores(tmp_path_factory, data, how):
    store = tmp_path_factory.mktemp("store") / "s"
    shutil.copytree(sweep_store(), store)
    target = store / data.draw(st.sampled_from(store_files(store)), label="file")
    if how == "delete":
        target.unlink()
    elif how == "garbage":
        target.write_bytes(data.draw(st.binary(max_size=256), label="bytes"))
    elif how == "truncate":
        target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 2])
    else:
        target.write_text(json.dumps(data.draw(st.sampled_from(JUNK_JSON), label="json")))
    judge_store(store, f"{target.relative_to(store)}: {how}")


def test_not_a_store(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "zarr_only").mkdir()
    (tmp_path / "zarr_only" / "zarr.json").write_text("{}")
    for store in ("missing", "file.txt", "empty", "zarr_only"):
        judge_store(tmp_path / store, store)
