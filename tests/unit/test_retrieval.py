"""Retrieval: exact search against brute force, and Retriever.search's ranking and scopes."""

from __future__ import annotations

import helpers
import numpy as np
import pytest
from helpers import FakeEmbedder, unit_rows

from qa_bot import index as index_mod
from qa_bot import lexical as lexical_mod
from qa_bot import retrieval
from qa_bot.config import Settings
from qa_bot.parsers.corpus import parse
from qa_bot.ranker import FEATURES
from qa_bot.retrieval import Retriever

# --- semantic_search_scores against a brute-force answer -------------------------------------


@pytest.mark.parametrize("top_k", [1, 5, 37, 500, 1000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_semantic_search_matches_brute_force(seed, top_k):
    rng = np.random.default_rng(seed)
    corpus = unit_rows(rng, 500, 48)
    for query in unit_rows(rng, 10, 48):
        hits = retrieval.semantic_search_scores(corpus @ query, top_k)
        brute = np.array([float(np.dot(query, row)) for row in corpus])  # no matrix product
        order = np.argsort(-brute, kind="stable")[: min(top_k, len(corpus))]
        assert [row for row, _ in hits] == order.tolist()
        np.testing.assert_allclose([score for _, score in hits], brute[order], rtol=1e-5, atol=1e-6)
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)


def test_semantic_search_breaks_ties_by_row():
    rng = np.random.default_rng(7)
    base = unit_rows(rng, 4, 16)
    corpus = np.vstack([base[2], base[0], base[2], base[1], base[2]])  # rows 0, 2, 4 tie
    hits = retrieval.semantic_search_scores(corpus @ base[2], 3)
    assert [row for row, _ in hits] == [0, 2, 4]
    np.testing.assert_allclose([s for _, s in hits], 1.0, rtol=1e-5)


def test_semantic_search_of_nothing_is_empty():
    assert retrieval.semantic_search_scores(np.zeros(0, np.float32), 5) == []


# --- Retriever.search over small fake-embedder corpora ---------------------------------------

ALPHA = helpers.ALPHA + "Bob: I live in Porto. The river there is wider.\n"
BETA = (
    "Q: Why did you start the bakery?\n"
    "A: My grandmother baked rye bread every Sunday near the river. I kept her recipe.\n"
    "Q: What was the hardest part?\n"
    "A: Getting up at three in the morning. A zeppelin once landed in our yard.\n"
)


def build(files: dict[str, str], settings: Settings | None = None):
    settings = settings or Settings()
    transcripts = [parse(name, text.encode()) for name, text in files.items()]
    index, _ = index_mod.sync(transcripts, None, FakeEmbedder(), settings)
    return index, Retriever(index, settings)


def query(text: str) -> np.ndarray:
    return FakeEmbedder().encode([text])[0]


@pytest.fixture
def small():
    return build({"alpha.txt": ALPHA, "beta.txt": BETA})


QUESTIONS = ["Where does Alice live?", "river", "Why did you start the bakery?", "mangoes juicy",
             "what happened in the morning", "Who lives in Porto?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_hits_are_sorted_by_falling_score_and_dense_is_the_cosine(small, question):
    index, retriever = small
    q = query(question)
    hits = retriever.search(q, question, top_k=50)
    assert hits, question
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.row for h in hits}) == len(hits)
    for hit in hits:
        chunk = index.chunks[hit.row]
        expected = float(query(index_mod.embed_text(chunk.speaker, chunk.text)) @ q)
        assert hit.dense == pytest.approx(expected, abs=1e-5)
        # BM25 over the sum of the question's IDFs: a word said once scores at most K1 + 1.
        assert 0.0 <= hit.lexical < lexical_mod.K1 + 1


def test_top_k_limits_hits_to_the_best(small):
    _, retriever = small
    q = query("river")
    everything = retriever.search(q, "river", top_k=50)
    assert len(everything) > 3
    assert retriever.search(q, "river", top_k=3) == everything[:3]


@pytest.mark.parametrize("name", ["alpha.txt", "beta.txt"])
def test_scoped_to_a_transcript_only_its_chunks(small, name):
    index, retriever = small
    # The interviewer's questions answer only questions about asking.
    own = {row for row, c in enumerate(index.chunks) if c.transcript == name and c.kind != "question"}
    assert own and len(own) < len(index.chunks)
    for question in QUESTIONS:
        hits = retriever.search(query(question), question, top_k=50, transcript=name)
        assert {index.chunks[h.row].transcript for h in hits} <= {name}
    # Every chunk in scope is reachable (the question shares words with all of them).
    hits = retriever.search(query("river morning mangoes"), "river", top_k=50, transcript=name)
    assert {h.row for h in hits} == own


