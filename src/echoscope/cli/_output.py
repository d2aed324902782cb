"""A command's output folder holds one run's results, whole.

A run writes its files into a fresh hidden folder beside ``--out`` and swaps it in only when
every file is written: an interrupted run leaves the previous results as they were, and a
replaced folder keeps nothing of the earlier run. ``echoscope-run.json`` in each folder records
the command and the files it wrote, so that ``--overwrite`` replaces only what echoscope wrote:
a folder that holds anything else (a user's file, another command's results, the model being
analysed, a sweep's store) is refused, and nothing a user saved is ever removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

MANIFEST = "echoscope-run.json"
_PARTIAL = ".partial-"
_FORMAT = "echoscope-run"


def _fail(message: str):
    return SystemExit(f"echoscope: {message}")


def _files(folder: Path) -> list[str]:
    """Every entry below ``folder`` that is not a folder, as '/'-separated relative paths."""
    found = []
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        found += [(rel / n).as_posix() for n in names]
        found += [(rel / d).as_posix() for d in dirs if os.path.islink(Path(root) / d)]
    return sorted(found)


def _recorded(folder: Path, command: str, products: Iterable[str]) -> set[str] | None:
    """The files of ``folder`` that an earlier run of ``command`` wrote: those its manifest
    lists, or (a folder from before manifests) those named like the command's products.
    None when the manifest says another command wrote them."""
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            doc = json.loads(manifest.read_text())
            files = doc["files"]
            if doc.get("format") != _FORMAT or not isinstance(files, list):
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return set()  # unreadable: nothing in the folder is known to be ours
        if doc.get("command") != command:
            return None
        return {str(f) for f in files} | {MANIFEST}
    patterns = list(products)
    return {f for f in _files(folder) if any(fnmatch(f, p) for p in patterns)}


def _manifest_files(folder: Path) -> list[str]:
    try:
        files = json.loads((folder / MANIFEST).read_text())["files"]
        return [str(f) for f in files] if isinstance(files, list) else []
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return []


def _few(names: list[str]) -> str:
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def check_out(out: Path, command: str, products: Iterable[str], keep: dict,
              overwrite: bool) -> None:
    """Before any work: refuse an ``out`` that cannot hold this run's results.

    ``keep`` maps the flag of each path the command reads or keeps (a model, an inputs file,
    a store) to that path; none may lie inside ``out``, which a run replaces as a whole.
    """
    if out.exists() and not out.is_dir():
        raise _fail(f"--out {out} is a file, not a folder; choose another --out.")
    parent = out
    while not parent.exists():  # the nearest folder that exists is where out will be made
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise _fail(f"--out {out} cannot be created or written ({parent} is not a writable "
                    "folder); choose another --out.")
    for flag, path in keep.items():
        if path is not None and _inside(Path(path), out):
            raise _fail(f"{flag} {path} lies inside --out {out}, which each run replaces as a "
                        f"whole; move it out of {out} or choose another --out.")
    if not out.exists():
        return
    present = _files(out)
    if not present:
        return
    if not overwrite:
        listed = _manifest_files(out)  # in the order the run wrote them, the manifest last
        present = [f for f in listed if f in present] + \
            sorted(set(present) - set(listed), key=lambda f: (f == MANIFEST, f))
        raise _fail(f"{out} already holds {_few(present)}; pass --overwrite to replace them, or "
                    "choose another --out.")
    ours = _recorded(out, command, products)
    if ours is None:
        other = json.loads((out / MANIFEST).read_text()).get("command")
        raise _fail(f"{out} holds the results of 'echoscope {other}'; --overwrite replaces "
                    f"only results of 'echoscope {command}'. Choose another --out.")
    foreign = [f for f in present if f not in ours]
    if foreign:
        raise _fail(f"{out} holds files that echoscope {command} did not write "
                    f"({_few(foreign)}); "
                    "--overwrite replaces the folder as a whole, so move them or choose another "
                    "--out.")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clear_abandoned(out: Path) -> None:
    """Remove the partial folders of runs of this ``out`` that were killed."""
    prefix = f".{out.name}{_PARTIAL}"
    if not out.parent.is_dir():
        return
    for entry in out.parent.iterdir():
        if entry.name.startswith(prefix) and entry.is_dir():
            pid = entry.name[len(prefix):].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def staged(out: Path):
    """A fresh folder beside ``out`` to write into; removed unless ``swap_in`` took it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _clear_abandoned(out)
    stage = out.parent / f".{out.name}{_PARTIAL}{os.getpid()}-{os.urandom(4).hex()}"
    stage.mkdir()
    try:
        yield stage
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def write_manifest(stage: Path, doc: dict, files: list[str]) -> None:
    """Record the run: the command, its arguments, the version and the files written (in the
    order written)."""
    from .._result import json_ready

    text = json.dumps(json_ready({"format": _FORMAT, **doc, "files": files}), indent=2,
                      allow_nan=False) + "\n"
    (stage / MANIFEST).write_text(text)


def swap_in(stage: Path, out: Path, command: str, products: Iterable[str], keep: dict,
            overwrite: bool) -> None:
    """Make the written ``stage`` the folder ``out``; the earlier results go only now."""
    check_out(out, command, products, keep, overwrite)  # again: the folder may have changed
    if out.exists() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        os.rename(stage, out)
        return
    old = out.parent / f".{out.name}{_PARTIAL}{os.getpid()}-old-{os.urandom(4).hex()}"
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
