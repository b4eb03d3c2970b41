"""The saved index's manifest (``manifest.json``) as frozen values.

``Manifest.from_dict`` is the one reader of the JSON and ``Manifest.to_dict`` the one writer;
the rest of qa_bot reads attributes. ``from_dict`` checks the type of every field and raises
ValueError naming the first bad one, which the loader reports as an unusable index, rebuilt.
The JSON is the one written before these classes: the same keys in the same order, so a saved
index loads, and is written back, byte for byte as it was.

Two parts are read leniently, each for a reason:

* the settings key (``IndexKey``): an index written by a qa_bot that recorded another key (one
  from before ``parser_version``) is not damaged, only out of date, so its key reads as None,
  which equals no current key: everything is re-embedded, as after any change of settings;
* the BM25 section (``lexical``) stays the JSON it is: ``lexical_files.load`` reads and checks
  it, and a damaged one costs only the BM25 indexes (rebuilt from the chunks), not the index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

_KINDS = {int: "a whole number", str: "a string", dict: "an object", list: "a list"}


def _field(raw: Mapping[str, Any], name: str, kind: type, where: str = "") -> Any:
    """``raw[name]``, which must be a ``kind`` (a bool is no int here: JSON's ``true`` as a
    count or a row is damage, not 1)."""
    path = f"{where}.{name}" if where else name
    if name not in raw:
        raise ValueError(f"the manifest has no field {path!r}")
    value = raw[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"the manifest's field {path!r} is not {_KINDS.get(kind, kind.__name__)}: "
                         f"{value!r:.60}")
    return value


def _object(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"the manifest's {where or 'top level'} is not an object")
    return raw


def _rows(raw: Mapping[str, Any], name: str, where: str) -> tuple[int, int]:
    """A ``[start, end]`` range of rows."""
    value = _field(raw, name, list, where)
    if len(value) != 2 or any(type(v) is not int for v in value):
        raise ValueError(f"the manifest's field {f'{where}.{name}'!r} is not a [start, end] of rows")
    return value[0], value[1]


@dataclass(frozen=True)
class IndexKey:
    """What an index was built with: when any of it differs, everything is embedded again."""

    format_version: int
    parser_version: str
    model: str
    weights_sha256: str
    chunk_sentences: int
    chunk_stride: int
    max_chunk_chars: int

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IndexKey | None:
        """The key the manifest records, or None when a field of it is missing or of another
        type (an index from an older qa_bot: out of date, not damaged)."""
        try:
            return cls(**{f.name: _field(raw, f.name, int if f.type == "int" else str)
                          for f in fields(cls)})
        except ValueError:
            return None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class TranscriptEntry:
    """One transcript of the index: the file's fingerprint, and its rows in the chunk and turn
    records (and vectors), each a ``(start, end)`` range."""

    fingerprint: str
    title: str
    format: str
    chunks: tuple[int, int]
    turns: tuple[int, int]

    @classmethod
    def from_dict(cls, raw: object, where: str) -> TranscriptEntry:
        raw = _object(raw, where)
        return cls(_field(raw, "fingerprint", str, where), _field(raw, "title", str, where),
                   _field(raw, "format", str, where), _rows(raw, "chunks", where),
                   _rows(raw, "turns", where))

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "title": self.title, "format": self.format,
                "chunks": list(self.chunks), "turns": list(self.turns)}


@dataclass(frozen=True)
class FileEntry:
    """A data file of the index folder: its name, SHA-256, and the size and modification time
    (ns) it had when written (None in entries from before files were checked by their time:
    such a file is hashed at every load, index_files.check)."""

    name: str
    sha256: str
    size: int | None = None
    mtime_ns: int | None = None

    @classmethod
    def from_dict(cls, raw: object, where: str = "file") -> FileEntry:
        raw = _object(raw, where)
        size, mtime = (_field(raw, k, int, where) if k in raw else None for k in ("size", "mtime_ns"))
        return cls(_field(raw, "name", str, where), _field(raw, "sha256", str, where), size, mtime)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "sha256": self.sha256}
        if self.size is not None:
            out["size"] = self.size
        if self.mtime_ns is not None:
            out["mtime_ns"] = self.mtime_ns
        return out


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says of an index: how it was built, each transcript's rows, the
    data files with their checksums, and the BM25 section (see the module's docstring)."""

    key: IndexKey | None
    dimension: int
    transcripts: Mapping[str, TranscriptEntry]
    chunk_count: int
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    lexical: Any = None  # the BM25 section as read: lexical_files.load checks it

    @classmethod
    def from_dict(cls, raw: object) -> Manifest:
        """The manifest of parsed JSON.

        Raises:
            ValueError: a field is missing or of the wrong type; the message names it.
        """
        raw = _object(raw, "")
        transcripts = _field(raw, "transcripts", dict)
        files = _field(raw, "files", dict)
        return cls(IndexKey.from_dict(raw), _field(raw, "dimension", int),
                   {name: TranscriptEntry.from_dict(entry, f"transcripts.{name}")
                    for name, entry in transcripts.items()},
                   _field(raw, "chunk_count", int),
                   {role: FileEntry.from_dict(entry, f"files.{role}") for role, entry in files.items()},
                   raw.get("lexical"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, its keys in the order they have always been written."""
        out: dict[str, Any] = self.key.to_dict() if self.key is not None else {}
        out.update(dimension=self.dimension,
                   transcripts={name: e.to_dict() for name, e in self.transcripts.items()},
                   chunk_count=self.chunk_count)
        if self.files:
            out["files"] = {role: f.to_dict() for role, f in self.files.items()}
        if self.lexical is not None:
            out["lexical"] = self.lexical
        return out


__all__ = ["FileEntry", "IndexKey", "Manifest", "TranscriptEntry"]
