"""The saved index: incremental sync, manifest, no pickle, atomic writes, corruption, settings.

All with FakeEmbedder (instant); ``FakeEmbedder.calls`` counts every text the model was asked to
embed, so "embedded nothing" and "embedded only that transcript" are checked exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import ALPHA, ROOT, FakeEmbedder, named_files, open_bot
from helpers import ZEPPELINS as DELTA
from helpers import write_corpus as make_corpus

from qa_bot import index as index_mod
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.parsers.corpus import load_corpus

BETA = (
    "Q: Why did you start the bakery?\n"
    "A: My grandmother baked rye bread every Sunday. I wanted to keep her recipe alive.\n"
    "Q: What was the hardest part?\n"
    "A: Getting up at three in the morning. The ovens need four hours to heat.\n"
)
GAMMA = (
    "1\n00:00:01,000 --> 00:00:04,000\nWe sailed north for twelve days.\n\n"
    "2\n00:00:05,000 --> 00:00:09,500\nThe ice closed behind the ship. Nobody slept.\n"
)
FILES = {"alpha.txt": ALPHA, "beta.txt": BETA, "gamma.srt": GAMMA}
QUESTIONS = ["What fruit does Alice love?", "Why start a bakery?", "How long did they sail north?",
             "When do the ferries wake her?"]
DATA_ROLES = ("chunks_jsonl", "turns_jsonl", "chunks_faiss", "turns_faiss")


def full_count(tmp_path: Path, files: dict[str, str], embedder: FakeEmbedder | None = None,
               settings: Settings | None = None) -> int:
    """Texts a from-scratch build of exactly ``files`` embeds, in folders of its own."""
    folder = tmp_path / f"fresh-{len(list(tmp_path.glob('fresh-*')))}"
    corpus = make_corpus(folder / "corpus", files)
    embedder = embedder or FakeEmbedder()
    bot = open_bot(corpus, folder / "index", embedder, settings)
    assert embedder.calls == bot.report.embedded > 0
    return bot.report.embedded


def answers(bot: QaBot) -> list[dict]:
    return [bot.ask(q, top_k=3).to_dict() for q in QUESTIONS]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "talks", FILES)


# --- first build -----------------------------------------------------------------------------


def test_first_build_embeds_every_chunk_and_turn_once(corpus, index_dir):
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    index = bot.index
    # Counted by hand for beta.txt: the 2 interviewer's questions are chunks (one sentence each)
    # and turn vectors; each answer has two sentences, so one two-sentence window each; every
    # one of the 4 turns has a context vector too. 4 chunks and 6 turn vectors in all.
    beta = [c for c in index.chunks if c.transcript == "beta.txt"]
    assert [c.text for c in beta] == [
        "Why did you start the bakery?",
        "My grandmother baked rye bread every Sunday. I wanted to keep her recipe alive.",
        "What was the hardest part?",
        "Getting up at three in the morning. The ovens need four hours to heat."]
    assert [c.kind for c in beta] == ["question", "speech"] * 2
    keys = [k for k in index.turn_keys if k.transcript == "beta.txt"]
    assert sorted(k.kind for k in keys) == ["context"] * 4 + ["question"] * 2
    assert embedder.calls == bot.report.embedded == len(index.chunks) + len(index.turn_keys)
    assert sorted(bot.report.added) == sorted(FILES)
    assert bot.report.reused == [] and bot.report.saved
    assert (index_dir / "manifest.json").exists()


def test_chunk_and_turn_vectors_are_unit_length(corpus, index_dir):
    bot = open_bot(corpus, index_dir, FakeEmbedder())
    chunk_vectors = bot.index.chunk_vectors.reconstruct_n(0, bot.index.chunk_vectors.ntotal)
    np.testing.assert_allclose(np.linalg.norm(chunk_vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(bot.index.turn_vectors, axis=1), 1.0, rtol=1e-5)


class ScaledEmbedder(FakeEmbedder):
    """An embedder that breaks the unit-length promise: every vector three times too long."""

    def encode(self, texts):
        return super().encode(texts) * 3.0


def test_vectors_are_normalised_even_when_the_embedder_does_not(corpus, index_dir):
    bot = open_bot(corpus, index_dir, ScaledEmbedder())
    chunk_vectors = bot.index.chunk_vectors.reconstruct_n(0, bot.index.chunk_vectors.ntotal)
    np.testing.assert_allclose(np.linalg.norm(chunk_vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(bot.index.turn_vectors, axis=1), 1.0, rtol=1e-5)


def test_chunk_records_are_exact_slices_and_vectors_match_their_text(corpus, index_dir):
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    index = bot.index
    vectors = index.chunk_vectors.reconstruct_n(0, index.chunk_vectors.ntotal)
    for row, chunk in enumerate(index.chunks):
        assert bot.transcripts[chunk.transcript].text[chunk.start:chunk.end] == chunk.text
        expected = FakeEmbedder().encode([index_mod.embed_text(chunk.speaker, chunk.text)])[0]
        np.testing.assert_allclose(vectors[row], expected, atol=1e-6)


# --- restarts and incremental updates --------------------------------------------------------


def test_restart_with_nothing_changed_embeds_nothing(corpus, index_dir, caplog):
    first = open_bot(corpus, index_dir, FakeEmbedder())
    before = answers(first)
    files_before = {p.name: p.read_bytes() for p in index_dir.iterdir()}

    caplog.set_level(logging.INFO, logger="qa_bot.index")
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == 0
    assert bot.report.embedded == 0
    assert "embedded 0 texts" in caplog.text
    assert sorted(bot.report.reused) == sorted(FILES)
    assert bot.report.added == bot.report.changed == bot.report.removed == []
    assert not bot.report.saved
    # Nothing rewritten, and the same answers.
    assert {p.name: p.read_bytes() for p in index_dir.iterdir()} == files_before
    assert answers(bot) == before


def test_added_transcript_embeds_only_it(corpus, index_dir, tmp_path):
    open_bot(corpus, index_dir, FakeEmbedder())
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    expected = full_count(tmp_path, {"delta.txt": DELTA})
    assert embedder.calls == bot.report.embedded == expected
    assert bot.report.added == ["delta.txt"]
    assert sorted(bot.report.reused) == sorted(FILES)
    assert bot.report.saved
    assert bot.ask("hydrogen engines").answers[0].transcript == "delta.txt"
    # ... and it is saved: the next restart embeds nothing.
    again = FakeEmbedder()
    open_bot(corpus, index_dir, again)
    assert again.calls == 0


def test_changed_transcript_embeds_only_it(corpus, index_dir, tmp_path):
    open_bot(corpus, index_dir, FakeEmbedder())
    new_beta = BETA.replace("rye bread", "sourdough loaves").replace("four hours", "an hour")
    (corpus / "beta.txt").write_text(new_beta, encoding="utf-8")
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == bot.report.embedded == full_count(tmp_path, {"beta.txt": new_beta})
    assert bot.report.changed == ["beta.txt"]
    assert sorted(bot.report.reused) == ["alpha.txt", "gamma.srt"]
    texts = [c.text for c in bot.index.chunks if c.transcript == "beta.txt"]
    assert any("sourdough loaves" in t for t in texts)
    assert not any("rye bread" in t for t in texts)


def test_changed_sidecar_metadata_reembeds_only_its_transcript(corpus, index_dir, tmp_path):
    open_bot(corpus, index_dir, FakeEmbedder())
    (corpus / "alpha.txt.meta.json").write_text(json.dumps({"title": "Fruit and rivers"}))
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert bot.report.changed == ["alpha.txt"]
    assert embedder.calls == bot.report.embedded == full_count(tmp_path, {"alpha.txt": ALPHA})
    assert bot.index.manifest.transcripts["alpha.txt"].title == "Fruit and rivers"


def test_removed_transcript_embeds_nothing_and_is_dropped(corpus, index_dir):
    open_bot(corpus, index_dir, FakeEmbedder())
    (corpus / "gamma.srt").unlink()
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == bot.report.embedded == 0
    assert bot.report.removed == ["gamma.srt"]
    assert bot.report.saved
    assert {c.transcript for c in bot.index.chunks} == {"alpha.txt", "beta.txt"}
    assert {k.transcript for k in bot.index.turn_keys} == {"alpha.txt", "beta.txt"}
    saved = index_mod.load(index_dir)
    assert saved is not None and "gamma.srt" not in saved.manifest.transcripts
    again = FakeEmbedder()
    again_bot = open_bot(corpus, index_dir, again)
    assert again.calls == 0 and again_bot.report.removed == []


def test_incremental_index_equals_a_full_rebuild(corpus, index_dir, tmp_path):
    """Reused rows must line up with their records: compare with a from-scratch build."""
    open_bot(corpus, index_dir, FakeEmbedder())
    (corpus / "alpha.txt").write_text(ALPHA.replace("mangoes", "papayas"), encoding="utf-8")
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    (corpus / "gamma.srt").unlink()
    incremental = open_bot(corpus, index_dir, FakeEmbedder()).index
    full = open_bot(corpus, tmp_path / "full-index", FakeEmbedder()).index
    reloaded = index_mod.load(index_dir)
    assert reloaded is not None
    for index in (incremental, reloaded):
        assert index.chunks == full.chunks
        assert index.turn_keys == full.turn_keys
        assert index.manifest.transcripts == full.manifest.transcripts
        np.testing.assert_allclose(index.chunk_vectors.reconstruct_n(0, index.chunk_vectors.ntotal),
                                   full.chunk_vectors.reconstruct_n(0, full.chunk_vectors.ntotal),
                                   atol=1e-6)
        np.testing.assert_allclose(index.turn_vectors, full.turn_vectors, atol=1e-6)


def test_transcript_emptied_is_saved_so_the_next_restart_reuses_it(corpus, index_dir):
    open_bot(corpus, index_dir, FakeEmbedder())
    (corpus / "alpha.txt").write_text("", encoding="utf-8")  # nothing left to embed
    bot = open_bot(corpus, index_dir, FakeEmbedder())
    assert bot.report.changed == ["alpha.txt"] and bot.report.embedded == 0
    assert "alpha.txt" not in {c.transcript for c in bot.index.chunks}
    again = open_bot(corpus, index_dir, FakeEmbedder())
    assert again.report.changed == [] and "alpha.txt" in again.report.reused


def test_in_memory_sync_writes_nothing(corpus, tmp_path):
    transcripts, errors = load_corpus(corpus)
    assert not errors
    before = sorted(p.name for p in tmp_path.rglob("*"))
    index, report = index_mod.sync(transcripts, None, FakeEmbedder(), Settings())
    assert report.embedded == len(index.chunks) + len(index.turn_keys) > 0
    assert not report.saved
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_empty_corpus_builds_an_empty_index_and_grows_from_it(tmp_path, index_dir):
    corpus = make_corpus(tmp_path / "empty", {})
    bot = open_bot(corpus, index_dir, FakeEmbedder())
    assert bot.index.chunks == [] and bot.report.saved
    result = bot.ask("anything at all?")
    assert result.no_answer and result.answers == ()
    make_corpus(corpus, {"delta.txt": DELTA})
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert bot.report.added == ["delta.txt"] and embedder.calls == bot.report.embedded > 0
    assert bot.ask("hydrogen engines").answers[0].transcript == "delta.txt"


# --- manifest and file formats ---------------------------------------------------------------


def test_manifest_records_model_settings_fingerprints_and_checksums(corpus, index_dir):
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == embedder.name
    assert manifest["weights_sha256"] == embedder.weights_sha256
    assert manifest["dimension"] == embedder.dimension
    assert manifest["chunk_sentences"] == Settings().chunk_sentences
    assert manifest["chunk_stride"] == Settings().chunk_stride
    assert set(manifest["transcripts"]) == set(FILES)
    for name, entry in manifest["transcripts"].items():
        assert entry["fingerprint"] == bot.transcripts[name].fingerprint
    assert set(manifest["files"]) == set(DATA_ROLES)
    for entry in manifest["files"].values():
        data = (index_dir / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_index_is_json_jsonl_faiss_and_npy_through_its_life_never_a_pickle(tmp_path, monkeypatch):
    """Build, add, change, remove, damage and rebuild with every pickler booby-trapped and numpy's
    saver held to allow_pickle=False: after the first build the folder is only the manifest, the
    files it names and the writers' lock, each parsed as its type; after the rest, those, the
    generation before and the lock. Then read it back with every unpickler booby-trapped too:
    reading and answering never unpickle."""
    import pickle

    import faiss

    def forbidden(*args, **kwargs):
        raise AssertionError("the index must never be pickled")

    save = np.save

    def save_no_pickle(file, array, allow_pickle=True, **kwargs):  # numpy's default allows it
        assert allow_pickle is False, "np.save must be called with allow_pickle=False"
        assert np.asarray(array).dtype != object
        return save(file, array, allow_pickle=False, **kwargs)

    for name in ("dump", "dumps"):
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(np, "save", save_no_pickle)
    monkeypatch.setattr(np, "savez", forbidden)
    corpus = make_corpus(tmp_path / "corpus", {"alpha.txt": ALPHA})
    index_dir = tmp_path / "index"
    bot = QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())

    assert (index_dir / ".lock").read_bytes() == b""  # the writers' lock holds no data once released
    files = sorted(p for p in index_dir.iterdir() if p.name != ".lock")
    assert {p.suffix for p in files} <= {".json", ".jsonl", ".faiss", ".npy"}
    manifest = json.loads((index_dir / index_mod.MANIFEST).read_text(encoding="utf-8"))
    named = named_files(manifest)
    assert "lexical" in manifest and len(named) > len(manifest["files"])
    assert {p.name for p in files} == named | {index_mod.MANIFEST}  # the manifest and the files it lists
    for path in files:
        head = path.read_bytes()[:2]
        assert not head.startswith(b"\x80"), f"{path.name} looks like a pickle"
        if path.suffix == ".npy":
            assert np.load(path, allow_pickle=False).dtype != object
        elif path.suffix == ".json":
            assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
        elif path.suffix == ".jsonl":
            lines = path.read_text(encoding="utf-8").splitlines()
            assert lines and all(isinstance(json.loads(line), dict) for line in lines)
        else:
            assert faiss.read_index(str(path)).ntotal > 0

    # ... then a life of changes, and the folder read back
    bot.add_transcript("beta.srt", b"1\n00:00:01,000 --> 00:00:03,000\nBob: Rye bread, every Sunday.\n")
    (corpus / "alpha.txt").write_text(ALPHA.replace("mangoes", "papayas"), encoding="utf-8")
    bot.refresh()
    (corpus / "gamma.jsonl").write_text('{"speaker": "Cy", "text": "Ice closed behind the ship."}\n')
    bot.refresh()
    (corpus / "gamma.jsonl").unlink()
    bot.refresh()
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    chunks = index_dir / manifest["files"]["chunks_faiss"]["name"]
    chunks.write_bytes(chunks.read_bytes()[:40])
    bot.refresh()

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    named = named_files(manifest)
    # Beside them only the uploads folder (its default place), which holds transcripts.
    assert bot.uploads == index_dir / "uploads" and (bot.uploads / "beta.srt").is_file()
    # and the generation it replaced (kept for a reader that had just read its name), and the
    # writers' lock, empty once released.
    rest = {p.name for p in index_dir.iterdir() if p != bot.uploads} - named - {"manifest.json", ".lock"}
    assert len(rest) == len(named) and len({re.search(r"-([0-9a-f]{12})[.-]", name).group(1)
                                            for name in rest}) == 1, rest
    assert (index_dir / ".lock").read_bytes() == b""
    records, vectors = {}, {}
    for path in (p for p in index_dir.iterdir() if p not in (bot.uploads, index_dir / ".lock")):
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), f"{path.name} looks like a pickle"
        assert path.suffix in {".json", ".jsonl", ".faiss", ".npy"}
        if path.suffix == ".npy":  # numpy's array format, read without unpickling
            assert data.startswith(b"\x93NUMPY") and np.load(path, allow_pickle=False).dtype != object
        elif path.suffix == ".jsonl":
            lines = data.decode().splitlines()
            assert all(isinstance(json.loads(line), dict) for line in lines)
            if path.name in named:
                records[path.name.split("-")[0]] = len(lines)
        elif path.suffix == ".faiss" and path.name in named:
            vectors[path.name.split("-")[0]] = faiss.read_index(str(path)).ntotal
    # Each FAISS file holds one vector per record beside it: the chunks of both transcripts, and
    # the interviewer's questions and turns in context.
    assert vectors == records and records["chunks"] == manifest["chunk_count"] >= 2
    ranges = manifest["transcripts"].values()
    assert records["turns"] == sum(e["turns"][1] - e["turns"][0] for e in ranges) > 0

    def trap(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, trap)
    real_load = np.load

    def load_arrays(*args, allow_pickle=True, **kwargs):  # numpy's default allows it
        assert allow_pickle is False, "np.load must be called with allow_pickle=False"
        return real_load(*args, allow_pickle=False, **kwargs)

    monkeypatch.setattr(np, "load", load_arrays)
    loaded = index_mod.load(index_dir)
    assert loaded is not None and {c.transcript for c in loaded.chunks} == {"alpha.txt", "beta.srt"}
    assert (len(loaded.chunks), len(loaded.turn_keys)) == (records["chunks"], records["turns"])
    again = QaBot.open(corpus, index_dir, Settings(), FakeEmbedder())
    assert again.report.embedded == 0 and "papayas" in again.ask("What fruit does Alice love?").top.quote


# --- atomic writes ---------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies here: nothing may catch it (it is not an Exception)."""


