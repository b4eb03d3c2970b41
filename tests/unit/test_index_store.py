"""What a restart reads, and how fast: an unchanged index is served as read (never copied into a
new FAISS index), its records are parsed in one call and still name a bad line, and chunks made
from records are the chunks that were written."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from helpers import TALKS, write_corpus

import qa_bot
from qa_bot import index as index_mod
from qa_bot import index_store
from qa_bot.chunking import Chunk
from qa_bot.index_store import _parsed


def test_an_unchanged_index_is_served_as_read_not_reassembled(tmp_path, fake_embedder, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", TALKS)
    first = qa_bot.load(corpus, tmp_path / "index", embedder=fake_embedder)
    before = [first.ask(q).to_dict() for q in ("Where does Alice live?", "Why the bakery?")]

    def reassembled(*args, **kwargs):
        raise AssertionError("an unchanged index was copied into a new one")

    monkeypatch.setattr(index_mod, "_assemble", reassembled)
    bot = qa_bot.QaBot.open(corpus, tmp_path / "index", embedder=fake_embedder)
    assert sorted(bot.report.reused) == sorted(TALKS) and bot.report.embedded == 0
    assert bot.index.lexical is not None  # the saved BM25 files, memory-mapped
    assert [bot.ask(q).to_dict() for q in ("Where does Alice live?", "Why the bakery?")] == before


def test_a_changed_title_or_order_is_not_served_as_read(tmp_path, fake_embedder, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", TALKS)
    qa_bot.load(corpus, tmp_path / "index", embedder=fake_embedder)
    calls = []
    real = index_mod._assemble
    monkeypatch.setattr(index_mod, "_assemble", lambda *a, **k: calls.append(1) or real(*a, **k))
    old = index_store.load(tmp_path / "index")
    assert old is not None
    bot = qa_bot.QaBot.open(corpus, tmp_path / "index", embedder=fake_embedder)
    transcripts = list(bot.transcripts.values())
    assert calls == []
    # The same transcripts in another order: the saved rows no longer tile them in order.
    index, report = index_mod.sync(transcripts[::-1], tmp_path / "index", fake_embedder, qa_bot.Settings())
    assert calls == [1] and report.embedded == 0
    assert list(index.manifest.transcripts) == [t.name for t in transcripts[::-1]]
    # A title that changed without the file changing (as the manifest would otherwise lie).
    retitled = [replace(transcripts[0], title="Another title"), *transcripts[1:]]
    index, _ = index_mod.sync(retitled, tmp_path / "index", fake_embedder, qa_bot.Settings(), save=False)
    assert calls == [1, 1] and index.manifest.transcripts[transcripts[0].name].title == "Another title"


def test_records_parse_in_one_call_and_a_bad_line_is_named(tmp_path):
    path = tmp_path / "chunks-x.jsonl"
    records = [{"a": 1, "b": "x\u2028y"}, {"a": 2}, [3]]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert _parsed(path) == records
    for bad in ('{"a": 2', '{"a": 2}, {"a": 3}', "1, 2"):
        path.write_text(f'{{"a": 1}}\n{bad}\n{{"a": 4}}\n', encoding="utf-8")
        with pytest.raises(ValueError, match=r"chunks-x\.jsonl line 2"):
            _parsed(path)


def test_a_chunk_from_its_record_is_the_chunk_written():
    chunk = Chunk("a.txt", 3, "Alice", 10, 40, 2, "Some words.", "Why?", 2, 1.5, 3.0, "speech")
    again = Chunk.from_dict(json.loads(json.dumps(chunk.to_dict())))
    assert again == chunk and hash(again) == hash(chunk) and type(again) is Chunk
    with pytest.raises(AttributeError):
        again.text = "other"  # type: ignore[misc]  # still frozen
    short = {k: v for k, v in chunk.to_dict().items() if k != "kind"}
    assert Chunk.from_dict(short).kind == "speech"  # a field left out takes its default
    with pytest.raises(TypeError):
        Chunk.from_dict({**chunk.to_dict(), "extra": 1})
