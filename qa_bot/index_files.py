"""The index folder's data files: written atomically, and checked against the manifest's entry.

Each entry records a file's SHA-256 and, since the BM25 indexes were saved beside the vectors,
the size and modification time (ns) the file had when it was written. A file whose size and
time are still those is trusted without reading it: at a million chunks the full SHA-256 of
every file (vectors, records, BM25) reads about 1.5 GB and takes seconds at every start, more
than the whole restart may. Any ordinary change to a file (a write, a truncation, a copy that
did not keep the times, an edit) changes its time or size, and then the full SHA-256 decides:
a file that still matches is used (a copied folder), one that does not is damaged. What the
time cannot see is a disk flipping bits under an unchanged inode; ``QA_BOT_VERIFY_INDEX=full``
(``Settings.verify_index``, passed down as ``full``) hashes every file at every load for those
who want that too (README, "What the index's checksums protect").
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from .manifest import FileEntry


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, write_body: Callable[[Path], object]) -> None:
    """Write ``path`` through a temporary file, synced, then renamed into place."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write_body(tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def entry(path: Path, digest: str | None = None) -> FileEntry:
    """The manifest's entry for a file just written: its name, SHA-256 (``digest`` when it was
    just checked), size and time."""
    stat = path.stat()
    return FileEntry(path.name, digest or sha256(path), stat.st_size, stat.st_mtime_ns)


def safe_name(name: object) -> str:
    """A manifest's file name, which must name a file of the folder itself."""
    if not isinstance(name, str) or Path(name).name != name or name.startswith(".") or not name:
        raise ValueError(f"file name {name!r} is outside the index folder")
    return name


def check(index_dir: Path, item: FileEntry, full: bool = False) -> Path:
    """The file of a manifest entry, if it is the file that was written (``full``: hashed even
    when its size and time are those it was written with).

    Raises:
        ValueError: it does not match its checksum (or its name leaves the folder).
        OSError: it cannot be read.
    """
    path = index_dir / safe_name(item.name)
    stat = path.stat()
    unchanged = item.size == stat.st_size and item.mtime_ns == stat.st_mtime_ns
    if (not unchanged or full) and sha256(path) != item.sha256:
        raise ValueError(f"{path.name} does not match its checksum")
    return path


__all__ = ["atomic_write", "check", "entry", "safe_name", "sha256"]