def test_transcript_scope_ranks_like_the_unscoped_search_without_lexical(small):
    """Dense and question scores do not depend on the scope: the scoped ranking is the unscoped
    one restricted to the transcript (BM25 left out: it is normalised within the scope)."""
    settings = Settings(weight_lexical=0.0, weight_context=0.0)
    index, retriever = build({"alpha.txt": ALPHA, "beta.txt": BETA}, settings)
    question = "Where does he live near the river?"
    q = query(question)
    everything = retriever.search(q, question, top_k=100)
    scoped = retriever.search(q, question, top_k=100, transcript="beta.txt")
    assert scoped
    expected = [h for h in everything if index.chunks[h.row].transcript == "beta.txt"]
    assert [h.row for h in scoped] == [h.row for h in expected]
    assert [h.score for h in scoped] == pytest.approx([h.score for h in expected])


def test_scope_finds_a_small_transcript_beyond_the_candidate_limit():
    """More chunks than the per-signal candidate limit match better outside the scope; the
    scoped search must still return the transcript's own chunks."""
    big = "".join(f"Speaker{n}: Apples are red number {n}.\n" for n in range(retrieval.CANDIDATES + 40))
    small_text = "Zed: Winter tyres grip the ice.\nZed: Chains help on snow.\n"
    index, retriever = build({"big.txt": big, "small.txt": small_text})
    q = query("apples are red")
    unscoped = retriever.search(q, "apples are red", top_k=10)
    assert all(index.chunks[h.row].transcript == "big.txt" for h in unscoped)
    scoped = retriever.search(q, "apples are red", top_k=10, transcript="small.txt")
    assert sorted(index.chunks[h.row].text for h in scoped) == [
        "Chains help on snow.", "Winter tyres grip the ice."]


def test_scoped_to_a_speaker_case_insensitively(small):
    index, retriever = small
    for speaker in ("Bob", "bob", "ALICE"):
        for question in QUESTIONS:
            hits = retriever.search(query(question), question, top_k=50, speaker=speaker)
            assert {index.chunks[h.row].speaker.casefold() for h in hits} <= {speaker.casefold()}
    hits = retriever.search(query("river"), "river", top_k=50, speaker="bob")
    assert [index.chunks[h.row].text for h in hits] == ["I live in Porto. The river there is wider."]


def test_unknown_or_empty_scope_gives_no_hits(small):
    _, retriever = small
    q = query("river")
    assert retriever.search(q, "river", transcript="missing.txt") == []
    assert retriever.search(q, "river", speaker="Nobody") == []
    assert retriever.search(q, "river", transcript="alpha.txt", speaker="Interviewee") == []


def test_lexical_only_ranks_the_chunk_with_the_rare_word_first():
    lexical_only = Settings(weight_dense=0.0, weight_context=0.0, weight_question=0.0,
                            weight_lexical=1.0)
    index, retriever = build({"alpha.txt": ALPHA, "beta.txt": BETA}, lexical_only)
    # The query vector points at a different chunk altogether: only the words can find it.
    decoy = next(c for c in index.chunks if "mangoes" in c.text)
    q = query(index_mod.embed_text(decoy.speaker, decoy.text))
    hits = retriever.search(q, "Did a zeppelin land?", top_k=5)
    top = index.chunks[hits[0].row]
    assert "zeppelin" in top.text
    assert hits[0].lexical > 0 and all(h.lexical == 0 for h in hits[1:])
    assert all(h.score < hits[0].score for h in hits[1:])

    # Control: with dense only, the same query vector finds the decoy, so the weights matter.
    dense_only = Settings(weight_dense=1.0, weight_context=0.0, weight_question=0.0, weight_lexical=0.0)
    index, retriever = build({"alpha.txt": ALPHA, "beta.txt": BETA}, dense_only)
    hits = retriever.search(q, "Did a zeppelin land?", top_k=5)
    assert index.chunks[hits[0].row].text == decoy.text


def test_lexical_scores_are_zero_for_unknown_words(small):
    index, retriever = small
    ids = retriever.ids
    scores = retriever.store.lexical_scores("xylophone quasar", ids)
    assert scores.shape == (len(index.chunks),)
    assert not scores.any()
    scores = retriever.store.lexical_scores("mangoes", ids)
    assert np.count_nonzero(scores) == 1
    assert "mangoes" in index.chunks[int(np.argmax(scores))].text


def test_search_over_an_empty_index_is_empty():
    index, _ = index_mod.sync([], None, FakeEmbedder(), Settings())
    assert Retriever(index, Settings()).search(query("anything"), "anything") == []


# --- the brevity penalty ------------------------------------------------------------------------


def test_brevity_is_zero_from_the_limit_up_and_falls_below_it():
    chars = np.array([0, 1, 5, 20, retrieval.BRIEF_CHARS - 2, retrieval.BRIEF_CHARS - 1,
                      retrieval.BRIEF_CHARS, 500])
    penalty = retrieval.brevity(chars)
    assert penalty[-2:].tolist() == [0.0, 0.0]
    assert penalty[-3] == 0.0  # (chars + 1) reaches the limit
    assert np.all(np.diff(penalty) >= 0) and np.all(penalty[:-3] < 0)
    assert penalty[0] == pytest.approx(np.log(1 / retrieval.BRIEF_CHARS))


