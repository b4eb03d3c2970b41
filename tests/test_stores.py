"""The store contract, run against every backend: the embedded FAISS store, Milvus (milvus-lite
in a temporary file, started in process) and, when ``QA_BOT_TEST_MILVUS_URI`` names one (``.ci/run``
starts a Milvus 2.3 standalone server on loopback), a real Milvus server; then the bot's answers,
which must not depend on it."""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import numpy as np
import pytest
from conftest import TALKS, FakeEmbedder, write_corpus

from qa_bot import cli
from qa_bot.bot import QaBot
from qa_bot.chunking import Chunk
from qa_bot.config import Settings
from qa_bot.stores.base import Scope, TranscriptPart, chunk_id
from qa_bot.stores.faiss_store import FaissStore

# Read at import: the autouse isolation fixture clears QA_BOT_* variables for each test.
SERVER = os.environ.get("QA_BOT_TEST_MILVUS_URI", "")
NO_SERVER = pytest.mark.skipif(not SERVER, reason="no Milvus server: set QA_BOT_TEST_MILVUS_URI "
                               "(.ci/run starts one) to run the contract against it")
MILVUS = ["milvus-lite", pytest.param("milvus-server", marks=NO_SERVER)]
BACKENDS = ["faiss", *MILVUS]
DIM = 16
SPEAKERS = ["Alice", "Bob", "host"]
WORDS = ["river", "bread", "mango", "ferry", "harbour", "winter", "garden", "tractor", "violin",
         "lantern", "copper", "meadow", "orchard", "granite", "pepper", "saddle", "thunder", "marble",
         "cactus", "falcon"]
ODD = 'it\'s "odd" \\ name á.txt'  # quotes, a backslash, non-ASCII: filters must escape them


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_part(name: str, n: int, seed: int, fingerprint: str = "f1") -> TranscriptPart:
    """``n`` chunks of made-up words, speakers taking turns, every third an interviewer's question."""
    rng = np.random.default_rng(seed)
    chunks = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS, 6)) + "."
        kind = "question" if i % 3 == 2 else "speech"
        chunks.append(Chunk(name, i // 2, SPEAKERS[i % 3], 10 * i, 10 * i + len(text), i + 1, text,
                            kind=kind))
    contexts = [" ".join(c.text for c in chunks[max(0, i - 1):i + 2]) for i in range(n)]
    return TranscriptPart(name, fingerprint, chunks, unit_rows(rng, n), contexts)


# On the server, one pair of collections for this module's run (creating and loading them takes
# seconds there), emptied before each test that uses them and dropped at the end.
PREFIX = f"t{uuid.uuid4().hex[:16]}"


def open_store(kind: str, folder: Path, dim: int = DIM):
    if kind == "faiss":
        return FaissStore([], dim)
    from qa_bot.stores.milvus_store import MilvusStore

    if kind == "milvus-server":
        return MilvusStore(SERVER, dim, prefix=PREFIX)
    return MilvusStore(f"milvus-lite:{folder / 'store.db'}", dim)


def server_collections(prefix: str, drop: bool) -> None:
    """Empty (or drop) the server's collections named with ``prefix``."""
    from qa_bot.stores.milvus_store import client_for

    client, _ = client_for(SERVER)
    try:
        for name in client.list_collections():
            if name == f"{prefix}_chunks" or name == f"{prefix}_transcripts":
                if drop:
                    client.drop_collection(name)
                else:
                    key = "id" if name.endswith("_chunks") else "name"
                    client.delete(name, filter=f'{key} != ""')
    finally:
        client.close()


@pytest.fixture(scope="module", autouse=True)
def _drop_server_collections():
    yield
    if SERVER:
        server_collections(PREFIX, drop=True)
        server_collections("qa_bot", drop=True)


@pytest.fixture
def server_cleanup():
    if SERVER:
        server_collections(PREFIX, drop=False)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path, server_cleanup):
    s = open_store(request.param, tmp_path)
    for seed, (name, n) in enumerate([("a.txt", 30), ("b.txt", 25), (ODD, 12)]):
        s.replace_transcript(make_part(name, n, seed))
    yield s
    s.close()


