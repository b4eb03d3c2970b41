"""The distributed store: Milvus through pymilvus, a server by URI or milvus-lite in a local file.

One collection holds the chunks: the stable id as primary key, transcript, speaker (case-folded)
and whether the chunk is an interviewer's question as scalar fields, so that a scope is a filter
expression the engine applies (on a server the transcript is also the partition key); the unit
vector under a FLAT inner-product index, so that dense search is exact as in FAISS (milvus-lite
is only trusted with FLAT); the chunk record as JSON. A second collection keeps each transcript's
fingerprint, written last, so that a replace cut short is redone by the next sync.

Lexical scores are ours, not the engine's: BM25 with each transcript's own statistics
(``lexical.GroupedBM25``) over the transcript's texts fetched from the engine, cached per
transcript here, so that they equal the FAISS store's scores. Milvus's own BM25 uses
collection-wide (in lite, per-segment) statistics, which would let other transcripts move a
transcript's answers.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..chunking import Chunk
from ..errors import QaBotError
from ..index import embed_text
from ..lexical import GroupedBM25
from ..parsers.base import TurnKind
from .base import Field, Scope, StoreHit, TranscriptPart, chunk_id, top_hits

MAX_VARCHAR = 65_535  # bytes, Milvus's limit for a VARCHAR field
BATCH = 1_000  # rows per insert, ids per fetch: well under the engine's message size limit
CHUNKS, TRANSCRIPTS = "chunks", "transcripts"


class StoreError(QaBotError):
    """The store cannot be opened or written (a bad URI, another dimension, a record too big)."""


def literal(value: str) -> str:
    """A Milvus filter string literal (double-quoted, JSON escapes), for any transcript name."""
    return json.dumps(value, ensure_ascii=False)


def _clip(text: str) -> str:
    """At most MAX_VARCHAR bytes of UTF-8 (a context of turns longer than that is scored on its
    first 64 KB)."""
    data = text.encode("utf-8")
    return text if len(data) <= MAX_VARCHAR else data[:MAX_VARCHAR].decode("utf-8", "ignore")


@dataclass(frozen=True)
class _Lexical:
    """One transcript's BM25 indexes, built from its records in the engine."""

    fingerprint: str
    ids: list[str]
    speakers: np.ndarray
    asking: np.ndarray
    chunk: GroupedBM25
    context: GroupedBM25
    doc_of: np.ndarray


def client_for(spec: str) -> tuple[Any, bool]:
    """A MilvusClient for ``milvus-lite:PATH``, a ``.db`` path, or ``milvus://host:port``
    (``http(s)://`` too), and whether it is milvus-lite."""
    with warnings.catch_warnings():  # milvus-lite imports pkg_resources, which warns on import
        warnings.simplefilter("ignore")
        from pymilvus import MilvusClient

        if spec.startswith("milvus-lite:") or spec.endswith(".db"):
            return MilvusClient(spec.removeprefix("milvus-lite:")), True
        if spec.startswith("milvus://"):
            return MilvusClient(uri="http://" + spec.removeprefix("milvus://")), False
        if spec.startswith(("http://", "https://")):
            return MilvusClient(uri=spec), False
    raise StoreError(f"store {spec!r}: expected milvus-lite:PATH, PATH.db or milvus://HOST:PORT")


