"""Tests of echoscope.io: bit-exact round trips, safe writing, and every way a file can be bad."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
import scipy.sparse as sp

import echoscope
from echoscope import ACTIVATIONS, ESN, Activation, FileFormatError, Readout, TrainedESN
from echoscope.io import FORMAT_VERSION, load, load_results, read_metadata, save, save_results

# -- helpers -------------------------------------------------------------------------------------


def assert_same(a, b):
    """Equal bit for bit: same type, dtype, shape and bytes (CSR parts for sparse matrices)."""
    if a is None or b is None:
        assert a is None and b is None
        return
    assert type(a) is type(b)
    if sp.issparse(a):
        assert a.shape == b.shape
        for part in ("data", "indices", "indptr"):
            assert_same(getattr(a, part), getattr(b, part))
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def assert_same_esn(a: ESN, b: ESN):
    for name in ("w", "w_in", "w_fb", "bias", "reservoir"):
        assert_same(getattr(a, name), getattr(b, name))
    assert a.leak == b.leak
    assert a.spectral_radius == b.spectral_radius
    assert a.phi is b.phi


def assert_same_readout(a: Readout, b: Readout):
    assert_same(a.w_out, b.w_out)
    assert_same(a.bias, b.bias)
    assert a.g is b.g


def dense_esn(**changes) -> ESN:
    rng = np.random.default_rng(1)
    params = dict(w_fb=rng.uniform(-1, 1, (8, 2)), bias=rng.uniform(-0.1, 0.1, 8), leak=0.3,
                  activation="softsign", spectral_radius=1.1)
    params.update(changes)
    return ESN(rng.standard_normal((8, 8)), rng.uniform(-1, 1, (8, 3)), **params)


def sparse_esn() -> ESN:
    return echoscope.random_esn(50, 2, 3, density=0.1, spectral_radius=0.8, leak=0.5, rng=0)


def trained(esn: ESN) -> TrainedESN:
    rng = np.random.default_rng(2)
    return TrainedESN(esn, Readout(rng.standard_normal((esn.n_output, esn.n_state)) * 0.1,
                                   rng.standard_normal(esn.n_output) * 0.1, "tanh"))


def rewrite(src, dest, edit):
    """Copy the ZIP ``src`` to ``dest``, passing each entry through ``edit(name, data)``, which
    returns the new bytes, or None to drop the entry."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = edit(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)
    return dest


def downgrade(header):
    """Make ``header`` one of format version 1, which had no checksum of its own."""
    header["format_version"] = 1
    header.pop("header_sha256", None)
    return header


def seal(header):
    """The header with its checksum recomputed as the module docstring specifies it: SHA-256
    of the canonical JSON of every other key (what a deliberate tamperer would do)."""
    rest = {key: value for key, value in header.items() if key != "header_sha256"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"))
    return {**rest, "header_sha256": hashlib.sha256(text.encode()).hexdigest()}


def replace_array(src, dest, name, arr):
    """Rewrite ``src`` with the array ``name`` replaced and its header entry updated to match
    (the header's checksum too)."""
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=False)

    def edit(entry_name, data):
        if entry_name == f"{name}.npy":
            return buffer.getvalue()
        if entry_name == "echoscope.json":
            header = json.loads(data)
            for entry in header["arrays"]:
                if entry["name"] == name:
                    entry.update(shape=list(arr.shape), dtype=arr.dtype.str,
                                 sha256=hashlib.sha256(arr.tobytes()).hexdigest())
            return json.dumps(seal(header)).encode()
        return data

    return rewrite(src, dest, edit)


def edit_header(src, dest, change, *, reseal=True):
    """Rewrite ``src`` with ``change(header)`` applied to its JSON header; with ``reseal`` the
    header's checksum is recomputed, so that the checks behind it are reached."""

    def edit(name, data):
        if name != "echoscope.json":
            return data
        header = json.loads(data)
        change(header)
        return json.dumps(seal(header) if reseal else header).encode()

    return rewrite(src, dest, edit)


def refused(path, match, readers=(load,), error=FileFormatError):
    """Each reader raises ``error`` with a message that matches and names the file."""
    for reader in readers:
        with pytest.raises(error, match=match) as caught:
            reader(path)
        assert repr(str(path)) in str(caught.value)


@dataclasses.dataclass
class Member:
    """A ZIP entry written by hand: ``data`` is its content; ``payload`` (what is stored),
    ``size`` (the declared size), ``crc``, ``method`` and ``flags`` default to an honest
    DEFLATE entry of ``data`` and may each be set to lie."""

    name: str
    data: bytes = b""
    payload: bytes | None = None
    size: int | None = None
    crc: int | None = None
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def write_zip(path, members):
    """A ZIP archive of ``members`` built byte by byte (zipfile cannot write lies)."""
    body, directory = bytearray(), bytearray()
    for m in members:
        name = m.name.encode()
        payload = deflate(m.data) if m.payload is None else m.payload
        fields = struct.pack("<HHHHHIII", 20, m.flags, m.method, 0, 0x21,
                             zlib.crc32(m.data) if m.crc is None else m.crc, len(payload),
                             len(m.data) if m.size is None else m.size)
        directory += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                      + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0o644 << 16, len(body))
                      + name)
        body += b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name + payload
    n = len(members)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, n, n, len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))
    return path