PARTS = {name: make_part(name, n, seed) for seed, (name, n) in enumerate([("a.txt", 30), ("b.txt", 25),
                                                                           (ODD, 12)])}


def everything() -> tuple[list[str], np.ndarray, list[Chunk]]:
    ids = [chunk_id(n, i) for n, p in PARTS.items() for i in range(len(p.chunks))]
    return ids, np.vstack([p.vectors for p in PARTS.values()]), [c for p in PARTS.values() for c in p.chunks]


def in_scope(chunk: Chunk, scope: Scope) -> bool:
    return ((scope.transcript is None or chunk.transcript == scope.transcript)
            and (scope.speaker is None or (chunk.speaker or "").casefold() == scope.speaker.casefold())
            and (scope.asking or chunk.kind != "question"))


SCOPES = [Scope(), Scope("b.txt"), Scope(speaker="ALICE"), Scope(ODD, "bob"), Scope(asking=False),
          Scope("a.txt", "alice", asking=False), Scope("nobody.txt")]


@pytest.mark.parametrize("scope", SCOPES)
def test_dense_equals_brute_force_within_the_scope(store, scope):
    ids, vectors, chunks = everything()
    for query in unit_rows(np.random.default_rng(99), 5):
        brute = [(ids[i], float(vectors[i] @ query)) for i in np.argsort(-(vectors @ query))
                 if in_scope(chunks[i], scope)][:10]
        hits = store.dense(query, 10, scope)
        assert [h.id for h in hits] == [i for i, _ in brute]
        np.testing.assert_allclose([h.score for h in hits], [s for _, s in brute], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("field", ["chunk", "context"])
def test_lexical_stays_in_scope_and_matches_the_embedded_scores(store, scope, field, tmp_path):
    reference = open_store("faiss", tmp_path)
    for part in PARTS.values():
        reference.replace_transcript(part)
    _, _, chunks = everything()
    by_id = dict(zip(everything()[0], chunks, strict=True))
    found = 0
    for question in ("river mango", "copper falcon thunder", "violin", " ".join(WORDS)):
        hits = store.lexical(question, 15, scope, field)
        found += len(hits)
        assert all(in_scope(by_id[h.id], scope) for h in hits)
        assert all(h.score > 0 for h in hits)
        expected = reference.lexical(question, 15, scope, field)
        assert [h.id for h in hits] == [h.id for h in expected]
        # To the last bit: a transcript scored alone (Milvus) or with others (FAISS) alike.
        assert [h.score for h in hits] == [h.score for h in expected]
        some = [h.id for h in expected][:5]
        np.testing.assert_array_equal(store.lexical_scores(question, some, field),
                                      reference.lexical_scores(question, some, field))
    assert found or scope.transcript == "nobody.txt"


def test_fetch_returns_the_records_and_vectors_stored(store):
    ids, vectors, chunks = everything()
    pick = [ids[40], ids[0], ids[-1], ids[7]]
    records, got = store.fetch(pick)
    assert records == [chunks[40], chunks[0], chunks[-1], chunks[7]]
    np.testing.assert_array_equal(got, vectors[[40, 0, len(ids) - 1, 7]])
    with pytest.raises(KeyError):
        store.fetch([chunk_id("a.txt", 999)])


def test_replace_swaps_a_transcripts_chunks_and_fingerprint(store):
    assert store.transcripts() == {"a.txt": "f1", "b.txt": "f1", ODD: "f1"}
    new = make_part("a.txt", 4, seed=7, fingerprint="f2")
    store.replace_transcript(new)
    assert store.transcripts()["a.txt"] == "f2"
    records, vectors = store.fetch([chunk_id("a.txt", i) for i in range(4)])
    assert records == list(new.chunks)
    np.testing.assert_array_equal(vectors, new.vectors)
    with pytest.raises(KeyError):  # the old chunks past the new count are gone
        store.fetch([chunk_id("a.txt", 4)])
    hits = store.dense(new.vectors[2], 100, Scope("a.txt"))
    assert sorted(h.id for h in hits) == [chunk_id("a.txt", i) for i in range(4)]
    assert hits[0].id == chunk_id("a.txt", 2)


def test_delete_leaves_no_orphans(store):
    store.delete_transcript("b.txt")
    store.delete_transcript("never-stored.txt")  # no error
    assert set(store.transcripts()) == {"a.txt", ODD}
    query = PARTS["b.txt"].vectors[0]
    assert not [h for h in store.dense(query, 1000, Scope()) if h.id.startswith("b.txt#")]
    assert store.dense(query, 10, Scope("b.txt")) == []
    words = " ".join(c.text for c in PARTS["b.txt"].chunks)
    assert not [h for h in store.lexical(words, 1000, Scope(), "chunk") if h.id.startswith("b.txt#")]
    assert store.lexical(words, 10, Scope("b.txt"), "context") == []
    with pytest.raises(KeyError):
        store.fetch([chunk_id("b.txt", 0)])


@pytest.mark.parametrize("kind", MILVUS)
def test_a_milvus_store_reopened_in_a_new_client_finds_the_same(kind, tmp_path, server_cleanup):
    first = open_store(kind, tmp_path)
    for part in PARTS.values():
        first.replace_transcript(part)
    query = unit_rows(np.random.default_rng(5), 1)[0]
    before = first.dense(query, 20, Scope())
    first.close()
    again = open_store(kind, tmp_path)
    try:
        assert again.transcripts() == {name: "f1" for name in PARTS}
        assert again.dense(query, 20, Scope()) == before
        assert again.lexical("river mango", 5, Scope()) != []
    finally:
        again.close()


@pytest.mark.parametrize("kind", MILVUS)
def test_a_store_of_another_dimension_is_refused(kind, tmp_path, server_cleanup):
    from qa_bot.stores.milvus_store import StoreError

    open_store(kind, tmp_path).close()
    with pytest.raises(StoreError, match="16 dimensions"):
        open_store(kind, tmp_path, dim=32)


# --- the bot answers alike from every store -------------------------------------------------


def generated_corpus(folder: Path, seed: int = 3) -> Path:
    """A few labelled talks of made-up sentences, speakers answering a host's questions."""
    rng = np.random.default_rng(seed)
    files = dict(TALKS)
    for t in range(4):
        lines = []
        for _ in range(6):
            lines.append(f"Host: What about the {rng.choice(WORDS)} and the {rng.choice(WORDS)}?")
            for _ in range(2):
                speaker = ["Mira Holt", "Tomas Berg"][int(rng.integers(2))]
                sentences = [f"The {' '.join(rng.choice(WORDS, 3))} went {rng.choice(WORDS)}."
                             for _ in range(3)]
                lines.append(f"{speaker}: {' '.join(sentences)}")
        files[f"talk-{t}.txt"] = "\n".join(lines) + "\n"
    return write_corpus(folder, files)


QUESTIONS = [("Where does Alice live?", None, None), ("What about the river and the mango?", None, None),
             ("Why bake rye bread?", None, None), ("copper lantern garden", "talk-1.txt", None),
             ("What did Tomas say about the falcon?", None, "tomas berg"),
             ("What did the host ask about winter?", None, None), ("zebra quantum", None, None)]


def answers(bot: QaBot) -> list[dict]:
    out = []
    for question, transcript, speaker in QUESTIONS:
        result = bot.ask(question, 5, transcript, speaker).to_dict()
        for a in result["answers"]:
            a["score"] = round(a["score"], 3)
        out.append(result)
    return out


@pytest.mark.parametrize("kind", MILVUS)
def test_the_bot_answers_the_same_from_faiss_and_milvus(kind, tmp_path):
    corpus = generated_corpus(tmp_path / "corpus")
    embedded = QaBot.open(corpus, tmp_path / "index", Settings(), FakeEmbedder())
    if kind == "milvus-server":  # the bot's collections (prefix qa_bot), from nothing
        server_collections("qa_bot", drop=True)
    spec = SERVER if kind == "milvus-server" else f"milvus-lite:{tmp_path / 'bot.db'}"
    milvus = QaBot.open(corpus, tmp_path / "index2", Settings(store=spec), FakeEmbedder())
    assert type(milvus.retriever().store).__name__ == "MilvusStore"
    expected = answers(embedded)
    assert sum(len(r["answers"]) for r in expected) > 20
    assert answers(milvus) == expected
    # An upload reaches the engine, and its removal leaves nothing of it there.
    milvus.add_transcript("extra.txt", b"Host: What is the saddle?\nMira Holt: The saddle is copper.\n")
    assert "extra.txt" in milvus.retriever().store.transcripts()
    assert milvus.ask("Is the saddle copper?").answers[0].transcript == "extra.txt"
    milvus.remove_transcript("extra.txt")
    assert "extra.txt" not in milvus.retriever().store.transcripts()
    assert answers(milvus) == expected


def test_cli_migrate_then_ask_from_milvus_lite(tmp_path, monkeypatch):
    import qa_bot.bot as bot_mod

    monkeypatch.setattr(bot_mod, "SentenceTransformerEmbedder", lambda *a, **k: FakeEmbedder())
    corpus = write_corpus(tmp_path / "talks", TALKS)
    common = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]

    def run(*args: str) -> tuple[int, str]:
        out = io.StringIO()
        return cli.main([*args, *common], stdout=out), out.getvalue()

    assert run("index")[0] == 0
    uri = f"milvus-lite:{tmp_path / 'm.db'}"
    code, out = run("migrate", "--from", str(tmp_path / "index"), "--to", uri)
    assert code == 0 and "replaced 2" in out
    embedded = json.loads(run("ask", "--json", "Where does Alice live?")[1])
    code, out = run("ask", "--json", "--store", uri, "Where does Alice live?")
    assert code == 0 and json.loads(out) == embedded
    assert "Lisbon" in embedded["answers"][0]["quote"]


