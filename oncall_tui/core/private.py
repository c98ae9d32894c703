"""Files only their owner can read: journals, step outputs and exports are 0600 in 0700 dirs.

An incident's journal, its steps' output and its postmortem name hosts, people and whatever
the commands printed; they are nobody else's business on a shared box. The modes are set
explicitly after creating, because `os.open` and `os.mkdir` take theirs through the umask
(which may be 0, or 0o277 and leave the owner unable to write).
"""

from __future__ import annotations

import errno
import os
import stat
import uuid
from contextlib import suppress
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
OWN_DIRS = ("incidents", "exports")
"""The console's own directories in the data dir, tightened to 0700 when found wider."""


def private_dir(path: Path, tighten: bool = True) -> Path:
    """`path` as a directory: created 0700 when missing (and so is each missing parent).

    An existing directory of ours (same owner) that others can read is tightened to the
    owner's bits when `tighten`; the data dir itself is left as the user made it (pass
    False). Raises OSError (NotADirectoryError when `path` is something else).
    """
    try:
        os.mkdir(path, DIR_MODE)
    except FileNotFoundError:
        if path.parent == path or os.path.isdir(path.parent):
            raise  # its parent is there and still no such file (/proc refuses so): no retry
        private_dir(path.parent, tighten=False)
        return private_dir(path, tighten)
    except FileExistsError:
        found = os.stat(path)
        if not stat.S_ISDIR(found.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
        if tighten and found.st_mode & 0o077 and found.st_uid == os.geteuid():
            os.chmod(path, stat.S_IMODE(found.st_mode) & DIR_MODE)
        return path
    os.chmod(path, DIR_MODE)  # mkdir's mode went through the umask
    return path


def open_private(path: Path, flags: int) -> int:
    """`os.open(path, flags)` for a file only its owner may read: a regular file it creates or
    opens is 0600 whatever the umask (an existing one is tightened too: what is written now
    is private). Anything else (a FIFO, /dev/stdout) keeps its mode. Returns the fd."""
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, content: bytes | str) -> None:
    """Write `content` (str as UTF-8) to `path`, replacing what it held, as a 0600 file."""
    data = content.encode() if isinstance(content, str) else content
    fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def recording_problem(data_dir: Path) -> str | None:
    """Why nothing could be recorded in `data_dir`, in one line naming it; None when it can.

    Creates `data_dir` (0700) when missing, tightens our own dirs in it, and creates, writes
    and removes a file there: what the first journal would need, asked before anyone needs it.
    """
    try:
        private_dir(data_dir, tighten=False)
    except OSError as error:
        made = "is not writable" if os.path.lexists(data_dir) else "cannot be created"
        return f"{data_dir} {made} ({error.strerror or error})"
    for name in OWN_DIRS:
        with suppress(OSError):  # best effort: whether it can be written is asked next
            if (data_dir / name).is_dir():
                private_dir(data_dir / name)
    for where in (data_dir, *(data_dir / name for name in OWN_DIRS)):
        if where != data_dir and not os.path.lexists(where):
            continue  # made when first needed, in a data dir that can be written
        if not where.is_dir():
            return f"{where} is not a directory (the console keeps its {where.name} there)"
        problem = _cannot_write_in(where)
        if problem:
            return f"{where} is not writable ({problem})"
    return None


def _cannot_write_in(directory: Path) -> str | None:
    """Why a file cannot be created, written and removed in `directory`, or None."""
    probe = directory / f".oncall-tui-write-check-{uuid.uuid4().hex[:12]}"
    try:
        fd = open_private(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            os.write(fd, b"\n")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as error:
        return str(error.strerror or error)
    return None