def members_of(path) -> list[Member]:
    with zipfile.ZipFile(path) as archive:
        return [Member(info.filename, archive.read(info)) for info in archive.infolist()]


def bomb(prefix: bytes, n_mib: int) -> bytes:
    """A DEFLATE stream of ``prefix`` followed by ``n_mib`` MiB of spaces, built from one
    compressed MiB repeated (full flushes make the pieces independent), so it costs little."""
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
            + (piece.compress(b" " * 2**20) + piece.flush(zlib.Z_FULL_FLUSH)) * n_mib
            + zlib.compressobj(9, zlib.DEFLATED, -15).flush())


@contextlib.contextmanager
def allocation_peak():
    """Yields a dict whose ``"bytes"`` is, on exit, the peak of Python's allocations inside."""
    box = {}
    tracemalloc.start()
    try:
        yield box
    finally:
        box["bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.echoscope"
    save(trained(sparse_esn()), path)
    return path


# -- round trips -----------------------------------------------------------------------------------


def test_dense_esn_round_trip(tmp_path):
    esn = dense_esn()
    save(esn, tmp_path / "esn.echoscope")
    back = load(tmp_path / "esn.echoscope")
    assert isinstance(back, ESN)
    assert_same_esn(esn, back)
    assert isinstance(back.w, np.ndarray)


def test_esn_without_feedback_or_radius_round_trip(tmp_path):
    esn = dense_esn(w_fb=None, spectral_radius=None, activation="tanh", leak=1.0)
    save(esn, str(tmp_path / "esn.echoscope"))
    back = load(str(tmp_path / "esn.echoscope"))
    assert back.w_fb is None and back.spectral_radius is None
    assert_same_esn(esn, back)


def test_sparse_esn_round_trip(tmp_path):
    esn = sparse_esn()
    assert sp.issparse(esn.w)
    save(esn, tmp_path / "esn.echoscope")
    back = load(tmp_path / "esn.echoscope")
    assert isinstance(back.w, sp.csr_array)
    assert_same_esn(esn, back)
    x = np.random.default_rng(3).uniform(-1, 1, (4, 50))
    u = np.random.default_rng(4).uniform(-1, 1, (4, 2))
    assert_same(esn.step(u, x), back.step(u, x))
    assert_same(esn.jacobian(u, x), back.jacobian(u, x))


def test_loaded_draw_rescales_like_the_original(tmp_path):
    esn = sparse_esn()
    save(esn, tmp_path / "esn.echoscope")
    back = load(tmp_path / "esn.echoscope")
    assert_same(dataclasses.replace(esn, spectral_radius=1.3).reservoir,
                dataclasses.replace(back, spectral_radius=1.3).reservoir)


def test_named_activation_object_is_saved_by_name(tmp_path):
    esn = dense_esn(activation=ACTIVATIONS["logistic"])
    save(esn, tmp_path / "esn.echoscope")
    back = load(tmp_path / "esn.echoscope")
    assert back.activation == "logistic"
    assert back.phi is esn.phi


def test_readout_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    readout = Readout(rng.standard_normal((3, 10)), rng.standard_normal(3), "tanh")
    save(readout, tmp_path / "readout.echoscope")
    back = load(tmp_path / "readout.echoscope")
    assert isinstance(back, Readout) and back.activation == "tanh"
    assert_same_readout(readout, back)


@pytest.mark.parametrize("make", [sparse_esn, dense_esn], ids=["sparse", "dense"])
def test_trained_esn_round_trip(tmp_path, make):
    model = trained(make())
    save(model, tmp_path / "model.echoscope")
    back = load(tmp_path / "model.echoscope")
    assert isinstance(back, TrainedESN)
    assert_same_esn(model.esn, back.esn)
    assert_same_readout(model.readout, back.readout)
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, (5, model.esn.n_state))
    u = rng.uniform(-1, 1, (5, model.esn.n_input))
    assert_same(model.closed_loop().step(u, x), back.closed_loop().step(u, x))
    assert_same(model.closed_loop().jacobian(u, x), back.closed_loop().jacobian(u, x))


def test_loaded_arrays_are_read_only(saved):
    back = load(saved)
    for arr in (back.esn.w.data, back.esn.w_in, back.esn.bias, back.readout.w_out):
        assert not arr.flags.writeable


