"""The BM25 indexes saved beside the vectors: written and listed, memory-mapped at a restart
instead of rebuilt, scoring the same to the last bit; an older index without them, or with a
damaged file, still serves the same answers (rebuilt, with a warning, and saved again)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from helpers import INTERVIEW, TALKS, FakeEmbedder, named_files, open_bot, write_corpus

from qa_bot import index as index_mod
from qa_bot import index_files, lexical_files
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.stores import faiss_store

QUESTIONS = ["Does Ivanov regret the fall of the USSR?", "What fruit does Alice love?",
             "Why did you start the bakery?", "Where does she live, near the river?",
             "What did he say about the army and his father?", "zeppelins quasar"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", {**TALKS, INTERVIEW.name: INTERVIEW.read_text("utf-8")})


def answers(bot: QaBot) -> list[dict]:
    return [bot.ask(q, top_k=3).to_dict() for q in QUESTIONS]


def manifest_of(index_dir: Path) -> dict:
    return json.loads((index_dir / index_mod.MANIFEST).read_text(encoding="utf-8"))


def no_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a BM25 index from texts fails the test."""
    def rebuild(*args, **kwargs):
        raise AssertionError("the BM25 index was rebuilt")

    monkeypatch.setattr(faiss_store, "chunk_bm25", rebuild)
    monkeypatch.setattr(faiss_store, "context_bm25", rebuild)
    monkeypatch.setattr(lexical_files, "build", rebuild)


def count_rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    for module, name in ((faiss_store, "chunk_bm25"), (faiss_store, "context_bm25"),
                         (lexical_files, "build")):
        real = getattr(module, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            built.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, spy)
    return built


def all_scores(bot: QaBot) -> dict[tuple[str, str], bytes]:
    store = bot.retriever().store
    return {(q, field): store._field_scores(q, field).tobytes()  # type: ignore[attr-defined]
            for q in QUESTIONS for field in ("chunk", "context")}


def rebuilt_scores(bot: QaBot) -> dict[tuple[str, str], bytes]:
    """The scores of a store over the same index that builds its BM25 from the texts."""
    index = index_mod.Index(bot.index.manifest, bot.index.chunks, bot.index.chunk_vectors,
                            bot.index.turn_keys, bot.index.turn_vectors)
    store = faiss_store.FaissStore.from_index(index, bot.transcripts)
    assert store._chunk_bm25 is None
    return {(q, field): store._field_scores(q, field).tobytes()
            for q in QUESTIONS for field in ("chunk", "context")}


def test_bm25_files_are_written_beside_the_vectors_and_listed(corpus, tmp_path):
    index_dir = tmp_path / "index"
    bot = open_bot(corpus, index_dir)
    manifest = manifest_of(index_dir)
    lexical = manifest["lexical"]
    assert lexical["chunk"]["size"] == len(bot.index.chunks) == manifest["chunk_count"]
    for field in ("chunk", "context"):
        files = lexical[field]["files"]
        assert {"tf_data", "tf_indices", "tf_indptr", "df_data", "df_indices", "df_indptr", "n",
                "group", "norm", "vocab"} <= set(files)
        for entry in files.values():
            path = index_dir / entry["name"]
            assert entry["name"].startswith(f"bm25-{field}-")
            assert index_files.sha256(path) == entry["sha256"] and path.stat().st_size == entry["size"]
    assert "doc_of" in lexical["context"]["files"]
    on_disk = {p.name for p in index_dir.iterdir()} - {index_mod.MANIFEST, ".lock", "uploads"}
    assert on_disk == named_files(manifest)


