"""Save and load networks in a documented, versioned format that never uses pickle.

``save(obj, path)`` writes an ``ESN``, a ``Readout`` or a ``TrainedESN``; ``load(path)`` gives
back the same kind of object with every array equal bit for bit (a sparse reservoir stays
sparse, with the same ``data``, ``indices`` and ``indptr``). ``read_metadata(path)`` reads the
header alone.

File format, version 2
----------------------
A ZIP archive (entries compressed with DEFLATE) holding

``echoscope.json``
    The header, UTF-8 JSON, written as the first entry. Its keys:

    - ``"format"``: always ``"echoscope"``;
    - ``"format_version"``: the integer 2; readers refuse versions newer than they know;
    - ``"kind"``: ``"ESN"``, ``"Readout"``, ``"TrainedESN"`` or ``"Results"`` (analysis
      results, see ``save_results``);
    - ``"echoscope_version"``: the version of echoscope that wrote the file;
    - ``"metadata"``: the user's JSON object (``{}`` when none was given);
    - ``"esn"`` (kinds ESN and TrainedESN): ``"leak"`` (number), ``"activation"`` (a name in
      ``echoscope.ACTIVATIONS``), ``"spectral_radius"`` (number or null), ``"w_radius"`` (the
      spectral radius of the stored draw ``w`` by which it is rescaled, or null when
      ``spectral_radius`` is null), ``"w_format"`` (``"dense"`` or ``"csr"``) and
      ``"w_shape"`` (``[n_state, n_state]``);
    - ``"readout"`` (kinds Readout and TrainedESN): ``"activation"`` (a name in
      ``echoscope.OUTPUT_ACTIVATIONS``);
    - ``"arrays"``: a list with one object per array: ``"name"``, ``"shape"`` (list of ints),
      ``"dtype"`` (numpy's dtype string, such as ``"<f8"``) and ``"sha256"`` (hex digest of the
      array's bytes in C order);
    - ``"header_sha256"``: the hex SHA-256 digest of the header's canonical form: the bytes
      of Python's ``json.dumps(rest, sort_keys=True, separators=(",", ":"))`` (ASCII, floats
      as ``repr`` writes them), where ``rest`` is the parsed header without
      ``"header_sha256"``. It covers every other key, the user's metadata included, so that
      an edited or damaged header is refused; through the ``"sha256"`` of each array it
      covers the arrays too. Layout (indentation, key order) is not covered.

``<name>.npy``
    One entry per array in the NumPy ``.npy`` format, written without pickle. The names are
    ``esn.w`` (dense reservoir) or ``esn.w.data``, ``esn.w.indices`` and ``esn.w.indptr``
    (its CSR parts), ``esn.w_in``, ``esn.w_fb`` (only when the network has feedback),
    ``esn.bias``, ``readout.w_out`` and ``readout.bias``. Values are float64, CSR index arrays
    integers.

The archive holds exactly these entries, each once: readers refuse an entry that the header
does not list, an entry named twice, array names that are not letters, digits, ``_``, ``-``
and single ``.`` (no paths), encrypted entries, and compression other than DEFLATE or none.
Readers ignore header keys they do not use. Every entry carries the fixed timestamp
1980-01-01, so that saving the same object twice gives the same bytes.

Sizes are checked before anything is inflated, from the ZIP directory and the header: the
header entry may declare at most 16 MiB and is read no further than it declares; it must be
JSON without NaN or infinities. Each array entry may declare at most what its shape and dtype
take plus 64 KiB, its ``.npy`` header at most 64 KiB, and the ``.npy`` header must state the
shape and dtype of the echoscope header before any data is read; the data must end the entry.
All arrays together may take at most the memory available when the file is read.

Version 1 is version 2 without ``"header_sha256"``: readers read it without checking its
header, and ignore entries that its header does not list.

The checksums tell an intact file from a damaged or hand-edited one. They are not signatures:
whoever can write a file can write matching checksums (or a version 1 header).

Examples
--------
>>> import os, tempfile
>>> from echoscope import random_esn
>>> from echoscope.io import load, read_metadata, save
>>> esn = random_esn(20, 1, spectral_radius=0.9, rng=0)
>>> with tempfile.TemporaryDirectory() as folder:
...     path = os.path.join(folder, "reservoir.echoscope")
...     save(esn, path, metadata={"task": "demo"})
...     info = read_metadata(path)
...     back = load(path)
>>> info["kind"], info["format_version"], info["metadata"]
('ESN', 2, {'task': 'demo'})
>>> bool((back.reservoir == esn.reservoir).all())
True
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import zipfile
import zlib

import numpy as np
import scipy.sparse as sp

from ._result import Result, json_ready
from ._validation import FileFormatError, available_memory, check_metadata, param_error
from .systems.activations import ACTIVATIONS, OUTPUT_ACTIVATIONS, Activation
from .systems.esn import ESN, Readout, TrainedESN, _frozen, _remember_radius, spectral_radius

__all__ = ["FORMAT_VERSION", "save", "load", "read_metadata", "save_result", "save_results",
           "load_results"]

FORMAT_VERSION = 2
"""The newest file format version this echoscope writes and reads (it reads 1 and 2)."""

_FORMAT = "echoscope"
_HEADER = "echoscope.json"
_HEADER_DIGEST = "header_sha256"  # the key of the header's own checksum (format version 2)
_KINDS = ("ESN", "Readout", "TrainedESN", "Results")
_DATE = (1980, 1, 1, 0, 0, 0)
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError)
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
_MAX_HEADER_BYTES = 16 * 2**20  # what the JSON header may take, as its ZIP entry declares it
_NPY_HEADER_BYTES = 2**16  # room for a .npy header beside its data (numpy writes ~128 bytes)
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what zipfile inflates in bounds


# -- saving ----------------------------------------------------------------------------------------


def save(obj, path, *, overwrite: bool = False, metadata: dict | None = None) -> None:
    """Save an ``ESN``, a ``Readout`` or a ``TrainedESN`` to an echoscope file.

    The file is a ZIP archive of a JSON header and ``.npy`` arrays (see the module docstring
    for the specification); nothing is pickled. It is written to a temporary file in the same
    directory and then moved into place, so that an interrupted save leaves no partial file
    and, with ``overwrite=True``, the old file intact.

    Parameters
    ----------
    obj : ESN, Readout or TrainedESN
        Its activations must be named ones (``echoscope.ACTIVATIONS``,
        ``echoscope.OUTPUT_ACTIVATIONS``); custom ``Activation`` objects hold code and cannot
        be saved.
    path : str or os.PathLike
        The file to write; its directory must exist.
    overwrite : bool, default False
        Replace an existing file. Without it an existing file raises ``FileExistsError``.
    metadata : dict, optional
        User information stored in the header and returned by ``read_metadata``: a dict with
        str keys whose values are str, finite numbers, bool, None, lists and dicts.
    """
    owner = "save"
    path = _check_path(owner, path)
    _check_overwrite(owner, overwrite)
    metadata = check_metadata(owner, metadata)
    if not isinstance(obj, (ESN, Readout, TrainedESN)):
        raise param_error(owner, "obj", "an ESN, a Readout or a TrainedESN", obj, kind=TypeError)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise param_error(owner, "path", "a file in an existing directory", path,
                          kind=FileNotFoundError)
    if os.path.isdir(path):
        raise param_error(owner, "path", "a file, not a directory", path, kind=IsADirectoryError)
    if os.path.lexists(path) and not overwrite:
        raise _exists_error(owner, path)

    from ._version import __version__

    header = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": type(obj).__name__,
        "echoscope_version": __version__,
        "metadata": metadata,
    }
    arrays: dict[str, np.ndarray] = {}
    if isinstance(obj, ESN):
        header["esn"] = _esn_header(obj, arrays, "obj")
    elif isinstance(obj, Readout):
        header["readout"] = _readout_header(obj, arrays, "obj")
    else:
        header["esn"] = _esn_header(obj.esn, arrays, "obj.esn")
        header["readout"] = _readout_header(obj.readout, arrays, "obj.readout")
    _write(owner, path, folder, header, arrays, overwrite)


def _write(owner: str, path: str, folder: str, header: dict, arrays: dict,
           overwrite: bool) -> None:
    """Write the archive to a temporary file next to ``path`` and move it into place."""
    header["arrays"] = [
        {"name": name, "shape": list(arr.shape), "dtype": arr.dtype.str, "sha256": _digest(arr)}
        for name, arr in arrays.items()
    ]
    # The digest of the header as a reader will parse it (tuples become lists, and so on).
    header[_HEADER_DIGEST] = _header_digest(json.loads(json.dumps(header, allow_nan=False)))
    text = json.dumps(header, indent=2, allow_nan=False) + "\n"
    tmp = _create_temporary(folder, os.path.basename(path))
    try:
        with open(tmp, "wb") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(_entry(_HEADER), text.encode("utf-8"))
                for name, arr in arrays.items():
                    with archive.open(_entry(f"{name}.npy"), "w", force_zip64=True) as stream:
                        np.lib.format.write_array(stream, arr, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())  # on disk before it replaces anything
        _move_into_place(owner, tmp, path, overwrite)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def save_results(path, arrays: dict, *, metadata: dict | None = None,
                 overwrite: bool = False) -> None:
    """Save named arrays of an analysis (fixed points, an ENA, ...) to an echoscope file.

    The file has the format of ``save`` with kind ``"Results"``: one ``.npy`` entry per array
    (numbers, booleans or fixed-width strings; never objects) and the user's ``metadata`` in
    the JSON header. Read it back with ``load_results``. Like ``save``, it writes a temporary
    file in the same directory and moves it into place.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its directory must exist.
    arrays : dict of str to array_like
        The arrays, by name: letters, digits, ``_``, ``-`` and single ``.`` (no ``/``, no
        ``..``), at most 200 characters. Each is stored in C order with its own dtype, which
        must be boolean, integer, float, complex or fixed-width unicode.
    metadata : dict, optional
        User information stored in the header and returned by ``load_results``: a dict with
        str keys whose values are str, finite numbers, bool, None, lists and dicts.
    overwrite : bool, default False
        Replace an existing file. Without it an existing file raises ``FileExistsError``.
    """
    owner = "save_results"
    path = _check_path(owner, path)
    _check_overwrite(owner, overwrite)
    metadata = check_metadata(owner, metadata)
    if not isinstance(arrays, dict) or not all(isinstance(k, str) for k in arrays):
        raise param_error(owner, "arrays", "a dict of named arrays", arrays, kind=TypeError)
    clean = {}
    for name, value in arrays.items():
        if not _ARRAY_NAME.fullmatch(name) or ".." in name:
            # The name becomes a ZIP member: no paths, no traversal.
            raise param_error(owner, "arrays", "names of letters, digits, '_', '-' and single "
                              "'.' (no '/', no '..')", name)
        arr = np.ascontiguousarray(value)
        if arr.dtype.kind not in "biufcU":
            raise param_error(owner, f"arrays[{name!r}]", "an array of numbers, booleans or "
                              "strings", arr, kind=TypeError)
        clean[name] = arr
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise param_error(owner, "path", "a file in an existing directory", path,
                          kind=FileNotFoundError)
    if os.path.lexists(path) and not overwrite:
        raise _exists_error(owner, path)
    from ._version import __version__

    header = {"format": _FORMAT, "format_version": FORMAT_VERSION, "kind": "Results",
              "echoscope_version": __version__, "metadata": metadata}
    _write(owner, path, folder, header, clean, overwrite)


def save_result(result, path, *, extra: dict | None = None, metadata: dict | None = None,
                overwrite: bool = False) -> None:
    """Save any echoscope result: its ``arrays()`` as entries, its ``summary()`` in the header.

    The file is a ``save_results`` file whose metadata holds ``"result"`` (the type's name),
    ``"summary"`` and the user's ``metadata`` (under ``"metadata"``); ``extra`` arrays (what
    the result does not hold, such as the inputs that drove it) are stored beside the
    result's own, under names of their own. ``load_results`` reads it back.

    Parameters
    ----------
    result : Result
        Any echoscope result (``FixedPoints``, ``EchoIndex``, ...): what its ``arrays()``
        returns is stored as entries, its ``summary()`` (made JSON-ready) in the header.
    path : str or os.PathLike
        The file to write; its directory must exist.
    extra : dict of str to array_like, optional
        More arrays to store beside the result's, under names that ``result.arrays()`` does
        not use (the same naming and dtype rules as ``save_results``).
    metadata : dict, optional
        User information, stored under ``"metadata"`` in the file's metadata: a dict with str
        keys whose values are str, finite numbers, bool, None, lists and dicts.
    overwrite : bool, default False
        Replace an existing file. Without it an existing file raises ``FileExistsError``.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from echoscope import ESN, find_fixed_points, load_results, save_result
    >>> fps = find_fixed_points(ESN(2.0 * np.eye(1), np.zeros((1, 1))), rng=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "fps.echoscope")
    >>> save_result(fps, path)
    >>> arrays, meta = load_results(path)
    >>> meta["result"], meta["summary"]["stable"], arrays["points"].shape
    ('FixedPoints', 2, (3, 1))
    """
    owner = "save_result"
    if not isinstance(result, Result):
        raise param_error(owner, "result", "an echoscope result (with summary() and arrays())",
                          result, kind=TypeError)
    _check_path(owner, path)
    _check_overwrite(owner, overwrite)
    arrays = result.arrays()
    extra = {} if extra is None else extra
    if not isinstance(extra, dict) or any(k in arrays for k in extra):
        raise param_error(owner, "extra", "a dict of arrays under names the result does not "
                          f"use ({sorted(arrays)})", extra if not isinstance(extra, dict)
                          else sorted(extra), kind=TypeError if not isinstance(extra, dict)
                          else ValueError)
    header = {"result": type(result).__name__, "summary": json_ready(result.summary()),
              "metadata": check_metadata(owner, metadata)}
    save_results(path, {**arrays, **extra}, metadata=header, overwrite=overwrite)


def load_results(path) -> tuple[dict, dict]:
    """The arrays and the metadata of a file written by ``save_results``, checksums checked.

    The same checks as ``load`` (header digest, sizes before inflating, each array's shape,
    dtype and SHA-256; never pickle) apply.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``save_results`` or ``save_result`` (kind ``"Results"``).

    Returns
    -------
    arrays : dict of str to ndarray
        Every stored array by name, with the shape and dtype it was saved with (fresh,
        writable copies).
    metadata : dict
        The metadata of the header: the user's ``metadata`` for ``save_results``; for
        ``save_result``, ``{"result": type name, "summary": ..., "metadata": user's}``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    echoscope.FileFormatError
        The file is not an echoscope file of kind ``"Results"``, is truncated or corrupted,
        declares more than the limits allow, or was written by a newer echoscope.
    """
    path = _check_path("load_results", path)
    src = f"load_results: {path!r}"
    with _open(path, "load_results") as archive:
        header = _read_header(archive, src)
        if header["kind"] != "Results":
            raise FileFormatError(f"{src} holds a {header['kind']}, not analysis results; "
                                  "use echoscope.load.")
        reader = _ArrayReader(archive, header, src)
        arrays = {name: reader.read(name, kind=None) for name in reader.entries}
    return arrays, header["metadata"]


def _esn_header(esn: ESN, arrays: dict, where: str) -> dict:
    activation = _activation_name(esn.activation, ACTIVATIONS, f"{where}.activation")
    w = esn.w
    if sp.issparse(w):
        arrays["esn.w.data"] = w.data
        arrays["esn.w.indices"] = w.indices
        arrays["esn.w.indptr"] = w.indptr
    else:
        arrays["esn.w"] = w
    arrays["esn.w_in"] = esn.w_in
    if esn.w_fb is not None:
        arrays["esn.w_fb"] = esn.w_fb
    arrays["esn.bias"] = esn.bias
    radius = esn.spectral_radius
    return {
        "leak": esn.leak,
        "activation": activation,
        "spectral_radius": radius,
        # The exact normaliser of the draw (remembered, not recomputed), so that the loaded
        # reservoir w * spectral_radius / w_radius equals the original bit for bit.
        "w_radius": None if radius is None else spectral_radius(w),
        "w_format": "csr" if sp.issparse(w) else "dense",
        "w_shape": list(w.shape),
    }


def _readout_header(readout: Readout, arrays: dict, where: str) -> dict:
    activation = _activation_name(readout.activation, OUTPUT_ACTIVATIONS, f"{where}.activation")
    arrays["readout.w_out"] = readout.w_out
    arrays["readout.bias"] = readout.bias
    return {"activation": activation}


def _activation_name(value, table: dict, name: str) -> str:
    if isinstance(value, Activation):
        if table.get(value.name) is value:
            return value.name
        names = ", ".join(repr(n) for n in table)
        raise param_error(
            "save", name, f"a named activation ({names}): only named activations can be saved, "
            "not custom Activation objects", value,
        )
    return value


def _digest(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).data).hexdigest()


def _header_digest(header: dict) -> str:
    """SHA-256 of the canonical JSON of a parsed header, its own digest left out."""
    rest = {key: value for key, value in header.items() if key != _HEADER_DIGEST}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _create_temporary(folder: str, base: str) -> str:
    """A new, empty file next to the target (mode from the umask, unlike ``mkstemp``)."""
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp


def _move_into_place(owner: str, tmp: str, path: str, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if the file appeared meanwhile; never clobbers it
    except FileExistsError:
        raise _exists_error(owner, path) from None
    except OSError:  # a file system without hard links
        if os.path.lexists(path):
            raise _exists_error(owner, path) from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


def _exists_error(owner: str, path: str) -> FileExistsError:
    return param_error(
        owner, "path", "a new file (pass overwrite=True to replace it)", path,
        kind=FileExistsError,
    )


def _check_overwrite(owner: str, overwrite) -> None:
    if not isinstance(overwrite, bool):
        raise param_error(owner, "overwrite", "a bool", overwrite, kind=TypeError)


def _check_path(owner: str, path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise param_error(owner, "path", "a str or an os.PathLike", path, kind=TypeError)
    path = os.fspath(path)
    if not isinstance(path, str):
        raise param_error(owner, "path", "a str or an os.PathLike of str", path, kind=TypeError)
    if not path or "\x00" in path:  # the OS would say "No such file: ''" or "embedded null byte"
        raise param_error(owner, "path", "a file name (not empty, without NUL characters)",
                          path)
    return path


# -- loading ---------------------------------------------------------------------------------------


def load(path):
    """Load an ``ESN``, a ``Readout`` or a ``TrainedESN`` saved by ``save``.

    The header is checked against its own SHA-256 digest (files of format version 2), the
    arrays are read with ``allow_pickle=False`` and checked against the shapes, dtypes and
    SHA-256 digests in the header, and sizes are checked before anything is inflated (see the
    module docstring); the objects are then built by their constructors, which validate them
    again.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ESN, Readout or TrainedESN
        The kind recorded in the file.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    echoscope.FileFormatError
        The file is not an echoscope file, is truncated or corrupted (its header or an array
        does not match its checksum, for one), declares more than the limits allow, was
        written by a newer echoscope, or holds an invalid object.
    """
    path = _check_path("load", path)
    src = f"load: {path!r}"
    with _open(path, "load") as archive:
        header = _read_header(archive, src)
        reader = _ArrayReader(archive, header, src)
        kind = header["kind"]
        if kind == "Results":
            raise FileFormatError(f"{src} holds analysis results, not a network; use "
                                  "echoscope.io.load_results.")
        esn = _build_esn(header, reader, src) if kind in ("ESN", "TrainedESN") else None
        readout = _build_readout(header, reader, src) if kind in ("Readout", "TrainedESN") \
            else None
    if kind == "ESN":
        return esn
    if kind == "Readout":
        return readout
    return _construct(src, "TrainedESN", lambda: TrainedESN(esn, readout))


def read_metadata(path) -> dict:
    """The header of an echoscope file, its checksum checked, without loading its arrays.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict
        ``"format"``, ``"format_version"``, ``"kind"``, ``"echoscope_version"`` (of the writer)
        and ``"metadata"`` (the user's dict given to ``save``; ``{}`` if none).
    """
    path = _check_path("read_metadata", path)
    with _open(path, "read_metadata") as archive:
        header = _read_header(archive, f"read_metadata: {path!r}")
    return {key: header[key] for key in
            ("format", "format_version", "kind", "echoscope_version", "metadata")}


def _open(path: str, owner: str) -> zipfile.ZipFile:
    if not os.path.exists(path):
        raise param_error(owner, "path", "an existing file", path, kind=FileNotFoundError)
    if os.path.isdir(path):
        raise param_error(owner, "path", "a file, not a directory", path, kind=IsADirectoryError)
    try:
        return zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        with open(path, "rb") as stream:
            start = stream.read(4)
        if start == b"PK\x03\x04":
            raise FileFormatError(
                f"{owner}: {path!r} is truncated or corrupted (its ZIP directory cannot be read)."
            ) from exc
        raise FileFormatError(
            f"{owner}: {path!r} is not an echoscope file (not a ZIP archive)."
        ) from exc


def _read_header(archive: zipfile.ZipFile, src: str) -> dict:
    seen = set()
    for name in archive.namelist():  # which of two entries is read depends on the reader
        if name in seen:
            raise FileFormatError(f"{src} is corrupted: it holds two entries named "
                                  f"{_shown(name)}.")
        seen.add(name)
    if _HEADER not in seen:
        raise FileFormatError(
            f"{src} is not an echoscope file: the ZIP archive has no {_HEADER!r} "
            "(an ordinary .npz or ZIP file?)."
        )
    info = _member(archive, _HEADER, src)
    declared = info.file_size
    if declared > _MAX_HEADER_BYTES:  # sizes are checked before anything is inflated
        raise FileFormatError(f"{src} is not a plausible echoscope file: its header declares "
                              f"{declared} bytes, more than the {_MAX_HEADER_BYTES} a header "
                              "may take.")
    try:
        # A bounded read: zipfile's read() of a whole entry inflates all its data at once,
        # however little the entry declares.
        with archive.open(info) as stream:
            raw = stream.read(declared)
    except _READ_ERRORS as exc:
        raise FileFormatError(f"{src} is corrupted: {_HEADER!r} cannot be read "
                              f"({exc}).") from exc
    if len(raw) != declared:
        raise FileFormatError(f"{src} is truncated: {_HEADER!r} holds {len(raw)} of its "
                              f"{declared} bytes.")
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_non_finite,
                            parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise FileFormatError(f"{src} is corrupted: {_HEADER!r} is not valid JSON "
                              f"({exc}).") from exc
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise FileFormatError(
            f"{src} is not an echoscope file ({_HEADER!r} lacks \"format\": "
            f"\"{_FORMAT}\")."
        )
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise FileFormatError(f"{src} is corrupted: its format version is {version!r}, "
                              "not a positive integer.")
    if version > FORMAT_VERSION:
        raise FileFormatError(
            f"{src} was written by a newer echoscope (format version {version}); this "
            f"one reads up to {FORMAT_VERSION}. Upgrade echoscope to load it."
        )
    if version >= 2:  # version 1 had no checksum of the header
        _check_header_digest(header, src)
    kind = header.get("kind")
    if kind not in _KINDS:
        kinds = ", ".join(repr(k) for k in _KINDS)
        raise FileFormatError(f"{src} holds an unknown kind of object {kind!r}; "
                              f"this echoscope reads {kinds}.")
    _field(header, "echoscope_version", str, src)
    _field(header, "metadata", dict, src)
    _field(header, "arrays", list, src)
    sections = {"ESN": ("esn",), "Readout": ("readout",), "TrainedESN": ("esn", "readout")}
    for section in sections.get(kind, ()):
        _field(header, section, dict, src)
    return header


def _check_header_digest(header: dict, src: str) -> None:
    expected = _field(header, _HEADER_DIGEST, str, src)
    try:
        actual = _header_digest(header)
    except (ValueError, RecursionError) as exc:  # only a crafted header fails to serialise
        raise FileFormatError(f"{src} is corrupted: its header cannot be checked "
                              f"({exc}).") from exc
    if actual != expected:
        raise FileFormatError(
            f"{src} is corrupted: its header {_HEADER!r} does not match its checksum "
            f"({_HEADER_DIGEST!r}); it was edited or damaged after it was saved."
        )


def _non_finite(name: str):
    raise ValueError(f"the number {name} is not finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise ValueError(f"the number {text if len(text) <= 40 else text[:40] + '...'} is "
                         "not finite")
    return value


def _member(archive: zipfile.ZipFile, member: str, src: str) -> zipfile.ZipInfo:
    """The directory entry of ``member``, refused if zipfile would not read it in bounds."""
    info = archive.getinfo(member)
    if info.flag_bits & 0x1:
        raise FileFormatError(f"{src} is corrupted: its entry {_shown(member)} is encrypted, "
                              "which echoscope never writes.")
    if info.compress_type not in _COMPRESSIONS:
        raise FileFormatError(f"{src} is corrupted: its entry {_shown(member)} uses ZIP "
                              f"compression method {info.compress_type}; echoscope reads "
                              "DEFLATE and stored entries only.")
    return info


def _shown(name: str, limit: int = 80) -> str:
    """A name from a file, quoted and cut short for an error message."""
    return repr(name) if len(name) <= limit else f"{name[:limit]!r}..."


def _field(mapping: dict, key: str, types, src: str, where: str = "the header"):
    if key not in mapping:
        raise FileFormatError(f"{src} is corrupted: {where} has no {key!r}.")
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, types):  # JSON true/false never fit
        raise FileFormatError(f"{src} is corrupted: {key!r} in {where} is {value!r}.")
    return value


class _ArrayReader:
    """Reads the arrays named in the header, checking dtype, shape and SHA-256."""

    def __init__(self, archive: zipfile.ZipFile, header: dict, src: str):
        self.archive = archive
        self.src = src
        self.names = set(archive.namelist())
        self.entries = {}
        for entry in header["arrays"]:
            if not isinstance(entry, dict):
                raise FileFormatError(f"{src} is corrupted: an entry of 'arrays' is "
                                      f"{entry!r}.")
            name = _field(entry, "name", str, src, "an entry of 'arrays'")
            if not _ARRAY_NAME.fullmatch(name) or ".." in name:  # as save_results refuses
                raise FileFormatError(f"{src} is corrupted: its header lists an array named "
                                      f"{_shown(name)}, a name echoscope never writes.")
            if name in self.entries:
                raise FileFormatError(f"{src} is corrupted: its header lists the array "
                                      f"{name!r} twice.")
            where = f"the entry of array {name!r}"
            shape = _field(entry, "shape", list, src, where)
            if not all(type(s) is int and s >= 0 for s in shape):
                raise FileFormatError(f"{src} is corrupted: {where} has shape {shape}.")
            dtype = _field(entry, "dtype", str, src, where)
            _field(entry, "sha256", str, src, where)
            try:
                itemsize = np.dtype(dtype).itemsize
            except (TypeError, ValueError):
                raise FileFormatError(f"{src} is corrupted: {where} has dtype "
                                      f"{_shown(dtype)}.") from None
            entry = {**entry, "nbytes": int(np.prod(shape, dtype=object)) * itemsize}
            self.entries[name] = entry
        if header["format_version"] >= 2:  # the archive holds exactly what the header lists
            names = self.names
            listed = {f"{name}.npy" for name in self.entries}
            missing = sorted(listed - names)
            if missing:
                raise FileFormatError(f"{src} is corrupted: the array {missing[0][:-4]!r} is "
                                      "missing.")
            extra = sorted(names - listed - {_HEADER})
            if extra:
                shown = ", ".join(_shown(name) for name in extra[:3])
                more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
                raise FileFormatError(f"{src} is corrupted: it holds entries that its header "
                                      f"does not list ({shown}{more}).")
        total = sum(e["nbytes"] for e in self.entries.values())
        available = available_memory()
        if total > available:
            raise FileFormatError(f"{src} declares arrays of {total} bytes in all, more than "
                                  f"the {available} bytes of memory available here; it is "
                                  "not loaded.")

    def has(self, name: str) -> bool:
        return name in self.entries

    def read(self, name: str, kind: str = "f") -> np.ndarray:
        """The array ``name``; ``kind`` 'f' for float64 values, 'i' for integer indices."""
        src = self.src
        entry = self.entries.get(name)
        member = f"{name}.npy"
        if entry is None or member not in self.names:
            raise FileFormatError(f"{src} is corrupted: the array {name!r} is missing.")
        info = _member(self.archive, member, src)
        declared = info.file_size
        if declared > entry["nbytes"] + _NPY_HEADER_BYTES:  # checked before inflating it
            raise FileFormatError(
                f"{src} is corrupted: the entry of array {name!r} declares {declared} bytes; "
                f"its header's shape {tuple(entry['shape'])} and dtype {entry['dtype']!r} "
                f"take {entry['nbytes']}."
            )
        try:
            with self.archive.open(info) as stream:
                arr = _read_npy(stream, entry, name, src)
        except FileFormatError:
            raise
        except _READ_ERRORS as exc:
            raise FileFormatError(f"{src} is corrupted: the array {name!r} cannot be "
                                  f"read ({exc}).") from exc
        if _digest(arr) != entry["sha256"]:
            raise FileFormatError(f"{src} is corrupted: the array {name!r} does not "
                                  "match its SHA-256 checksum.")
        if kind is None:  # analysis results: any plain dtype, as stored, theirs to change
            if arr.dtype.kind not in "biufcU":
                raise FileFormatError(f"{src} is corrupted: the array {name!r} has dtype "
                                      f"{arr.dtype}.")
            return arr.copy()
        ok = arr.dtype.kind == "f" and arr.dtype.itemsize == 8 if kind == "f" \
            else arr.dtype.kind in "iu"
        if not ok:
            wanted = "float64" if kind == "f" else "integer"
            raise FileFormatError(f"{src} is corrupted: the array {name!r} has dtype "
                                  f"{arr.dtype}; expected {wanted}.")
        return arr.astype(np.float64, copy=False) if kind == "f" else arr


def _read_npy(stream, entry: dict, name: str, src: str) -> np.ndarray:
    """A .npy member whose own header must say the shape and dtype of the echoscope header
    before any data is read (a crafted .npy header cannot make numpy allocate more)."""
    version = np.lib.format.read_magic(stream)
    if version not in ((1, 0), (2, 0)):
        raise FileFormatError(f"{src} is corrupted: the array {name!r} is a .npy file of "
                              f"version {version}, which echoscope does not write.")
    # The length of the .npy header, checked before numpy reads that many bytes.
    size = 2 if version == (1, 0) else 4
    prefix = stream.read(size)
    if len(prefix) != size:
        raise FileFormatError(f"{src} is truncated: the array {name!r} ends inside its .npy "
                              "header.")
    length = int.from_bytes(prefix, "little")
    if length > _NPY_HEADER_BYTES:
        raise FileFormatError(f"{src} is corrupted: the array {name!r} has a .npy header of "
                              f"{length} bytes, more than the {_NPY_HEADER_BYTES} it may take.")
    npy_header = io.BytesIO(prefix + stream.read(length))
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(npy_header)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(npy_header)
    if dtype.hasobject or dtype.str != entry["dtype"] or list(shape) != entry["shape"]:
        raise FileFormatError(
            f"{src} is corrupted: the array {name!r} has shape {shape} and dtype "
            f"{dtype.str!r}; its header says {tuple(entry['shape'])} and {entry['dtype']!r}."
        )
    data = stream.read(entry["nbytes"])
    if len(data) != entry["nbytes"]:
        raise FileFormatError(f"{src} is truncated: the array {name!r} holds {len(data)} of "
                              f"its {entry['nbytes']} bytes.")
    if stream.read(1):  # reading to the end makes zipfile check the entry's CRC-32 too
        raise FileFormatError(f"{src} is corrupted: the array {name!r} holds bytes after its "
                              "data.")
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def _construct(src: str, kind: str, build):
    try:
        return build()
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"{src} holds an invalid {kind}: {exc}") from exc


def _build_esn(header: dict, reader: _ArrayReader, src: str) -> ESN:
    params = header["esn"]
    where = "the 'esn' section"
    leak = _field(params, "leak", (int, float), src, where)
    activation = _field(params, "activation", str, src, where)
    radius = _field(params, "spectral_radius", (int, float, type(None)), src, where)
    w_radius = _field(params, "w_radius", (int, float, type(None)), src, where)
    w_format = _field(params, "w_format", str, src, where)
    w_shape = _field(params, "w_shape", list, src, where)
    if len(w_shape) != 2 or not all(type(s) is int and s >= 0 for s in w_shape):
        raise FileFormatError(f"{src} is corrupted: 'w_shape' in {where} is "
                              f"{w_shape!r}.")
    if radius is not None and (w_radius is None or not np.isfinite(w_radius) or w_radius < 0):
        raise FileFormatError(f"{src} is corrupted: 'w_radius' in {where} is "
                              f"{w_radius!r}.")
    if w_format == "csr":
        parts = [reader.read("esn.w.data"), reader.read("esn.w.indices", "i"),
                 reader.read("esn.w.indptr", "i")]
        try:
            w = sp.csr_array(tuple(parts), shape=tuple(w_shape))
            w.check_format(full_check=True)
        except (TypeError, ValueError) as exc:
            raise FileFormatError(f"{src} is corrupted: the CSR parts of 'w' are "
                                  f"inconsistent ({exc}).") from exc
    elif w_format == "dense":
        w = reader.read("esn.w")
        if list(w.shape) != w_shape:
            raise FileFormatError(f"{src} is corrupted: the array 'esn.w' has shape "
                                  f"{w.shape}; 'w_shape' says {tuple(w_shape)}.")
    else:
        raise FileFormatError(f"{src} is corrupted: 'w_format' in {where} is "
                              f"{w_format!r}, not 'dense' or 'csr'.")
    w_in = reader.read("esn.w_in")
    w_fb = reader.read("esn.w_fb") if reader.has("esn.w_fb") else None
    bias = reader.read("esn.bias")

    def build():
        w_frozen = w
        if radius is not None and len(set(w_shape)) == 1:
            # Freeze the draw as ESN would, and give it its recorded radius, so that the
            # reservoir is rescaled by the very same number as when it was saved.
            w_frozen = _frozen("ESN", "w", w, tuple(w_shape), allow_sparse=True)
            _remember_radius(w_frozen, float(w_radius))
        return ESN(w_frozen, w_in, w_fb=w_fb, bias=bias, leak=leak, activation=activation,
                   spectral_radius=radius)

    return _construct(src, "ESN", build)


def _build_readout(header: dict, reader: _ArrayReader, src: str) -> Readout:
    activation = _field(header["readout"], "activation", str, src, "the 'readout' section")
    w_out = reader.read("readout.w_out")
    bias = reader.read("readout.bias")
    return _construct(src, "Readout", lambda: Readout(w_out, bias, activation))