def test_saving_is_deterministic(tmp_path):
    model = trained(sparse_esn())
    save(model, tmp_path / "a.echoscope")
    save(model, tmp_path / "b.echoscope")
    assert (tmp_path / "a.echoscope").read_bytes() == (tmp_path / "b.echoscope").read_bytes()


# -- the format ----------------------------------------------------------------------------------


def test_file_is_a_zip_of_json_and_npy_without_pickle(saved):
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        assert names[0] == "echoscope.json"
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
        header = json.loads(archive.read("echoscope.json"))
        assert header["format"] == "echoscope"
        assert header["format_version"] == FORMAT_VERSION == 2
        assert header == seal(header)  # its checksum is the one the docstring specifies
        assert header["kind"] == "TrainedESN"
        assert header["echoscope_version"] == echoscope.__version__
        assert header["esn"]["w_format"] == "csr" and header["esn"]["w_shape"] == [50, 50]
        assert header["readout"] == {"activation": "tanh"}
        listed = {entry["name"] for entry in header["arrays"]}
        assert listed == {"esn.w.data", "esn.w.indices", "esn.w.indptr", "esn.w_in",
                          "esn.w_fb", "esn.bias", "readout.w_out", "readout.bias"}
        assert sorted(names[1:]) == sorted(f"{name}.npy" for name in listed)
        for entry in header["arrays"]:
            raw = archive.read(entry["name"] + ".npy")
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
            assert list(arr.shape) == entry["shape"] and arr.dtype.str == entry["dtype"]
            assert b"pickle" not in raw and arr.dtype != object


def test_read_metadata_round_trip(tmp_path):
    metadata = {"task": "flip-flop", "n_bits": 3, "ridge": 1e-6, "tags": ["a", "b"],
                "nested": {"ok": True, "none": None}}
    save(trained(sparse_esn()), tmp_path / "m.echoscope", metadata=metadata)
    info = read_metadata(tmp_path / "m.echoscope")
    assert info == {"format": "echoscope", "format_version": 2, "kind": "TrainedESN",
                    "echoscope_version": echoscope.__version__, "metadata": metadata}
    assert read_metadata(tmp_path / "m.echoscope")["metadata"] is not metadata
    save(sparse_esn(), tmp_path / "none.echoscope")
    assert read_metadata(tmp_path / "none.echoscope")["metadata"] == {}


# -- refusing to save ------------------------------------------------------------------------------


def test_refuses_to_overwrite(saved):
    before = saved.read_bytes()
    with pytest.raises(FileExistsError, match=r"'path' parameter of save.*overwrite=True"):
        save(sparse_esn(), saved)
    assert saved.read_bytes() == before


def test_overwrite_replaces_the_old_content(saved):
    readout = Readout(np.ones((1, 4)))
    save(readout, saved, overwrite=True)
    back = load(saved)
    assert isinstance(back, Readout)
    assert_same_readout(readout, back)
    assert os.listdir(saved.parent) == [saved.name]


@pytest.mark.parametrize("overwrite", [True, False])
def test_failed_write_leaves_old_file_and_no_temporary(saved, monkeypatch, overwrite):
    target = saved if overwrite else saved.parent / "new.echoscope"
    before = saved.read_bytes()

    def failing_write(stream, arr, **options):
        stream.write(b"\x93NUMPY partial")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save(dense_esn(), target, overwrite=overwrite)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]
    monkeypatch.undo()
    assert_same_readout(load(saved).readout, trained(sparse_esn()).readout)


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'path' parameter of save must be a file in "
                                                r"an existing directory"):
        save(sparse_esn(), tmp_path / "nowhere" / "esn.echoscope")


def test_path_is_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="not a directory"):
        save(sparse_esn(), tmp_path, overwrite=True)


def test_custom_activation_refused(tmp_path):
    mine = Activation("mine", lambda s, out=None: np.tanh(s, out=out),
                      lambda s: 1.0 - np.tanh(s) ** 2, 1.0)
    with pytest.raises(ValueError, match=r"'obj.activation' parameter of save.*only named "
                                         r"activations can be saved"):
        save(dense_esn(activation=mine), tmp_path / "esn.echoscope")
    # a look-alike named "tanh" is still custom code
    fake = dataclasses.replace(ACTIVATIONS["tanh"])
    with pytest.raises(ValueError, match="'obj.esn.activation'.*only named activations"):
        save(trained(dense_esn(activation=fake)), tmp_path / "esn.echoscope")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("metadata, error", [
    ([1, 2], TypeError),
    ({"x": float("nan")}, ValueError),
    ({"x": (1, 2)}, ValueError),
    ({1: "one"}, ValueError),
    ({"x": np.int64(3)}, ValueError),
])
def test_bad_metadata(tmp_path, metadata, error):
    with pytest.raises(error, match="'metadata' parameter of save"):
        save(sparse_esn(), tmp_path / "esn.echoscope", metadata=metadata)
    assert os.listdir(tmp_path) == []


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="'obj' parameter of save must be an ESN, a Readout"):
        save(np.eye(3), tmp_path / "x.echoscope")
    with pytest.raises(TypeError, match="'path' parameter of save"):
        save(sparse_esn(), 3)
    with pytest.raises(TypeError, match="'overwrite' parameter of save must be a bool"):
        save(sparse_esn(), tmp_path / "x.echoscope", overwrite=1)
    with pytest.raises(TypeError, match="'path' parameter of load"):
        load(None)


