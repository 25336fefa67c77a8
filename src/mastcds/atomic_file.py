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
