"""Write a whole file or nothing: what mastcds writes may be a patient's record or report.

A temporary file beside the target is written, flushed to disk and renamed
over it, so a reader never sees half a file and a crash leaves the old one.
The temporary file is created readable by its owner only (it holds patient
data) and keeps that mode. Devices and pipes (``-o /dev/null``) are written
to directly: renaming over them would put a regular file where a device was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], content: bytes | str) -> Path:
    """Write ``content`` (text as UTF-8) to ``path`` whole or not at all; returns the path."""
    target = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    if target.exists() and not target.is_file():
        with open(target, "wb") as out:
            out.write(data)
        return target
    descriptor, temporary = tempfile.mkstemp(dir=target.resolve().parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# Files and folders holding patient data are for their owner alone, whatever the umask (a
# umask can take permission bits away, never add them, so the modes are set explicitly).
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700


def open_private(path: str | os.PathLike[str], *, exclusive: bool = True) -> int:
    """A descriptor open for writing on ``path``, created readable and writable by its owner only.

    ``exclusive``: the file must not exist yet (else :class:`FileExistsError`);
    otherwise an existing file is truncated and made private too.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return descriptor


def make_private(path: str | os.PathLike[str]) -> None:
    """Make an existing file readable and writable by its owner only (for files another library wrote)."""
    os.chmod(path, PRIVATE_FILE_MODE)


def create_private_file(path: str | os.PathLike[str]) -> bool:
    """Create ``path`` empty and private unless it exists (an existing file is left as it is); whether it was created."""
    try:
        os.close(open_private(path))
    except FileExistsError:
        return False
    return True


def private_directory(path: str | os.PathLike[str]) -> Path:
    """``path`` as a folder; created (with any missing parents) readable by its owner only when it does not exist."""
    folder = Path(path)
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=PRIVATE_DIRECTORY_MODE, exist_ok=True)
        os.chmod(folder, PRIVATE_DIRECTORY_MODE)
    return folder