@pytest.mark.parametrize("path", ["", "\x00", "a\x00b.npz"])
def test_empty_paths_and_nul_characters_are_refused(tmp_path, path):
    from echoscope.io import load_results, save_result, save_results

    fps = echoscope.find_fixed_points(echoscope.ESN(2.0 * np.eye(1), np.zeros((1, 1))), rng=0)
    calls = {"save": lambda: save(sparse_esn(), path), "load": lambda: load(path),
             "read_metadata": lambda: read_metadata(path),
             "save_results": lambda: save_results(path, {"a": np.zeros(2)}),
             "save_result": lambda: save_result(fps, path),
             "load_results": lambda: load_results(path)}
    for owner, call in calls.items():
        with pytest.raises(ValueError, match=rf"The 'path' parameter of {owner} must be a file "
                                             r"name \(not empty, without NUL characters\)"):
            call()


def test_overwrite_must_be_a_bool_for_results_too(tmp_path):
    from echoscope.io import save_result, save_results

    fps = echoscope.find_fixed_points(echoscope.ESN(2.0 * np.eye(1), np.zeros((1, 1))), rng=0)
    flags = np.array([True, False])
    with pytest.raises(TypeError, match=r"The 'overwrite' parameter of save_results must be a "
                                        r"bool; got an array of shape \(2,\)"):
        save_results(tmp_path / "r.npz", {"a": np.zeros(2)}, overwrite=flags)
    with pytest.raises(TypeError, match="The 'overwrite' parameter of save_result must be a bool"):
        save_result(fps, tmp_path / "r.npz", overwrite=flags)
    assert not list(tmp_path.iterdir())


# -- bad files -----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="'path' parameter of load must be an existing"):
        load(tmp_path / "absent.echoscope")
    with pytest.raises(FileNotFoundError, match="read_metadata"):
        read_metadata(tmp_path / "absent.echoscope")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.echoscope"
    path.write_bytes(np.random.default_rng(7).bytes(1000))
    refused(path, r"is not an echoscope file \(not a ZIP archive\)", (load, read_metadata))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.echoscope"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="is not an echoscope file"):
        load(path)


def test_numpy_npz(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, w=np.eye(3), w_in=np.ones((3, 1)))
    with pytest.raises(FileFormatError, match=r"not an echoscope file.*no 'echoscope.json'"):
        load(path)


def test_foreign_json_header(saved, tmp_path):
    bad = edit_header(saved, tmp_path / "bad.zip", lambda h: h.update(format="other"))
    with pytest.raises(FileFormatError, match="is not an echoscope file"):
        load(bad)