class MilvusStore:
    """Chunks in Milvus.

    Args:
        spec: where (see ``client_for``).
        dim: the vectors' dimension; a store made for another one is refused.
        prefix: the collections' name prefix, so that several corpora can share a server.
    """

    def __init__(self, spec: str, dim: int, prefix: str = "qa_bot") -> None:
        self.client, self.lite = client_for(spec)
        self.dim = dim
        self.chunks_name, self.names_name = f"{prefix}_{CHUNKS}", f"{prefix}_{TRANSCRIPTS}"
        self._lexical: dict[str, _Lexical] = {}
        self._lock = threading.Lock()
        self._create()
        self._fingerprints = self._read_fingerprints()

    def _create(self) -> None:
        from pymilvus import DataType

        c = self.client
        if c.has_collection(self.chunks_name):
            fields = c.describe_collection(self.chunks_name)["fields"]
            dims = [f.get("params", {}).get("dim") for f in fields if f["name"] == "vector"]
            if dims and int(dims[0]) != self.dim:
                raise StoreError(f"the store's vectors have {dims[0]} dimensions, the model's {self.dim}")
        else:
            s = c.create_schema(auto_id=False, enable_dynamic_field=False)
            s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=2048)
            # A partition a transcript on a server; milvus-lite 2.5 cannot filter on a partition key.
            s.add_field("transcript", DataType.VARCHAR, max_length=2048, is_partition_key=not self.lite)
            s.add_field("ordinal", DataType.INT64)
            s.add_field("speaker", DataType.VARCHAR, max_length=MAX_VARCHAR)
            s.add_field("asking", DataType.BOOL)
            s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
            s.add_field("context", DataType.VARCHAR, max_length=MAX_VARCHAR)
            s.add_field("record", DataType.VARCHAR, max_length=MAX_VARCHAR)
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
            index = c.prepare_index_params()
            index.add_index("vector", index_type="FLAT", metric_type="IP")
            c.create_collection(self.chunks_name, schema=s, index_params=index, consistency_level="Strong")
        if not c.has_collection(self.names_name):
            s = c.create_schema(auto_id=False, enable_dynamic_field=False)
            s.add_field("name", DataType.VARCHAR, is_primary=True, max_length=2048)
            s.add_field("fingerprint", DataType.VARCHAR, max_length=256)
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants one in every collection
            index = c.prepare_index_params()
            index.add_index("vector", index_type="FLAT", metric_type="L2")
            c.create_collection(self.names_name, schema=s, index_params=index, consistency_level="Strong")
        c.load_collection(self.chunks_name)
        c.load_collection(self.names_name)

    def _transcript_rows(self, name: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every chunk row of a transcript, in order, a page of ordinals at a time: a plain query
        stops at 16,384 rows, and milvus-lite 2.5's query iterator can hang after a delete."""
        rows: list[dict[str, Any]] = []
        page = 10_000
        while True:
            expr = (f"transcript == {literal(name)} and ordinal >= {len(rows)} "
                    f"and ordinal < {len(rows) + page}")
            got = self.client.query(self.chunks_name, filter=expr, output_fields=fields, limit=page)
            rows += sorted(got, key=lambda r: r["ordinal"])
            if len(got) < page:
                return rows

    def _read_fingerprints(self) -> dict[str, str]:
        # At most 16,384 transcripts (a query's window) in this first version.
        return {r["name"]: r["fingerprint"] for r in self.client.query(
            self.names_name, filter='name != ""', output_fields=["name", "fingerprint"], limit=16_384)}

    # --- sync ---------------------------------------------------------------------------------

    def transcripts(self) -> Mapping[str, str]:
        return dict(self._fingerprints)

    def replace_transcript(self, part: TranscriptPart) -> None:
        self.delete_transcript(part.name)
        rows = []
        vectors = np.asarray(part.vectors, dtype=np.float32)
        for i, (c, context) in enumerate(zip(part.chunks, part.contexts, strict=True)):
            record = json.dumps(c.to_dict(), ensure_ascii=False)
            if len(record.encode("utf-8")) > MAX_VARCHAR:
                raise StoreError(f"{part.name}: chunk {i}'s record is over {MAX_VARCHAR:,} bytes")
            rows.append({"id": chunk_id(part.name, i), "transcript": part.name, "ordinal": i,
                         "speaker": _clip((c.speaker or "").casefold()),
                         "asking": c.kind == TurnKind.QUESTION,
                         "text": _clip(embed_text(c.speaker, c.text)), "context": _clip(context),
                         "record": record, "vector": vectors[i]})
        for at in range(0, len(rows), BATCH):
            self.client.insert(self.chunks_name, rows[at:at + BATCH])
        # The fingerprint last: a replace cut short leaves none, and the next sync redoes it.
        self.client.insert(self.names_name, [{"name": part.name, "fingerprint": part.fingerprint,
                                               "vector": [0.0, 0.0]}])
        with self._lock:
            self._fingerprints[part.name] = part.fingerprint

    def delete_transcript(self, name: str) -> None:
        self.client.delete(self.names_name, filter=f"name == {literal(name)}")
        self.client.delete(self.chunks_name, filter=f"transcript == {literal(name)}")
        with self._lock:
            self._fingerprints.pop(name, None)
            self._lexical.pop(name, None)

    # --- search -------------------------------------------------------------------------------

    @staticmethod
    def expression(scope: Scope) -> str:
        """The scope as a Milvus filter expression ("" for everything)."""
        terms = []
        if scope.transcript is not None:
            terms.append(f"transcript == {literal(scope.transcript)}")
        if scope.speaker is not None:
            terms.append(f"speaker == {literal(scope.speaker.casefold())}")
        if not scope.asking:
            terms.append("asking == false")
        return " and ".join(terms)

    def dense(self, query: np.ndarray, k: int, scope: Scope) -> list[StoreHit]:
        if k <= 0:
            return []
        found = self.client.search(self.chunks_name, data=[np.asarray(query, np.float32).tolist()],
                                   anns_field="vector", limit=k, filter=self.expression(scope),
                                   search_params={"metric_type": "IP"}, output_fields=[])
        return [StoreHit(str(h["id"]), float(h["distance"])) for h in found[0]]

    def _transcript_lexical(self, name: str) -> _Lexical:
        """The transcript's BM25 indexes, from its records in the engine (cached until this
        store replaces or deletes it)."""
        with self._lock:
            cached = self._lexical.get(name)
            fingerprint = self._fingerprints.get(name, "")
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        rows = self._transcript_rows(name, ["id", "ordinal", "speaker", "asking", "text", "context",
                                            "record"])
        docs: list[str] = []
        doc_of: list[int] = []
        first: dict[int, int] = {}
        for r in rows:
            turn = json.loads(r["record"])["turn"]
            if turn not in first:  # one context document a turn, as the FAISS store
                first[turn] = len(docs)
                docs.append(r["context"])
            doc_of.append(first[turn])
        built = _Lexical(fingerprint, [r["id"] for r in rows],
                         np.array([r["speaker"] for r in rows], dtype=object),
                         np.array([r["asking"] for r in rows], dtype=bool),
                         GroupedBM25([r["text"] for r in rows], [name] * len(rows)),
                         GroupedBM25(docs, [name] * len(docs)), np.array(doc_of, dtype=np.int64))
        with self._lock:
            self._lexical[name] = built
        return built

    @staticmethod
    def _field_scores(lex: _Lexical, text: str, field: Field) -> np.ndarray:
        return lex.chunk.scores(text) if field == "chunk" else lex.context.scores(text)[lex.doc_of]

    def lexical(self, text: str, k: int, scope: Scope, field: Field = "chunk") -> list[StoreHit]:
        names = [scope.transcript] if scope.transcript is not None else sorted(self.transcripts())
        ids: list[str] = []
        parts = []
        for name in names:
            if name not in self._fingerprints:
                continue
            lex = self._transcript_lexical(name)
            if not lex.ids:
                continue
            scores = self._field_scores(lex, text, field)
            keep = np.ones(len(lex.ids), dtype=bool) if scope.asking else ~lex.asking
            if scope.speaker is not None:
                keep &= lex.speakers == scope.speaker.casefold()
            ids += lex.ids
            parts.append(np.where(keep, scores, 0.0))
        return top_hits(ids, np.concatenate(parts) if parts else np.zeros(0), k, positive=True)

    def lexical_scores(self, text: str, ids: Sequence[str], field: Field = "chunk") -> np.ndarray:
        out = np.zeros(len(ids), dtype=np.float64)
        by_name: dict[str, list[int]] = defaultdict(list)
        for i, cid in enumerate(ids):
            by_name[cid.rpartition("#")[0]].append(i)
        for name, where in by_name.items():
            lex = self._transcript_lexical(name)
            position = {cid: p for p, cid in enumerate(lex.ids)}
            scores = self._field_scores(lex, text, field)
            out[where] = scores[[position[ids[i]] for i in where]]
        return out

    def fetch(self, ids: Sequence[str]) -> tuple[list[Chunk], np.ndarray]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(ids))
        for at in range(0, len(unique), BATCH):
            batch = unique[at:at + BATCH]
            expr = f"id in [{', '.join(literal(i) for i in batch)}]"
            for r in self.client.query(self.chunks_name, filter=expr, limit=len(batch),
                                       output_fields=["id", "record", "vector"]):
                found[r["id"]] = r
        rows = [found[i] for i in ids]  # KeyError for an id not stored
        vectors = np.array([r["vector"] for r in rows], dtype=np.float32).reshape(len(rows), self.dim)
        return [Chunk.from_dict(json.loads(r["record"])) for r in rows], vectors

    def prepare(self) -> None:
        """Fetch every transcript's texts and build its BM25 indexes now, not at the first question."""
        for name in sorted(self.transcripts()):
            self._transcript_lexical(name)

    def close(self) -> None:
        self.client.close()


__all__ = ["MilvusStore", "StoreError", "client_for", "literal"]
