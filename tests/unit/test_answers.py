"""Answers: every quote stands verbatim at its offsets, one per turn, with its attribution."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from helpers import ANSWER_KEYS, CORPUS, INTERVIEW, RESULT_KEYS, FakeEmbedder, open_bot
from helpers import write_corpus as write_files

from qa_bot import index as index_mod
from qa_bot import index_check
from qa_bot.answers import Answer, Result, assemble, timestamp
from qa_bot.bot import QaBot
from qa_bot.config import Settings
from qa_bot.parsers.corpus import parse
from qa_bot.retrieval import Hit

LABELLED = (
    "Host: What is your favourite fruit?\n"
    "Alice: I love mangoes. They are sweet and juicy.\n"
    "Host: Where do you live?\n"
    "Alice: I live in Lisbon near the river. The ferries wake me at dawn. The gulls are loud.\n"
)
# Non-ASCII before the quotes (offsets count characters, not bytes) and CRLF line ends.
UNICODE_CRLF = (
    "Interviewer: Qu’est-ce que “le café” veut dire pour vous? 🙂\r\n"
    "Zoë Ørsted: Café crème is my morning ritual — always at 7:15. Naïve people skip it.\r\n"
    "Interviewer: And in the évening?\r\n"
    "Zoë Ørsted: Herbal tea, never coffee after noon.\r\n"
)
SRT = (
    "1\n01:02:03,456 --> 01:02:05,000\nThe budget grew fast in the first year.\n\n"
    "2\n01:02:06,000 --> 01:02:08,000\nIt doubled again in the second year.\n"
)
VTT = (
    "WEBVTT\n\n"
    "00:00:01.000 --> 00:00:04.000\n<v Dana>We planted olive trees on the hill.</v>\n\n"
    "00:01:05.250 --> 00:01:08.000\n<v Eli>Why olives?</v>\n\n"
    "00:01:09.000 --> 00:01:12.000\n<v Dana>They survive the drought. Their roots go deep.</v>\n"
)
JSONL = (
    '{"speaker": "Interviewer", "text": "What fuels the rockets?", "start": 3600}\n'
    '{"speaker": "Gus", "text": "Liquid hydrogen fuels the rockets. It is costly.", "start": 3605.5}\n'
)
JSON_TURNS = json.dumps({"turns": [
    {"speaker": "Host", "text": "Which river is longest?"},
    {"speaker": "Ike", "text": "The Nile is longer than the Amazon, say most atlases."},
]}, indent=1)
FILES = {"labelled.txt": LABELLED, "unicode.txt": UNICODE_CRLF, "clip.srt": SRT,
         "talk.vtt": VTT, "rockets.jsonl": JSONL, "rivers.json": JSON_TURNS}
QUESTIONS = [
    "What fruit does Alice love?", "Where does she live?", "What wakes her at dawn?",
    "What does café mean to Zoë?", "What does she drink in the evening?", "coffee after noon",
    "How fast did the budget grow?", "What happened in the second year?", "Why olives?",
    "Why did they plant olive trees?", "What fuels the rockets?", "Is hydrogen costly?",
    "Which river is longest?", "Nile or Amazon", "gulls", "a question about nothing in particular",
]


def check_result(bot: QaBot, result: Result, top_k: int) -> None:
    """The invariants every result must satisfy, checked against the files on disk."""
    assert len(result.answers) <= top_k
    seen_turns = set()
    for a in result.answers:
        text = bot.transcripts[a.transcript].text
        assert a.quote and a.quote == a.quote.strip()
        assert text[a.start:a.end] == a.quote
        on_disk = (bot.corpus / a.transcript).read_bytes().decode("utf-8")
        assert on_disk[a.start:a.end] == a.quote
        # The context is the whole turn, a slice of the source holding the quote where it says.
        assert text[a.context_start:a.context_start + len(a.context)] == a.context
        assert a.context[a.start - a.context_start:a.end - a.context_start] == a.quote
        assert a.line == on_disk.count("\n", 0, a.start) + 1
        assert a.title == bot.transcripts[a.transcript].title
        if a.in_reply_to is not None:
            assert a.in_reply_to in text[:a.context_start]
        turn = (a.transcript, a.context_start)
        assert turn not in seen_turns, f"two answers from the turn at {turn}"
        seen_turns.add(turn)
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_files(tmp_path / "talks", FILES)


@pytest.fixture
def bot(corpus: Path, tmp_path: Path) -> QaBot:
    bot = open_bot(corpus, tmp_path / "index")
    assert not bot.errors, bot.errors
    return bot


# --- verbatim quotes -------------------------------------------------------------------------


@pytest.mark.parametrize("top_k", [1, 3, 10])
def test_every_quote_stands_verbatim_at_its_offsets(bot, top_k):
    answered = set()
    for question in QUESTIONS:
        result = bot.ask(question, top_k=top_k)
        check_result(bot, result, top_k)
        answered |= {a.transcript for a in result.answers}
    assert answered == set(FILES)  # every format was exercised


def test_quotes_from_a_reloaded_index_stay_verbatim(bot, corpus, tmp_path):
    reloaded = open_bot(corpus, tmp_path / "index")
    assert reloaded.report.embedded == 0
    for question in QUESTIONS:
        result = reloaded.ask(question, top_k=5)
        check_result(reloaded, result, 5)
        assert result.to_dict() == bot.ask(question, top_k=5).to_dict()


def test_one_answer_per_turn_even_when_all_its_chunks_match(tmp_path):
    long_turn = " ".join(f"Sentence {n} is about the lighthouse keeper." for n in range(12))
    corpus = write_files(tmp_path / "talks", {
        "keeper.txt": f"Host: Tell me about the lighthouse keeper?\nMara: {long_turn}\n"
                      "Host: Anything else?\nMara: The lighthouse keeper retired in May.\n"})
    bot = open_bot(corpus, tmp_path / "index")
    assert sum(c.turn == 1 for c in bot.index.chunks) > 5  # one turn, many matching chunks
    result = bot.ask("the lighthouse keeper", top_k=5)
    check_result(bot, result, 5)
    assert len(result.answers) == 2  # two answer turns in the file, so two answers at most


# --- fields ----------------------------------------------------------------------------------


def find(result: Result, words: str) -> Answer:
    return next(a for a in result.answers if words in a.quote)


def test_labelled_answer_fields(bot):
    a = find(bot.ask("What wakes her at dawn? The ferries", top_k=10), "ferries")
    assert a.transcript == "labelled.txt"
    assert a.speaker == "Alice"
    assert a.in_reply_to == "Where do you live?"
    assert a.line == 4
    assert a.timestamp is None
    assert a.title == "labelled"  # no sidecar, no title line: the file's stem
    assert a.context == ("I live in Lisbon near the river. The ferries wake me at dawn. "
                         "The gulls are loud.")
    assert a.context_start == LABELLED.index("I live in Lisbon")


def test_offsets_count_characters_not_bytes(bot):
    a = find(bot.ask("Café crème morning ritual", top_k=10), "Café crème")
    assert a.speaker == "Zoë Ørsted"
    assert a.in_reply_to == "Qu’est-ce que “le café” veut dire pour vous? 🙂"
    assert a.start == UNICODE_CRLF.index("Café crème")
    assert a.line == 2


def test_srt_timestamps_are_hh_mm_ss_mmm(bot):
    result = bot.ask("How fast did the budget grow in the first year?", top_k=10)
    a = find(result, "budget")
    assert a.transcript == "clip.srt"
    assert a.timestamp == "01:02:03.456"
    assert a.line == 3
    b = find(bot.ask("It doubled again in the second year", top_k=10), "doubled")
    assert b.timestamp == "01:02:06.000"


def test_vtt_voices_and_replies(bot):
    a = find(bot.ask("They survive the drought", top_k=10), "drought")
    assert a.transcript == "talk.vtt"
    assert a.speaker == "Dana"
    assert a.in_reply_to == "Why olives?"
    assert a.timestamp == "00:01:09.000"


def test_json_lines_turns_keep_speaker_reply_and_time(bot):
    a = find(bot.ask("Liquid hydrogen fuels the rockets", top_k=10), "hydrogen")
    assert a.speaker == "Gus"
    assert a.in_reply_to == "What fuels the rockets?"
    assert a.timestamp == "01:00:05.500"
    assert a.line == 2


@pytest.mark.parametrize(("seconds", "expected"), [
    (None, None), (0, "00:00:00.000"), (3723.456, "01:02:03.456"), (59.9996, "00:01:00.000"),
    (0.001, "00:00:00.001"), (36000 + 1.5, "10:00:01.500")])
def test_timestamp_format(seconds, expected):
    assert timestamp(seconds) == expected


def test_srt_name_prefix_is_the_speaker(tmp_path):
    corpus = write_files(tmp_path / "talks", {"named.srt": (
        "1\n00:00:01,000 --> 00:00:03,000\nCarol: The harvest was early this year.\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\nDan: Why so early?\n")})
    bot = open_bot(corpus, tmp_path / "index")
    a = find(bot.ask("harvest early", top_k=5), "harvest")
    assert a.speaker == "Carol"
    assert a.quote == "The harvest was early this year."


def test_offsets_agree_with_the_file_read_as_utf8_when_it_has_a_bom(tmp_path):
    corpus = write_files(tmp_path / "talks", {"bom.txt": b"\xef\xbb\xbf" + LABELLED.encode()})
    bot = open_bot(corpus, tmp_path / "index")
    for question in QUESTIONS[:3]:
        for a in bot.ask(question, top_k=3).answers:
            on_disk = (corpus / "bom.txt").read_text(encoding="utf-8")
            assert on_disk[a.start:a.end] == a.quote


# --- JSON shape ------------------------------------------------------------------------------


def test_result_json_shape(bot):
    result = bot.ask("Where does she live?", top_k=3)
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) >= RESULT_KEYS
    assert data["question"] == "Where does she live?"
    assert isinstance(data["no_answer"], bool)
    assert 1 <= len(data["answers"]) <= 3
    for answer, a in zip(data["answers"], result.answers, strict=True):
        assert set(answer) >= ANSWER_KEYS | {"context_start"}
        assert answer["quote"] == a.quote and answer["start"] == a.start
        assert isinstance(answer["start"], int) and isinstance(answer["end"], int)
        assert isinstance(answer["score"], float)


def test_no_answer_notice_and_more_quotes_show_the_same_single_score(corpus, tmp_path):
    """Users see one number: the chat's "best match" is the score More quotes lists for #1, the
    top answer's ``score``, and ``no_answer`` is that score against the threshold."""
    from qa_bot import ui

    # No passage matches these questions perfectly, so with the bar at 1.0 every result is "no
    # answer" that still lists its closest passages, whatever the scores' scale.
    settings = Settings(no_answer_threshold=1.0)
    bot = QaBot.open(corpus, tmp_path / "index", settings, FakeEmbedder())
    for question in ("What does she think of the gulls and the weather?", "Who paid for the rockets?",
                     "Which year was the harbour built?", "Where do the olive trees grow?"):
        result = bot.ask(question, top_k=3)
        assert result.no_answer and len(result.answers) == 3, question
        top = result.answers[0]
        assert result.no_answer == (top.score < settings.no_answer_threshold)
        notice = ui.chat_reply(result, threshold=settings.no_answer_threshold)
        best = re.search(r"best match\D*?(\d+\.\d\d), below the 1\.00 needed", notice)
        assert best, notice
        more = ui.more_html(result)
        first = re.search(r'<span class="qa-score">1 · \D*?(\d+\.\d\d)</span>', more)
        assert first, more
        assert best.group(1) == first.group(1) == f"{top.score:.2f}", question
        # Worded alike everywhere, so the two read as the same measure.
        assert f"relevance {top.score:.2f}" in notice and f"1 · relevance {top.score:.2f}" in more
        assert "score" not in notice and "· score" not in more
        assert "relevance" not in top.to_dict()  # one number, in one field: "score"


