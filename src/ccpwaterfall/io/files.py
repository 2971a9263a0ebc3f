"""Writing output files without destroying anything.

A command's output file is written whole or not at all, and only where it
cannot destroy something: never over an input of the same command (compared
by resolved path and by device and inode, so a hard link or another spelling
of the same path counts), never to anything but a regular file or a new path
(not through a symbolic link, not over a device, a directory, a FIFO or a
socket), and over an existing regular file only when the user says so
(``--force``). The text goes to a temporary file in the target's folder, is
flushed to disk, then takes the target's place in one rename.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ccpwaterfall.io.issues import Issue

NEW_FILE_MODE = 0o644

_NOT_REGULAR = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def check_target(path: Path, *, force: bool = False, inputs: Iterable[Path] = ()) -> Issue | None:
    """Why ``path`` must not be written, or ``None`` when it may be.

    ``inputs`` are the files the same command reads; ``force`` allows replacing
    an existing regular file (and only that).
    """
    try:
        target = os.lstat(path)
    except FileNotFoundError:
        target = None
    except OSError as error:
        return _refused(path, f"cannot be examined: {error.strerror or error}")
    if _is_an_input(path, target, inputs):
        return _refused(path, "is an input of this command: refusing to write over it")
    if target is None:
        return None
    for test, what in _NOT_REGULAR:
        if test(target.st_mode):
            return _refused(path, f"is {what}, not a regular file: refusing to write to it")
    if not stat.S_ISREG(target.st_mode):
        return _refused(path, "is not a regular file: refusing to write to it")
    if not force:
        return _refused(path, "already exists: use --force to replace it")
    return None


def write_text(
    path: Path, text: str, *, force: bool = False, inputs: Iterable[Path] = ()
) -> Issue | None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path``, all of it or nothing, as
    ``write_bytes`` does."""
    return write_bytes(path, text.encode("utf-8"), force=force, inputs=inputs)


def write_bytes(
    path: Path, data: bytes, *, force: bool = False, inputs: Iterable[Path] = ()
) -> Issue | None:
    """Write ``data`` to ``path``, all of it or nothing.

    Returns the reason when ``path`` may not or cannot be written (``check_target``,
    a missing folder, no permission), with nothing left behind; ``None`` once written.
    A new file gets mode 0644; a replaced one keeps its mode.
    """
    inputs = tuple(inputs)
    refused = check_target(path, force=force, inputs=inputs)
    if refused is not None:
        return refused
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if force else NEW_FILE_MODE
    except FileNotFoundError:
        mode = NEW_FILE_MODE
    except OSError as error:
        return _refused(path, f"cannot be written: {error.strerror or error}")
    temp: Path | None = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        temp = Path(name)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        temp.chmod(mode)
        if not _link_new(temp, path, force=force):
            return _refused(path, "already exists: use --force to replace it")
        _sync_folder(path.parent)
    except OSError as error:
        return _refused(path, f"cannot be written: {error.strerror or error}")
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                temp.unlink()
    return None


def _link_new(temp: Path, path: Path, *, force: bool) -> bool:
    """Put ``temp`` at ``path``: by rename when replacing is allowed, else without clobbering.

    Without ``force`` a hard link creates ``path`` only if nothing appeared there
    since it was checked (``False`` if something did); where the file system has
    no hard links, the rename is the fallback.
    """
    if not force:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError:
            if os.path.lexists(path):
                return False
        else:
            return True
    os.replace(temp, path)
    return True


def _sync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows opening a folder."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _is_an_input(path: Path, target: os.stat_result | None, inputs: Iterable[Path]) -> bool:
    resolved = _resolved(path)
    followed = _stat(path) if target is not None else None
    for source in inputs:
        if resolved is not None and resolved == _resolved(source):
            return True
        other = _stat(source) if followed is not None else None
        if followed is not None and other is not None and _same_file(followed, other):
            return True
    return False


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _refused(path: Path, why: str) -> Issue:
    return Issue(str(path), "", why)
