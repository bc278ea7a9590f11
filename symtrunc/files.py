"""Atomic file writes: every file symtrunc writes goes through :func:`write_files`.

A file is written whole or not at all. Its bytes go to a temporary file in the target's
directory, are flushed to disk (``fsync``), and the temporary file is then renamed over the
target, so a reader (or a crash, or ``kill -9``) sees the previous file or the new one, never
a truncated one. Where the file system supports it (Linux ``O_TMPFILE``) the temporary file
gets a name (``.NAME.<pid>.<random>.tmp``) only immediately before the rename, so a process
killed while writing leaves nothing behind; elsewhere it has that name from the start and is
removed on every error and on ``KeyboardInterrupt`` (not on ``kill -9``).

:func:`write_files` writes several files as one step: every target is checked and every
temporary file written before the first rename, and if a later rename fails the files already
renamed are put back as they were (from ``.NAME.<pid>.<random>.old`` links, removed afterwards).
Errors name the target, never the temporary file.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write(folder / "a.txt", "first\\n").read_text()
'first\\n'
>>> [p.name for p in write_files({folder / "a.txt": "second\\n", folder / "b.bin": b"\\x00"})]
['a.txt', 'b.bin']
>>> sorted(p.name for p in folder.iterdir()), (folder / "a.txt").read_text()
(['a.txt', 'b.bin'], 'second\\n')
>>> atomic_write(folder / "missing" / "c.txt", "")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
symtrunc.errors.FormatError: cannot write ... no such directory ...
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from symtrunc.errors import DataError, FormatError

__all__ = ["atomic_write", "check_writable", "same_file", "write_files"]

_BLOCK = 1 << 20  # bytes per os.write call
_AT_FDCWD = -100  # linkat(2) constants (Linux)
_AT_EMPTY_PATH = 0x1000
#: errors of open(O_TMPFILE) that mean "not supported here" (then a named temporary file is used)
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL}


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether paths ``a`` and ``b`` name the same file (same resolved path, or hard links).

    >>> same_file("x/../net.json", "net.json"), same_file("a.json", "b.json")
    (True, False)
    """
    if Path(a).resolve() == Path(b).resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def check_writable(path: str | Path) -> Path:
    """``path`` as a :class:`~pathlib.Path`, after checking that a file can be written there.

    Raises
    ------
    FormatError
        The directory does not exist, or ``path`` is a directory.
    PermissionError
        The directory is not writable (the error names ``path``).
    """
    path = Path(path)
    directory = path.parent
    if not directory.is_dir():
        raise FormatError(f"cannot write {path}: no such directory {directory}")
    if path.is_dir():
        raise FormatError(f"cannot write {path}: it is a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    return path


class _Staged:
    """One target whose new content is written and flushed, not yet in place."""

    def __init__(self, target: Path, data: bytes) -> None:
        self.target = target
        self.data = data
        self.fd = -1  # an open O_TMPFILE file holding the data (no name), or -1
        self.tmp: Path | None = None  # a named temporary file holding the data, or None
        try:
            self._write()
        except BaseException:
            self.discard()
            raise

    def _write(self) -> None:
        try:
            self.fd = os.open(self.target.parent, os.O_TMPFILE | os.O_WRONLY, 0o666)  # honours the umask
        except AttributeError:  # no O_TMPFILE on this platform
            self._write_named()
            return
        except OSError as e:
            if e.errno not in _NO_TMPFILE:
                raise
            self._write_named()
            return
        self._keep_mode(self.fd)
        _write_all(self.fd, self.data)

    def _keep_mode(self, fd: int) -> None:
        """Give the new file the permissions of the file it replaces (if any)."""
        try:
            mode = stat.S_IMODE(os.stat(self.target).st_mode)
        except FileNotFoundError:
            return
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)

    def _tmp_name(self) -> Path:
        return self.target.parent / f".{self.target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"

    def _write_named(self) -> None:
        tmp = self._tmp_name()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        self.tmp = tmp
        try:
            self._keep_mode(fd)
            _write_all(fd, self.data)
        finally:
            os.close(fd)

    def _link(self, name: Path) -> bool:
        """Give the anonymous file the name ``name``; False when this kernel cannot."""
        try:
            os.link(f"/proc/self/fd/{self.fd}", name)
            return True
        except OSError as e:
            if e.errno == errno.EEXIST:
                raise
        try:  # /proc not usable: linkat(fd, "", AT_EMPTY_PATH)
            libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return False
        if libc.linkat(self.fd, b"", _AT_FDCWD, os.fsencode(name), _AT_EMPTY_PATH) == 0:
            return True
        if ctypes.get_errno() == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(name))
        return False

    def publish(self) -> None:
        """Put the new content in place of the target (one rename)."""
        if self.tmp is None:
            tmp = self._tmp_name()
            if not self._link(tmp):
                self._write_named()  # sets self.tmp
            else:
                self.tmp = tmp
        assert self.tmp is not None
        os.replace(self.tmp, self.target)
        self.tmp = None

    def discard(self) -> None:
        """Close and remove what is left of the temporary file."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self.tmp = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    for a in range(0, len(view), _BLOCK):
        block = view[a : a + _BLOCK]
        while block:
            block = block[os.write(fd, block) :]
    os.fsync(fd)


def _backup(target: Path) -> Path | None:
    """A second name (hard link, else a copy) for the current content of ``target``, if any."""
    if not target.exists():
        return None
    name = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.old"
    try:
        os.link(target, name)
    except OSError:  # no hard links here: copy
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            _write_all(fd, target.read_bytes())
        finally:
            os.close(fd)
    return name


def _sync_directory(directory: Path) -> None:
    """Flush the directory entry of a rename to disk (POSIX; a no-op elsewhere)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _naming(e: OSError, target: Path) -> OSError:
    """``e`` naming ``target`` (an error about the temporary file is one about the target)."""
    if e.filename is not None and Path(e.filename) == target and e.filename2 is None:
        return e
    return type(e)(e.errno, e.strerror or str(e), str(target))