def test_truncated_file(saved, tmp_path):
    raw = saved.read_bytes()
    for length in (len(raw) // 2, len(raw) - 10):
        path = tmp_path / f"cut{length}.echoscope"
        path.write_bytes(raw[:length])
        refused(path, "is truncated or corrupted", (load, read_metadata, load_results))


def test_newer_format_version(saved, tmp_path):
    def newer(header):
        header["format_version"] = FORMAT_VERSION + 1
        header["esn"] = "something new"
        header.pop("header_sha256")  # a newer format may check its header otherwise

    bad = edit_header(saved, tmp_path / "v3.echoscope", newer, reseal=False)
    message = (r"written by a newer echoscope \(format version 3\); this one reads up to 2")
    with pytest.raises(FileFormatError, match=message):
        load(bad)
    with pytest.raises(FileFormatError, match=message):
        read_metadata(bad)


@pytest.mark.parametrize("version", [0, "1", None, True])
def test_invalid_format_version(saved, tmp_path, version):
    bad = edit_header(saved, tmp_path / "bad.echoscope",
                      lambda h: h.update(format_version=version))
    with pytest.raises(FileFormatError, match="corrupted: its format version"):
        load(bad)


def test_unknown_kind(saved, tmp_path):
    bad = edit_header(saved, tmp_path / "bad.echoscope", lambda h: h.update(kind="LSTM"))
    with pytest.raises(FileFormatError, match="unknown kind of object 'LSTM'"):
        load(bad)


def test_tampered_array_byte(saved, tmp_path):
    def tamper(name, data):
        if name == "esn.w_in.npy":
            data = data[:-1] + bytes([data[-1] ^ 1])
        return data

    bad = rewrite(saved, tmp_path / "bad.echoscope", tamper)
    with pytest.raises(FileFormatError, match=r"corrupted: the array 'esn.w_in' does not match "
                                              r"its SHA-256 checksum"):
        load(bad)


def test_a_header_declaring_huge_arrays_is_refused_before_reading(saved, tmp_path):
    """A 10^6 x 10^6 array in the header is 8 TB: refused from the header alone, quickly and
    with a sentence, not a MemoryError after inflating it."""
    def huge(header):
        entry = next(e for e in header["arrays"] if e["name"] == "esn.w_in")
        entry["shape"] = [10**6, 10**6]

    bad = edit_header(saved, tmp_path / "huge.echoscope", huge)
    with pytest.raises(FileFormatError, match=r"declares arrays of \d+ bytes in all, more than "
                                              r"the \d+ bytes of memory available here"):
        load(bad)


def test_a_crafted_npy_header_cannot_make_numpy_allocate(saved, tmp_path):
    """The .npy member says (10^6, 10^6) while the echoscope header says the true shape: the
    mismatch is seen from the .npy header, before any data is read or allocated."""
    def craft(name, data):
        if name != "esn.w_in.npy":
            return data
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        return buffer.getvalue() + data[-16:]

    bad = rewrite(saved, tmp_path / "crafted.echoscope", craft)
    with pytest.raises(FileFormatError, match=r"the array 'esn.w_in' has shape "
                                              r"\(1000000, 1000000\)"):
        load(bad)


def test_an_entry_larger_than_its_array_is_refused_before_inflating(saved, tmp_path):
    """A member that declares far more bytes than its header's shape takes (a ZIP bomb: zeros
    compress to nothing) is refused from the ZIP directory, before it is inflated."""
    def bomb(name, data):
        return data + bytes(2**20) if name == "esn.w_in.npy" else data

    bad = rewrite(saved, tmp_path / "bomb.echoscope", bomb)
    assert bad.stat().st_size < 100_000
    with pytest.raises(FileFormatError, match=r"the entry of array 'esn.w_in' declares \d+ "
                                              r"bytes; its header's shape"):
        load(bad)


def test_loaded_results_are_the_callers_to_change(tmp_path):
    echoscope.io.save_results(tmp_path / "r.echoscope", {"x": np.arange(3.0)})
    arrays, _ = echoscope.load_results(tmp_path / "r.echoscope")
    arrays["x"] += 1.0
    np.testing.assert_array_equal(arrays["x"], [1.0, 2.0, 3.0])


def test_raw_byte_flip_in_zip(tmp_path):
    path = tmp_path / "esn.echoscope"
    save(dense_esn(), path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("esn.w.npy")
    start = info.header_offset
    name_length, extra_length = np.frombuffer(bytes(raw[start + 26:start + 30]), "<u2")
    raw[start + 30 + int(name_length) + int(extra_length) + 5] ^= 0xFF  # inside the deflated data
    path.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="corrupted"):
        load(path)


def test_shape_mismatch(saved, tmp_path):
    def change(header):
        for entry in header["arrays"]:
            if entry["name"] == "readout.w_out":
                entry["shape"] = [50, 3]

    bad = edit_header(saved, tmp_path / "bad.echoscope", change)
    with pytest.raises(FileFormatError, match=r"corrupted: the array 'readout.w_out' has shape"):
        load(bad)


def test_missing_array(saved, tmp_path):
    bad = rewrite(saved, tmp_path / "bad.echoscope",
                  lambda name, data: None if name == "esn.bias.npy" else data)
    with pytest.raises(FileFormatError, match="corrupted: the array 'esn.bias' is missing"):
        load(bad)
    read_metadata(bad)  # the header alone is fine

    def unlist(header):
        header["arrays"] = [e for e in header["arrays"] if e["name"] != "esn.w_in"]

    bad = edit_header(saved, tmp_path / "unlisted.echoscope", unlist)
    refused(bad, r"holds entries that its header does not list \('esn.w_in.npy'\)")
    old = edit_header(saved, tmp_path / "unlisted_v1.echoscope",
                      lambda h: downgrade(unlist(h) or h), reseal=False)
    refused(old, "the array 'esn.w_in' is missing")  # version 1 ignores unlisted entries


def test_pickled_array_is_refused(saved, tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}] * 3, dtype=object), allow_pickle=True)

    def swap(name, data):
        if name == "readout.bias.npy":
            return buffer.getvalue()
        if name == "echoscope.json":
            header = json.loads(data)
            for entry in header["arrays"]:
                if entry["name"] == "readout.bias":
                    entry["dtype"] = "|O"
            return json.dumps(seal(header)).encode()
        return data

    bad = rewrite(saved, tmp_path / "bad.echoscope", swap)
    refused(bad, r"the array 'readout.bias' has shape \(3,\) and dtype '\|O'")