# "Yeah, the river." matches the question's words best, but says nothing; the long turn answers.
BACKCHANNEL = (
    "Host: Tell me about the river.\n"
    "Ana: Yeah, the river.\n"
    "Ben: The river floods the lower town every spring.\n"
)


def _top_speaker(settings: Settings, with_transcripts: bool) -> str | None:
    transcripts = [parse("town.txt", BACKCHANNEL.encode())]
    index, _ = index_mod.sync(transcripts, None, FakeEmbedder(), settings)
    by_name = {t.name: t for t in transcripts} if with_transcripts else None
    retriever = Retriever(index, settings, by_name)
    hits = retriever.search(query("the river"), "the river", top_k=5)
    return index.chunks[hits[0].row].speaker


@pytest.mark.parametrize("ranker", ["", "fallback"])
def test_a_turn_of_a_few_words_loses_to_one_that_says_something(ranker):
    with_transcripts = True
    assert _top_speaker(Settings(ranker=ranker), with_transcripts) == "Ben"
    # Control: without the penalty the backchannel wins, so the penalty is what decides.
    assert _top_speaker(Settings(ranker=ranker, weight_brevity=0.0), with_transcripts) == "Ana"


def test_brevity_is_measured_on_the_whole_turn_not_the_chunk():
    """A short last sentence of a long turn is not penalised: the turn says plenty."""
    long_turn = ("Ben: The river floods the lower town every spring, and the bakers moved their "
                 "ovens uphill long ago. Yes.\n")
    transcripts = [parse("t.txt", long_turn.encode())]
    index, _ = index_mod.sync(transcripts, None, FakeEmbedder(), Settings(chunk_sentences=1))
    retriever = Retriever(index, Settings(), {"t.txt": transcripts[0]})
    short = next(row for row, c in enumerate(index.chunks) if c.text == "Yes.")
    assert retriever.brief[short] == 0.0
    assert Retriever(index, Settings()).brief[short] < 0  # no transcripts: the chunk's length


def test_exhaustive_search_scores_every_chunk_in_scope_and_agrees_on_the_best(small):
    index, retriever = small
    own = {row for row, c in enumerate(index.chunks) if c.transcript == "alpha.txt" and c.kind != "question"}
    q = query("Where does Alice live?")
    everything = retriever.search(q, "Where does Alice live?", 10**6, "alpha.txt", exhaustive=True)
    assert {h.row for h in everything} == own
    best = retriever.search(q, "Where does Alice live?", 3, "alpha.txt")
    assert everything[:3] == best


def test_relevance_is_the_rankers_calibrated_sum_of_the_signals():
    """Every hit's score is sigmoid(scale * (w . features) + shift) of the ranker in use, the same
    number as its relevance; a chunk answering no interviewer's question has question 0."""
    dialogue = "Ana: The river floods every spring.\nBen: Why does it flood?\nAna: Snow melts.\n"
    seen = set()
    for name in ("", "fallback"):
        for files in ({"alpha.txt": ALPHA, "beta.txt": BETA}, {"d.txt": dialogue}):
            _, retriever = build(files, Settings(ranker=name))
            r = retriever.ranker
            for h in retriever.search(query("why does the river flood"), "why does the river flood", 50):
                z = r.bias + sum(r.weights.get(f, 0.0) * h.features[f] for f in FEATURES)
                assert h.score == h.relevance == pytest.approx(1 / (1 + np.exp(-(r.scale * z + r.shift))))
                if not h.has_question:
                    assert h.question == 0.0
                seen.add(bool(h.has_question))
    assert seen == {True, False}  # both kinds of chunk were checked


def test_scores_do_not_depend_on_the_rest_of_the_corpus():
    """Every chunk of a transcript gets the same relevance and signals whether or not other
    transcripts, which use the question's words many times, sit beside it (issue 10)."""
    noisy = {f"noise{n}.txt": "".join(f"Zed{k}: Where does the river go near the bakery? Porto!\n"
                                      f"Amy{k}: The river goes to Porto, {n} times a day.\n"
                                      for k in range(n + 2)) for n in range(6)}
    question = "Where does he live near the river?"
    scores = []
    for files in ({"alpha.txt": ALPHA}, {"alpha.txt": ALPHA, **noisy}):
        transcripts = [parse(name, text.encode()) for name, text in files.items()]
        index, _ = index_mod.sync(transcripts, None, FakeEmbedder(), Settings())
        retriever = Retriever(index, Settings(), {t.name: t for t in transcripts})
        hits = retriever.search(query(question), question, 10**6, "alpha.txt", exhaustive=True)
        scores.append({index.chunks[h.row].start: (h.relevance, dict(h.features)) for h in hits})
    alone, crowded = scores
    assert alone.keys() == crowded.keys() and alone
    for start, (relevance, features) in alone.items():
        assert crowded[start][0] == pytest.approx(relevance, abs=1e-6)
        assert crowded[start][1] == pytest.approx(features, abs=1e-6)