def test_no_chunks_means_no_answer_with_no_answers(tmp_path):
    corpus = write_files(tmp_path / "talks", {"only-questions.txt": "Host: Anyone there?\n"})
    result = open_bot(corpus, tmp_path / "index").ask("Anyone there?")
    assert result.no_answer and result.answers == ()
    assert result.to_dict() == {"question": "Anyone there?", "no_answer": True, "answers": []}


# --- stale sources ---------------------------------------------------------------------------

CHANGED_LABELLED = LABELLED.replace("I live in Lisbon", "Nowadays I live in Lisbon")


def test_changed_source_is_reindexed_and_old_quotes_never_returned(corpus, tmp_path):
    index_dir = tmp_path / "index"
    open_bot(corpus, index_dir)
    (corpus / "labelled.txt").write_text(CHANGED_LABELLED, encoding="utf-8")
    bot = open_bot(corpus, index_dir)
    assert bot.report.changed == ["labelled.txt"]
    for question in QUESTIONS:
        check_result(bot, bot.ask(question, top_k=5), 5)
    a = find(bot.ask("Where does she live? Lisbon", top_k=5), "Lisbon")
    assert a.quote.startswith("Nowadays I live in Lisbon")


def test_stale_chunks_are_dropped_not_quoted(caplog):
    """An index built from the old text, answered against the new text: chunks whose text no
    longer stands at their offsets are never returned."""
    settings = Settings()
    old = parse("labelled.txt", LABELLED.encode())
    new = parse("labelled.txt", CHANGED_LABELLED.encode())
    index, _ = index_mod.sync([old], None, FakeEmbedder(), settings)
    hits = [Hit(row, 1.0 - row / 100, 0.9, {}) for row in range(len(index.chunks))]
    still_there = [c for c in index.chunks if CHANGED_LABELLED[c.start:c.end] == c.text]
    assert 0 < len(still_there) < len(index.chunks)

    caplog.set_level(logging.WARNING, logger="qa_bot.answers")
    result = assemble("q", hits, index, {"labelled.txt": new}, top_k=50, threshold=0.4)
    assert [a.quote for a in result.answers] == [c.text for c in still_there]
    assert "unverifiable" in caplog.text
    # Nothing at all when the transcript is gone.
    assert assemble("q", hits, index, {}, top_k=50, threshold=0.4).answers == ()