def test_invalid_object(saved, tmp_path):
    bad = edit_header(saved, tmp_path / "bad.echoscope", lambda h: h["esn"].update(leak=2.0))
    with pytest.raises(FileFormatError, match=r"holds an invalid ESN: The 'leak' parameter"):
        load(bad)
    bad = edit_header(saved, tmp_path / "act.echoscope",
                      lambda h: h["readout"].update(activation="relu"))
    with pytest.raises(FileFormatError, match=r"invalid Readout: The 'activation' parameter"):
        load(bad)


@pytest.mark.parametrize("change", [
    lambda h: h.pop("arrays"),
    lambda h: h.pop("esn"),
    lambda h: h["esn"].update(leak="fast"),
    lambda h: h["esn"].update(spectral_radius=True),
    lambda h: h["esn"].update(w_format="coo"),
    lambda h: h["esn"].update(w_radius=None),
    lambda h: h["arrays"].append(7),
], ids=["no-arrays", "no-esn", "leak-str", "radius-bool", "w-format", "w-radius", "entry"])
def test_malformed_header(saved, tmp_path, change):
    bad = edit_header(saved, tmp_path / "bad.echoscope", change)
    with pytest.raises(FileFormatError, match="corrupted"):
        load(bad)


def test_inconsistent_csr_parts(saved, tmp_path):
    with zipfile.ZipFile(saved) as archive:
        indices = np.load(io.BytesIO(archive.read("esn.w.indices.npy")))
    bad = replace_array(saved, tmp_path / "bad.echoscope", "esn.w.indices", indices + 50)
    with pytest.raises(FileFormatError, match="CSR parts of 'w' are inconsistent"):
        load(bad)


def test_wrong_dtype(saved, tmp_path):
    bad = replace_array(saved, tmp_path / "bad.echoscope", "esn.bias", np.zeros(50, np.int64))
    with pytest.raises(FileFormatError, match="'esn.bias' has dtype int64; expected float64"):
        load(bad)


def test_results_round_trip_and_kind_checks(tmp_path):
    from echoscope.io import load_results, save_results

    arrays = {"points": np.arange(6.0).reshape(2, 3), "stable": np.array([True, False]),
              "eigenvalues": np.array([0.5 + 1j, 2.0]), "status": np.array(["ok", "stalled"]),
              "n_unstable": np.array([0, 1])}
    path = tmp_path / "fp.npz"
    save_results(path, arrays, metadata={"u": [0.0]})
    back, meta = load_results(path)
    assert meta == {"u": [0.0]}
    for name, arr in arrays.items():
        assert back[name].dtype == arr.dtype and np.array_equal(back[name], arr)
    with pytest.raises(FileExistsError, match=r"'path' parameter of save_results .*"
                                              "overwrite=True"):
        save_results(path, arrays)
    with pytest.raises(FileFormatError, match="holds analysis results, not a network"):
        load(path)
    model = tmp_path / "model.npz"
    save(echoscope.random_esn(5, 1, rng=0), model)
    with pytest.raises(FileFormatError, match="holds a ESN, not analysis results"):
        load_results(model)
    with pytest.raises(TypeError, match=r"'arrays\['bad'\]' parameter of save_results must be"):
        save_results(tmp_path / "x.npz", {"bad": np.array([object()])})


@pytest.mark.parametrize("name", ["../../x", "a/b", "/abs", "", "..", "x..y", ".hidden"])
def test_array_names_cannot_escape_or_shape_paths(tmp_path, name):
    with pytest.raises(ValueError, match=r"The 'arrays' parameter of save_results must be names "
                                         r"of letters, digits"):
        echoscope.io.save_results(tmp_path / "r.echoscope", {name: np.zeros(2)})
    assert not (tmp_path / "r.echoscope").exists()
    echoscope.io.save_results(tmp_path / "ok.echoscope", {"completeness.curve": np.zeros(2)})


# -- the header's checksum -------------------------------------------------------------------------


@pytest.fixture
def with_metadata(tmp_path):
    path = tmp_path / "meta.echoscope"
    save(trained(dense_esn()), path, metadata={"task": "flip-flop", "ridge": 1e-6})
    return path


def _entry(header, name):
    return next(e for e in header["arrays"] if e["name"] == name)