def crash_faiss_write(monkeypatch, on_call: int) -> None:
    """Make the ``on_call``-th ``faiss.write_index`` write half a file, then die."""
    import faiss

    real = faiss.write_index
    calls = {"n": 0}

    def write_index(index, path):
        calls["n"] += 1
        if calls["n"] == on_call:
            real(index, path)
            data = Path(path).read_bytes()
            Path(path).write_bytes(data[: len(data) // 2])
            raise Crash(f"killed while writing {path}")
        return real(index, path)

    monkeypatch.setattr(faiss, "write_index", write_index)


def crash_manifest_rename(monkeypatch) -> None:
    """Die after the new manifest's temporary file is written, just before it replaces the old."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == index_mod.MANIFEST:
            raise Crash("killed before the manifest was switched")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def crash_manifest_body(monkeypatch) -> None:
    """Die half-way through writing the manifest's text."""
    real = Path.write_text

    def write_text(self, text, *args, **kwargs):
        if index_mod.MANIFEST in self.name:
            real(self, text[: len(text) // 2], *args, **kwargs)
            raise Crash("killed while writing the manifest")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


@pytest.mark.parametrize("crash", ["chunks_faiss", "turns_faiss", "manifest_body", "manifest_rename"])
def test_crash_in_the_middle_of_a_write_leaves_the_previous_index(corpus, index_dir, monkeypatch,
                                                                  crash):
    before_bot = open_bot(corpus, index_dir, FakeEmbedder())
    before = answers(before_bot)
    manifest_before = (index_dir / "manifest.json").read_bytes()
    chunks_before = before_bot.index.chunks

    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    with monkeypatch.context() as patch:
        if crash == "chunks_faiss":
            crash_faiss_write(patch, on_call=1)  # after both JSONL files were written
        elif crash == "turns_faiss":
            crash_faiss_write(patch, on_call=2)  # after three of the four data files
        elif crash == "manifest_body":
            crash_manifest_body(patch)
        else:
            crash_manifest_rename(patch)
        with pytest.raises(Crash):
            open_bot(corpus, index_dir, FakeEmbedder())

    # The previous index is whole: same manifest, loads, and every file matches its checksum.
    assert (index_dir / "manifest.json").read_bytes() == manifest_before
    previous = index_mod.load(index_dir)
    assert previous is not None and previous.chunks == chunks_before
    assert not [p.name for p in index_dir.iterdir() if p.name.endswith(".tmp")]

    # With the corpus as it was, a restart embeds nothing and answers the same.
    (corpus / "delta.txt").unlink()
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == 0 and bot.report.embedded == 0
    assert answers(bot) == before

    # The next successful write sweeps away the crashed generation's files; it keeps the one it
    # replaces, for a reader that had just read its name.
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    bot = open_bot(corpus, index_dir, FakeEmbedder())
    assert bot.report.saved
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    kept = named_files(manifest) | named_files(json.loads(manifest_before))
    kept |= {"manifest.json", ".lock"}
    assert {p.name for p in index_dir.iterdir()} == kept


@pytest.mark.e2e
def test_process_killed_mid_write_leaves_the_previous_index(corpus, index_dir):
    """A real kill (os._exit: no finally, no cleanup) while the new turn vectors are written."""
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / 'tests')!r})
        import faiss
        from helpers import FakeEmbedder
        from qa_bot.bot import QaBot
        from qa_bot.config import Settings
        real, calls = faiss.write_index, []
        def write_index(index, path):
            calls.append(path)
            real(index, path)
            if len(calls) == 2:
                with open(path, "r+b") as f:
                    f.truncate(10)
                os._exit(17)
        faiss.write_index = write_index
        QaBot.open({str(corpus)!r}, {str(index_dir)!r}, Settings(), FakeEmbedder())
    """)
    before_bot = open_bot(corpus, index_dir, FakeEmbedder())
    before = answers(before_bot)
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 17, done.stderr
    (corpus / "delta.txt").unlink()
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == 0
    assert answers(bot) == before


def test_save_failure_is_a_warning_and_the_index_is_served_from_memory(corpus, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    bot = open_bot(corpus, blocker, FakeEmbedder())
    assert not bot.report.saved
    assert any("could not save the index" in w for w in bot.report.warnings)
    assert bot.ask("What fruit does Alice love?").answers[0].transcript == "alpha.txt"


def test_faiss_write_error_is_a_save_failure_not_a_crash(corpus, index_dir, monkeypatch):
    """faiss reports I/O errors (disk full) as RuntimeError; the previous index must survive."""
    import faiss

    open_bot(corpus, index_dir, FakeEmbedder())
    manifest_before = (index_dir / "manifest.json").read_bytes()

    def disk_full(index, path):
        raise RuntimeError("Error in faiss::FileIOWriter: fwrite failed (No space left on device)")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    (corpus / "delta.txt").write_text(DELTA, encoding="utf-8")
    bot = open_bot(corpus, index_dir, FakeEmbedder())
    assert not bot.report.saved
    assert any("No space left" in w for w in bot.report.warnings)
    assert bot.ask("hydrogen engines").answers[0].transcript == "delta.txt"
    assert (index_dir / "manifest.json").read_bytes() == manifest_before


# --- damaged files ---------------------------------------------------------------------------


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "delete":
        path.unlink()
    else:  # one byte changed in the middle; a JSONL file stays valid JSON Lines
        middle = len(data) // 2
        if path.suffix == ".jsonl":
            middle = data.index(b'"transcript": "') + len(b'"transcript": "')
        changed = b"X" if data[middle:middle + 1] != b"X" else b"Y"
        path.write_bytes(data[:middle] + changed + data[middle + 1:])


@pytest.mark.parametrize("how", ["truncate", "alter", "delete"])
@pytest.mark.parametrize("role", DATA_ROLES)
def test_damaged_data_file_is_detected_and_the_index_rebuilt(corpus, index_dir, caplog, role, how):
    first = open_bot(corpus, index_dir, FakeEmbedder())
    before = answers(first)
    total = first.report.embedded
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    damage(index_dir / manifest["files"][role]["name"], how)

    caplog.set_level(logging.WARNING, logger="qa_bot.index")
    assert index_mod.load(index_dir) is None  # never served
    assert "unusable" in caplog.text
    embedder = FakeEmbedder()
    bot = open_bot(corpus, index_dir, embedder)
    assert embedder.calls == bot.report.embedded == total  # rebuilt from scratch
    assert bot.report.saved
    assert bot.index.chunks == first.index.chunks
    assert answers(bot) == before
    assert index_mod.load(index_dir) is not None


@pytest.mark.parametrize("how", ["truncate", "garbage", "delete"])
def test_damaged_manifest_forces_a_rebuild(corpus, index_dir, how):
    first = open_bot(corpus, index_dir, FakeEmbedder())
    manifest = index_dir / "manifest.json"
    if how == "truncate":
        manifest.write_bytes(manifest.read_bytes()[:100])
    elif how == "garbage":
        manifest.write_text('["not", "a", "manifest"]')
    else:
        manifest.unlink()
    embedder = FakeEmbedder()
    open_bot(corpus, index_dir, embedder)
    assert embedder.calls == first.report.embedded
    assert index_mod.load(index_dir) is not None


# --- model and chunk settings ----------------------------------------------------------------


class OtherModel(FakeEmbedder):
    name = "another-model"


class RetrainedWeights(FakeEmbedder):
    weights_sha256 = "1" * 64


@pytest.mark.parametrize("change", ["model", "weights", "chunk_sentences", "chunk_stride"])
def test_model_or_chunk_settings_change_forces_a_full_reembed(corpus, index_dir, tmp_path, change,
                                                              caplog):
    open_bot(corpus, index_dir, FakeEmbedder())
    embedder_cls: type[FakeEmbedder] = FakeEmbedder
    settings = Settings()
    if change == "model":
        embedder_cls = OtherModel
    elif change == "weights":
        embedder_cls = RetrainedWeights
    elif change == "chunk_sentences":
        settings = Settings(chunk_sentences=3, chunk_stride=1)
    else:
        settings = Settings(chunk_sentences=2, chunk_stride=2)

    caplog.set_level(logging.INFO, logger="qa_bot.index")
    embedder = embedder_cls()
    bot = open_bot(corpus, index_dir, embedder, settings)
    assert bot.report.reused == []
    assert embedder.calls == bot.report.embedded == full_count(tmp_path, FILES, embedder_cls(), settings)
    assert "re-embedding everything" in caplog.text
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == embedder.name
    assert manifest["weights_sha256"] == embedder.weights_sha256
    assert (manifest["chunk_sentences"], manifest["chunk_stride"]) == \
        (settings.chunk_sentences, settings.chunk_stride)
    # And the new settings stick: the next restart reuses everything.
    again = embedder_cls()
    open_bot(corpus, index_dir, again, settings)
    assert again.calls == 0


def test_records_holding_unicode_line_separators_survive_a_restart(tmp_path):
    corpus = tmp_path / "talks"
    corpus.mkdir()
    (corpus / "odd.txt").write_text("Ann: One\u2028two\u0085three. Four.\nBob: Five.\n", "utf-8")
    embedder = FakeEmbedder()
    first = open_bot(corpus, tmp_path / "index", embedder)
    second = open_bot(corpus, tmp_path / "index", embedder)
    assert second.report.embedded == 0
    assert [c.text for c in second.index.chunks] == [c.text for c in first.index.chunks]