def open_stale(corpus: Path, index_dir: Path, name: str, changed: str, monkeypatch) -> QaBot:
    """A bot over ``corpus`` whose file ``name`` was edited on disk to ``changed`` after it was
    indexed, loaded with the old index's records: the manifest's fingerprint is made to match the
    changed file and the record check at load is switched off, so that its stale chunks are reused
    rather than re-embedded and the last line of defence (each quote checked as it is shown) is
    what stands between them and the user."""
    monkeypatch.setattr(index_check, "doctored", lambda *args: False)
    open_bot(corpus, index_dir)
    (corpus / name).write_text(changed, encoding="utf-8")
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["transcripts"][name]["fingerprint"] = parse(name, changed.encode()).fingerprint
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    bot = open_bot(corpus, index_dir)
    assert name in bot.report.reused and bot.report.embedded == 0  # the stale chunks are in use
    return bot


def test_index_that_wrongly_claims_to_be_current_still_never_quotes_stale_text(corpus, tmp_path):
    """Even when the manifest's fingerprint is made to match the changed file, its stale chunks are
    not reused: the record check at load finds them wrong for the file and re-indexes it (the test
    above covers the last line of defence, every quote checked against the file as it is shown)."""
    index_dir = tmp_path / "index"
    open_bot(corpus, index_dir)
    (corpus / "labelled.txt").write_text(CHANGED_LABELLED, encoding="utf-8")
    current = parse("labelled.txt", CHANGED_LABELLED.encode())
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["transcripts"]["labelled.txt"]["fingerprint"] = current.fingerprint
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    bot = open_bot(corpus, index_dir)
    assert bot.report.changed == ["labelled.txt"]  # the stale chunks were caught at load
    assert any("does not match labelled.txt" in w for w in bot.report.warnings)
    for question in QUESTIONS:
        result = bot.ask(question, top_k=5)
        check_result(bot, result, 5)
        assert not any(a.quote.startswith("I live in Lisbon") for a in result.answers)