@pytest.mark.parametrize("change", [
    lambda h: h["esn"].update(spectral_radius=1.2),
    lambda h: h["esn"].update(leak=0.4),
    lambda h: h["esn"].update(activation="tanh"),
    lambda h: h["readout"].update(activation="identity"),
    lambda h: h["metadata"].update(ridge=1e-3),
    lambda h: h["metadata"].update(note="added"),
    lambda h: h.update(echoscope_version="0.0.1"),
    lambda h: h.update(extra_key=1),
    lambda h: _entry(h, "esn.w_in").update(shape=[3, 8]),
    lambda h: _entry(h, "esn.bias").update(dtype="<f4"),
    lambda h: _entry(h, "esn.bias").update(sha256="0" * 64),
    lambda h: h["arrays"].remove(_entry(h, "esn.w_fb")),
    lambda h: h["arrays"].append({**_entry(h, "esn.bias"), "name": "esn.extra"}),
    lambda h: h.update(header_sha256="0" * 64),
], ids=["spectral-radius", "leak", "activation", "readout-activation", "metadata-value",
        "metadata-key", "writer-version", "unknown-key", "array-shape", "array-dtype",
        "array-sha256", "array-dropped", "array-added", "checksum"])
def test_an_edited_header_is_refused(with_metadata, tmp_path, change):
    """Every edit of the header, the user's metadata included, fails its checksum: a network
    with another spectral radius is never loaded without a word."""
    bad = edit_header(with_metadata, tmp_path / "edited.echoscope", change, reseal=False)
    refused(bad, r"is corrupted: its header 'echoscope.json' does not match its checksum "
                 r"\('header_sha256'\); it was edited or damaged", (load, read_metadata))


def test_the_checksum_ignores_layout(with_metadata, tmp_path):
    """The checksum is of the header's content: indentation and key order may change."""
    def relayout(name, data):
        if name != "echoscope.json":
            return data
        header = json.loads(data)
        return json.dumps(dict(reversed(header.items())), indent=7).encode()

    path = rewrite(with_metadata, tmp_path / "relaid.echoscope", relayout)
    assert read_metadata(path)["metadata"] == {"task": "flip-flop", "ridge": 1e-6}
    assert_same_esn(load(path).esn, load(with_metadata).esn)


def test_a_header_without_its_checksum_is_refused(saved, tmp_path):
    bad = edit_header(saved, tmp_path / "bad.echoscope", lambda h: h.pop("header_sha256"),
                      reseal=False)
    refused(bad, "is corrupted: the header has no 'header_sha256'", (load, read_metadata))


def test_version_1_files_still_load(with_metadata, tmp_path):
    """Version 1 had no header checksum, and ignored entries that its header did not list."""
    old = edit_header(with_metadata, tmp_path / "v1.echoscope", downgrade, reseal=False)
    with zipfile.ZipFile(old, "a") as archive:
        archive.writestr("notes.txt", b"not listed")
    info = read_metadata(old)
    assert info["format_version"] == 1
    assert info["metadata"] == {"task": "flip-flop", "ridge": 1e-6}
    model, back = trained(dense_esn()), load(old)
    assert_same_esn(model.esn, back.esn)
    assert_same_readout(model.readout, back.readout)


@pytest.mark.parametrize("number", ["NaN", "-Infinity", "1e400"])
def test_a_header_with_a_non_finite_number_is_refused(saved, tmp_path, number):
    def edit(name, data):
        if name != "echoscope.json":
            return data
        return re.sub(rb'"leak": [^,]+,', b'"leak": ' + number.encode() + b",", data)

    bad = rewrite(saved, tmp_path / "bad.echoscope", edit)
    refused(bad, rf"'echoscope.json' is not valid JSON \(the number {number} is not finite\)")


def test_a_deeply_nested_header_is_refused(saved, tmp_path):
    def edit(name, data):
        if name != "echoscope.json":
            return data
        return data.replace(b'"metadata": {}', b'"metadata": ' + b"[" * 10**5 + b"]" * 10**5)

    bad = rewrite(saved, tmp_path / "deep.echoscope", edit)
    refused(bad, "'echoscope.json' is not valid JSON", (load, read_metadata))


# -- crafted archives ------------------------------------------------------------------------------


def test_a_header_declaring_2_gib_is_refused_before_reading(saved, tmp_path):
    members = members_of(saved)
    members[0].size = 2**31
    bad = write_zip(tmp_path / "huge_header.echoscope", members)
    assert bad.stat().st_size < 100_000
    with allocation_peak() as peak:
        refused(bad, r"its header declares 2147483648 bytes, more than the 16777216 a header "
                     r"may take", (load, read_metadata))
    assert peak["bytes"] < 2**20


@pytest.mark.parametrize("member", ["echoscope.json", "esn.w_in.npy"])
def test_an_entry_that_inflates_beyond_its_declared_size_is_never_inflated(saved, tmp_path,
                                                                             member):
    """A ZIP bomb that understates its size: the entry declares its true content but its
    stream inflates to 32 MiB more. Reading stops at the declared size (zipfile's own read()
    of a whole entry would inflate it all at once), and the CRC then fails."""
    members = members_of(saved)
    victim = next(m for m in members if m.name == member)
    victim.payload = bomb(victim.data, 32)
    victim.crc = zlib.crc32(b" " * 2**25, zlib.crc32(victim.data))  # of what it inflates to
    bad = write_zip(tmp_path / "bomb.echoscope", members)
    assert bad.stat().st_size < 100_000
    with allocation_peak() as peak:
        refused(bad, r"is corrupted: .* cannot be read \(Bad CRC-32")
    assert peak["bytes"] < 4 * 2**20