def write_files(outputs: Mapping[str | Path, bytes | str]) -> list[Path]:
    """Write every ``{path: data}`` (``str`` as UTF-8) atomically, all or none.

    Every target is checked (:func:`check_writable`) and every new content written to disk
    before the first target is replaced; if replacing a later target fails, the targets
    already replaced get their previous content back (or are removed if they did not exist).
    A target that is a symbolic link keeps the link: the file it points to is replaced.

    Returns
    -------
    list of pathlib.Path
        The targets, in the order given.

    Raises
    ------
    FormatError, OSError
        A target cannot be written (the error names the target). Nothing has changed then.
    DataError
        Two outputs name the same file.
    """
    targets = [check_writable(p.resolve() if p.is_symlink() else p) for p in map(Path, outputs)]
    for i, a in enumerate(targets):
        for b in targets[:i]:
            if same_file(a, b):
                raise DataError(f"{a} is named twice as an output")
    datas = [d.encode("utf-8") if isinstance(d, str) else bytes(d) for d in outputs.values()]
    staged: list[_Staged] = []
    try:
        for target, data in zip(targets, datas):
            try:
                staged.append(_Staged(target, data))
            except OSError as e:
                raise _naming(e, target) from None
        _commit(staged)
    finally:
        for s in staged:
            s.discard()
    for directory in {t.parent for t in targets}:
        _sync_directory(directory)
    return targets


def _commit(staged: list[_Staged]) -> None:
    """Publish every staged file; on failure put back what was replaced."""
    done: list[tuple[Path, Path | None]] = []
    backups: list[Path] = []
    try:
        for k, s in enumerate(staged):
            backup = _backup(s.target) if k < len(staged) - 1 else None  # the last one needs no undo
            if backup is not None:
                backups.append(backup)
            try:
                s.publish()
            except OSError as e:
                raise _naming(e, s.target) from None
            done.append((s.target, backup))
    except BaseException:
        for target, backup in reversed(done):
            if backup is not None:
                os.replace(backup, target)
                backups.remove(backup)
            else:
                target.unlink(missing_ok=True)
        raise
    finally:
        for b in backups:
            b.unlink(missing_ok=True)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically (see :func:`write_files`); returns the path."""
    return write_files({path: data})[0]