# A short turn (quoted whole) and a long one (quoted by its best window), each then edited on disk
# keeping the file's length, so that the old index's offsets point at the changed text; and two
# edits of the same length that change the turns themselves: one turn split in two (a line break
# for a space), two turns run together (a space for a line break).
PIER_LONG = ("The storm came from the west on Friday. Our nets were torn on the rocks by the reef. "
             "The harbour master rang the bell twice. My brother rowed out to the buoy at dawn. "
             "The keeper's dog swam beside the boat the whole way. By noon the lamp was turning again. "
             "Nobody in the village slept much that week, and the school stayed shut.")
PIER = ("Host: What happened at the pier?\n"
        "Mara: The ferry waited at the pier. Then the generator flooded. The lamp failed at midnight.\n"
        "Host: And after the storm?\n"
        f"Mara: {PIER_LONG}\n")
STALE_EDITS = {  # how the file changed, and a question about what it said before
    "short turn": (("The lamp failed at midnight.", "The lamp shone all night!!!!"),
                   "Why did the lamp fail at midnight?"),
    "long turn": (("rowed out to the buoy at dawn", "swam back to the shore at six"),
                  "Who rowed out to the buoy at dawn?"),
    "turn split": (("pier. Then the generator", "pier.\nThen the generator"),
                   "Then the generator flooded and the lamp failed?"),
    "turns merged": (("midnight.\nHost: And after", "midnight. Host: And after"),
                     "Our nets were torn on the rocks by the reef?"),
}