@pytest.mark.parametrize("kind", MILVUS)
def test_the_app_started_with_store_answers_as_from_faiss(kind, tmp_path, capsys):
    """``app.py --store URI`` (the same flag as the CLI's): the page's chat and its /ask endpoint
    answer from the engine what they answer from the embedded store."""
    import app
    from qa_bot import page_state, serving

    corpus = generated_corpus(tmp_path / "corpus")
    spec = SERVER if kind == "milvus-server" else f"milvus-lite:{tmp_path / 'app.db'}"
    if kind == "milvus-server":
        server_collections("qa_bot", drop=True)
    previous = page_state.holder()
    got = {}
    try:
        for name, flags in (("faiss", []), ("milvus", ["--store", spec])):
            args = serving.parse_args(["--corpus", str(corpus), "--index", str(tmp_path / name), *flags])
            settings, _ = serving.settings_of(args)
            assert settings.store == (spec if flags else "")
            app.configure(args.corpus, args.index_dir, settings, embedder=FakeEmbedder())
            store = page_state.bot().retriever().store
            assert type(store).__name__ == ("MilvusStore" if flags else "FaissStore")
            chats = [app.respond(q, [], t or app.ALL, s or app.ALL, 3)[0][-1]["content"]
                     for q, t, s in QUESTIONS]
            asked = [app.ask(q, 3, t or "", s or "") for q, t, s in QUESTIONS]
            got[name] = chats, asked
            if flags:
                store.close()
    finally:
        page_state.reset(previous)
    assert got["milvus"] == got["faiss"]
    assert sum(len(a["answers"]) for a in got["faiss"][1]) > 10
    with pytest.raises(SystemExit):  # a store that is no URI: one line, exit status 2
        serving.settings_of(serving.parse_args(["--corpus", str(corpus), "--store", "mysql://x"]))
    assert "store (QA_BOT_STORE): expected faiss" in capsys.readouterr().err