def test_a_restart_memory_maps_them_and_rebuilds_nothing(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    first = open_bot(corpus, index_dir)
    before, scores = answers(first), all_scores(first)
    monkeypatch.setattr(lexical_files, "MMAP_BYTES", 0)  # this corpus's arrays are small
    no_rebuild(monkeypatch)
    bot = open_bot(corpus, index_dir)
    assert bot.report.embedded == 0 and bot.report.warnings == [] and not bot.report.saved
    lexical = bot.index.lexical
    assert lexical is not None and isinstance(lexical.chunk.tf_indices, np.memmap)
    assert isinstance(lexical.context.norm, np.memmap) and isinstance(lexical.doc_of, np.memmap)
    assert bot.retriever().store._chunk_bm25 is lexical.chunk
    assert answers(bot) == before
    assert all_scores(bot) == scores  # byte for byte


def test_saved_scores_are_the_rebuilt_scores_to_the_last_bit(corpus, tmp_path):
    index_dir = tmp_path / "index"
    open_bot(corpus, index_dir)
    bot = open_bot(corpus, index_dir)
    assert bot.index.lexical is not None
    loaded = all_scores(bot)
    assert loaded == rebuilt_scores(bot)
    assert any(np.frombuffer(s, np.float32).any() for s in loaded.values())


def test_an_index_saved_without_bm25_files_loads_rebuilds_them_and_saves_them(corpus, tmp_path,
                                                                            monkeypatch):
    index_dir = tmp_path / "index"
    before = answers(open_bot(corpus, index_dir))
    manifest = manifest_of(index_dir)  # as the index was written before BM25 was saved
    for name in named_files(manifest) - named_files({"files": manifest["files"]}):
        (index_dir / name).unlink()
    del manifest["lexical"]
    for entry in manifest["files"].values():
        del entry["size"], entry["mtime_ns"]
    (index_dir / index_mod.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    built = count_rebuilds(monkeypatch)
    bot = open_bot(corpus, index_dir)
    assert bot.report.embedded == 0 and bot.report.warnings == [] and built == ["build"]
    assert answers(bot) == before
    upgraded = manifest_of(index_dir)  # the BM25 files added, the vectors not rewritten
    assert upgraded["files"].keys() == manifest["files"].keys()
    assert all(upgraded["files"][r]["name"] == e["name"] and "mtime_ns" in upgraded["files"][r]
               for r, e in manifest["files"].items())
    assert "lexical" in upgraded and named_files(upgraded) <= {p.name for p in index_dir.iterdir()}
    built.clear()
    again = open_bot(corpus, index_dir)
    assert built == [] and again.index.lexical is not None and answers(again) == before


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def out_of_range(path: Path) -> None:
    """Indices past the end, the same size and (restored) time: only use can tell."""
    stat = path.stat()
    array = np.load(path, allow_pickle=False)
    with path.open("wb") as f:
        np.save(f, np.full_like(array, np.iinfo(array.dtype).max), allow_pickle=False)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


@pytest.mark.parametrize("field,role,how", [
    ("chunk", "tf_indices", truncate), ("context", "norm", garbage), ("chunk", "vocab", garbage),
    ("context", "doc_of", "delete"), ("chunk", "tf_indices", out_of_range),
    ("context", "df_indptr", out_of_range)])
def test_a_damaged_bm25_file_is_rebuilt_with_a_warning_and_answers_stay_the_same(
        corpus, tmp_path, caplog, field, role, how):
    index_dir = tmp_path / "index"
    first = open_bot(corpus, index_dir)
    before, scores = answers(first), all_scores(first)
    path = index_dir / manifest_of(index_dir)["lexical"][field]["files"][role]["name"]
    if how == "delete":
        path.unlink()
    else:
        how(path)

    bot = open_bot(corpus, index_dir)
    assert bot.report.embedded == 0  # only BM25 is rebuilt, never the vectors
    assert answers(bot) == before and all_scores(bot) == scores
    warned = " ".join(bot.report.warnings) + caplog.text
    assert "BM25" in warned and ("damaged" in warned or "unusable" in warned)
    if how is not out_of_range:  # caught at load: saved again, whole
        assert "unusable" in " ".join(bot.report.warnings)
        again = open_bot(corpus, index_dir)
        assert again.report.warnings == [] and again.index.lexical is not None


def test_full_verification_hashes_every_file_at_load(corpus, tmp_path, monkeypatch):
    """A file changed under an unchanged size and time passes the quick check; with
    QA_BOT_VERIFY_INDEX=full its SHA-256 is checked anyway."""
    index_dir = tmp_path / "index"
    before = answers(open_bot(corpus, index_dir))
    path = index_dir / manifest_of(index_dir)["lexical"]["chunk"]["files"]["tf_indices"]["name"]
    out_of_range(path)
    hashed: list[str] = []
    real = index_files.sha256
    monkeypatch.setattr(index_files, "sha256", lambda p: hashed.append(p.name) or real(p))
    assert index_mod.load(index_dir).lexical is not None and hashed == []  # trusted by its stat
    problems: list[str] = []
    loaded = index_mod.load(index_dir, problems, full_check=True)  # what QA_BOT_VERIFY_INDEX=full asks
    assert loaded is not None and loaded.lexical is None and path.name in " ".join(problems)
    assert set(hashed) >= {e["name"] for e in manifest_of(index_dir)["files"].values()}
    assert answers(open_bot(corpus, index_dir)) == before
    monkeypatch.setenv("QA_BOT_VERIFY_INDEX", "full")  # read into Settings, handed to the load
    reopened = QaBot.open(corpus, index_dir, Settings.from_env(), FakeEmbedder())
    assert path.name in " ".join(reopened.report.warnings)