@pytest.mark.parametrize("edit", list(STALE_EDITS))
def test_a_stale_index_never_shows_changed_text_as_a_quote(tmp_path, edit, monkeypatch):
    """The file edited after indexing, loaded with the old records: the question finds the stale
    passage first, yet every quote is text the index read that still stands at its offsets, with
    its turn as the file has it now (its speaker, its question, its whole turn around it)."""
    (old_words, new_words), question = STALE_EDITS[edit]
    changed = PIER.replace(old_words, new_words)
    assert len(changed) == len(PIER) and changed != PIER and len(PIER_LONG) > Settings().whole_turn_chars
    corpus = write_files(tmp_path / "talks", {"pier.txt": PIER})
    bot = open_stale(corpus, tmp_path / "index", "pier.txt", changed, monkeypatch)
    hits = bot.retriever().search(bot.embedder.encode([question])[0], question, 12)
    first = bot.index.chunks[hits[0].row]
    if edit in ("short turn", "long turn"):  # the best passage is the one whose text changed
        assert PIER[first.start:first.end] == first.text != changed[first.start:first.end]
    now = bot.transcripts["pier.txt"]

    result = bot.ask(question, top_k=5)
    assert result.answers
    check_result(bot, result, 5)
    for a in result.answers:
        assert PIER[a.start:a.end] == a.quote == changed[a.start:a.end]  # read when indexed, there now
        assert new_words.strip() not in a.quote
        turn = next(t for t in now.turns if t.start <= a.start and a.end <= t.end)
        assert (a.speaker, a.context, a.context_start) == (turn.speaker, turn.text, turn.start)
        reply = now.question_text(turn.reply_to) if turn.reply_to is not None else None
        assert a.in_reply_to == reply


def test_refresh_picks_up_a_file_changed_while_running(bot, corpus):
    (corpus / "labelled.txt").write_text(CHANGED_LABELLED, encoding="utf-8")
    bot.refresh()
    assert bot.report.changed == ["labelled.txt"]
    for question in QUESTIONS:
        check_result(bot, bot.ask(question, top_k=5), 5)


# --- the default interview with the real model -----------------------------------------------

INTERVIEW_QUESTIONS = [
    "Does Ivanov regret the fall of the USSR?", "Who did he meet from Washington?",
    "Why help Kyrgyzstan?", "How much is the drug trade worth?",
    "Should Russia have more influence in the former Soviet states?",
    "Are radical groups recruiting in Central Asia?", "What did Putin say about the Soviet Union?",
    "How much money did Russia invest in Kyrgyzstan?", "What does the U.S. propose?",
    "What happens to criminal groups moving heroin?", "Where was the photo taken?",
    "Who took the photo?", "What is unemployment like in Central Asia?",
    "Did the American anti-drug effort in Afghanistan work?", "What about the north Caucasus?",
    "Tumor or metastasis?", "What is the capital of Australia?", "Who won the football match?",
    "   spaces   around   the question   ", "USSR",
]