def test_an_array_entry_declaring_4_gib_is_refused_before_inflating(saved, tmp_path):
    members = members_of(saved)
    next(m for m in members if m.name == "esn.w_in.npy").size = 2**32 - 2
    bad = write_zip(tmp_path / "huge_entry.echoscope", members)
    refused(bad, r"the entry of array 'esn.w_in' declares 4294967294 bytes; its header's shape")


def test_a_npy_header_of_4_gib_is_refused_before_reading_it(saved, tmp_path):
    """A .npy header (format 2.0) whose length field says 4 GiB: numpy would read that many
    bytes before checking them; echoscope refuses the length first."""
    def craft(name, data):
        if name != "esn.w_in.npy":
            return data
        return b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**32 - 16) + data[10:]

    bad = rewrite(saved, tmp_path / "npy.echoscope", craft)
    refused(bad, r"the array 'esn.w_in' has a .npy header of 4294967280 bytes, more than "
                 r"the 65536")


@pytest.mark.parametrize("name", ["../../x", "/etc/passwd", "notes.txt", "esn.w.npy"])
def test_an_entry_the_header_does_not_list_is_refused(saved, tmp_path, name):
    bad = write_zip(tmp_path / "extra.echoscope",
                    [*members_of(saved), Member(name, b"\x93NUMPY anything")])
    refused(bad, rf"holds entries that its header does not list \({re.escape(repr(name))}\)")
    assert sorted(os.listdir(tmp_path)) == ["extra.echoscope", "model.echoscope"]


@pytest.mark.parametrize("name", ["../../x", "/abs", "a/b", "x..y"])
def test_an_array_named_as_a_path_is_refused(tmp_path, name):
    """A results file listing an array named '../../x' (checksums recomputed): load_results
    would hand the name to the caller, who may make a file of it."""
    path = tmp_path / "r.echoscope"
    save_results(path, {"x": np.arange(3.0)})

    def rename(member, data):
        if member == "echoscope.json":
            header = json.loads(data)
            header["arrays"][0]["name"] = name
            return json.dumps(seal(header)).encode()
        return data

    members = [Member(m.name if m.name != "x.npy" else f"{name}.npy", rename(m.name, m.data))
               for m in members_of(path)]
    bad = write_zip(tmp_path / "bad.echoscope", members)
    refused(bad, rf"its header lists an array named {re.escape(repr(name))}, a name echoscope "
                 r"never writes", (load_results,))


def test_an_array_listed_twice_is_refused(saved, tmp_path):
    bad = edit_header(saved, tmp_path / "twice.echoscope",
                      lambda h: h["arrays"].append(_entry(h, "esn.bias")))
    refused(bad, "its header lists the array 'esn.bias' twice")


@pytest.mark.parametrize("member", ["echoscope.json", "esn.bias.npy"])
def test_an_entry_named_twice_is_refused(saved, tmp_path, member):
    """Two entries of one name: which one a reader takes depends on the reader."""
    members = members_of(saved)
    twin = next(m for m in members if m.name == member)
    bad = write_zip(tmp_path / "twice.echoscope", [*members, dataclasses.replace(twin)])
    refused(bad, rf"it holds two entries named '{re.escape(member)}'", (load, read_metadata))


@pytest.mark.parametrize("member", ["echoscope.json", "esn.bias.npy"])
@pytest.mark.parametrize("change, message", [
    (dict(flags=1), r"is encrypted, which echoscope never writes"),
    (dict(method=zipfile.ZIP_BZIP2), r"uses ZIP compression method 12; echoscope reads DEFLATE"),
    (dict(method=99), r"uses ZIP compression method 99"),
], ids=["encrypted", "bzip2", "aes"])
def test_an_entry_zipfile_cannot_read_in_bounds_is_refused(saved, tmp_path, member, change,
                                                          message):
    members = members_of(saved)
    victim = next(m for m in members if m.name == member)
    members[members.index(victim)] = dataclasses.replace(victim, **change)
    bad = write_zip(tmp_path / "odd.echoscope", members)
    refused(bad, rf"its entry '{re.escape(member)}' {message}")


def test_an_array_entry_with_bytes_after_its_data_is_refused(saved, tmp_path):
    def pad(name, data):
        return data + b"\0" * 16 if name == "esn.bias.npy" else data

    bad = rewrite(saved, tmp_path / "padded.echoscope", pad)
    refused(bad, r"the array 'esn.bias' holds bytes after its data")