@pytest.mark.integration
def test_interview_quotes_are_verbatim_and_attributed(interview_bot):
    meta = json.loads((CORPUS / "viktor-ivanov-interview.txt.meta.json").read_text("utf-8"))
    on_disk = INTERVIEW.read_bytes().decode("utf-8")
    assert interview_bot.transcripts[INTERVIEW.name].text == on_disk
    for n, question in enumerate(INTERVIEW_QUESTIONS):
        for top_k in (1, 5) if n % 4 == 0 else (5,):
            result = interview_bot.ask(question, top_k=top_k)
            check_result(interview_bot, result, top_k)
            assert result.answers, question
            for a in result.answers:
                assert a.title == meta["title"]
                assert a.timestamp is None
                if a.speaker is None:  # the photo caption: narration, answering no question
                    assert a.in_reply_to is None
                else:
                    assert a.speaker == meta["interviewee"]["name"]
                    assert a.role == meta["interviewee"]["role"]
                    assert a.in_reply_to is not None and a.in_reply_to.endswith("?")
                    # The question opens the paragraph the answer belongs to.
                    paragraph_start = on_disk.rfind("\n\n", 0, a.start) + 2
                    assert on_disk.startswith(a.in_reply_to, paragraph_start)


@pytest.mark.integration
def test_interview_answer_content_checked_by_hand(interview_bot):
    result = interview_bot.ask("Does Ivanov regret the fall of the USSR?")
    assert not result.no_answer
    top = result.answers[0]
    assert top.in_reply_to is not None and top.in_reply_to.endswith(
        "Do you regret that the USSR fell apart?")
    assert "USSR" in top.context
    off_topic = interview_bot.ask("What is the capital of Australia?")
    assert off_topic.no_answer
    assert off_topic.answers  # the closest passages are still listed


# --- whole turns ----------------------------------------------------------------------------

SHORT_AND_LONG = (
    "Host: What happened at the harbour?\n"
    "Mara: The fog came in. The ferry waited. Then the lighthouse failed.\n"
    "Host: And after that?\n"
    "Mara: " + " ".join(f"Hour {n} passed and the lighthouse stayed dark." for n in range(12)) + "\n"
)


@pytest.mark.parametrize("limit", [0, 300])
def test_a_short_turn_is_quoted_whole_and_a_long_one_by_its_best_sentences(tmp_path, limit):
    corpus = write_files(tmp_path / "c", {"harbour.txt": SHORT_AND_LONG})
    settings = Settings(whole_turn_chars=limit)
    bot = QaBot.open(corpus, tmp_path / "index", settings, FakeEmbedder())
    result = bot.ask("the lighthouse failed", top_k=5)
    check_result(bot, result, 5)
    short = find(result, "lighthouse failed")
    long = next(a for a in result.answers if a.context.startswith("Hour 0"))
    whole = "The fog came in. The ferry waited. Then the lighthouse failed."
    if limit:
        assert short.quote == whole and short.start == SHORT_AND_LONG.index(whole)
    else:  # chunks are two sentences: without the setting the quote is the best window
        assert short.quote != whole and short.quote in whole
    assert short.line == 2
    assert len(long.context) > 300 and long.quote in long.context and len(long.quote) < 120


def test_the_word_indexes_are_built_when_the_bot_loads_not_at_the_first_question(bot):
    retriever = bot.retriever()
    store = retriever.store  # the embedded FAISS store keeps the BM25 indexes
    assert store._chunk_bm25 is not None and store._context_bm25 is not None
    lexical = store._chunk_bm25
    bot.ask("Where does she live?")
    assert bot.retriever().store._chunk_bm25 is lexical  # the question reused it
    # Other fusion weights (the evaluation's modes) share the indexes rather than rebuild them.
    other = bot.retriever(Settings(weight_dense=0.0))
    assert other.settings.weight_dense == 0.0 and other.store._chunk_bm25 is lexical
    assert other.store._context_bm25 is store._context_bm25 and bot.retriever().settings == bot.settings
