"""``PARSER_VERSION`` must change whenever parsing or chunking gives other turns or chunks.

A saved index reuses a transcript's chunks while its file and the parser version are the same;
if the parser's output changed without the number, the index would keep chunks the files no
longer give. This test parses and chunks a fixed set of transcripts in every format and compares
a digest of everything the index keeps of them with the digest recorded for the current version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from helpers import ROOT, write_corpus

from qa_bot.chunking import chunk_transcript
from qa_bot.config import Settings
from qa_bot.index import PARSER_VERSION, unit_keys
from qa_bot.parsers.corpus import load_corpus

# The digest of the samples' turns and chunks at each parser version. When the test fails:
# if the change to the output is meant, bump PARSER_VERSION in qa_bot/index.py and record the
# new digest here under the new number; never change the digest of an existing number.
DIGESTS = {
    1: "0c8cef343727aa07d2639ce610c890089acc1737eb434028312ed8ef0d1de853",
}

SAMPLES = {
    "named.txt": "Anna Schmidt: What is your best-selling bread?\n"
                 "Jonas Weber: The sourdough rye. We bake three hundred loaves every Saturday morning. "
                 "My grandmother's starter is forty years old, and it still rises.\n"
                 "Anna Schmidt: Who buys it?\nJonas Weber: Mostly the market crowd.\n",
    "qa.txt": "Q: Where were you born?\nA: In Tromsø, north of the Arctic Circle. It is dark for two "
              "months.\nQ: And now?\nA: Lisbon. The light is the reason.\n",
    "talk.srt": "1\n00:00:01,000 --> 00:00:04,000\nHost: What grows best in clay?\n\n"
                "2\n00:00:04,500 --> 00:00:09,000\nMara: Roses, if you feed them. Clay holds water.\n\n"
                "3\n00:00:09,500 --> 00:00:12,000\nMara: And beans love it.\n",
    "talk.vtt": "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Host>Why the ferry?\n\n"
                "00:00:03.500 --> 00:00:08.000\n<v Kai>It waits at the pier. Then the storm came.\n",
    "turns.json": json.dumps({"interviewer": "Lee", "turns": [
        {"speaker": "Lee", "text": "What did the committee decide?", "start": 1.0},
        {"speaker": "Ola", "text": "To fund the bridge. The vote was seven to two.", "start": 3.5}]}),
    "turns.jsonl": '{"speaker": "Ana", "text": "Was it worth it?"}\n'
                   '{"speaker": "Bo", "text": "Every penny. We would do it again."}\n',
}


def output_digest(folder: Path) -> str:
    """A digest of every turn, chunk and turn record the index would keep of ``folder``'s files."""
    settings = Settings()
    transcripts, errors = load_corpus(folder)
    assert errors == []
    digest = hashlib.sha256()
    for t in sorted(transcripts, key=lambda t: t.name):
        chunks = chunk_transcript(t, settings.chunk_sentences, settings.chunk_stride)
        record = {"name": t.name, "turns": [turn.to_dict() for turn in t.turns],
                  "chunks": [c.to_dict() for c in chunks],
                  "units": [key.__dict__ for key in unit_keys(t)]}
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def samples(tmp_path: Path) -> Path:
    folder = write_corpus(tmp_path / "samples", SAMPLES)
    for path in (ROOT / "corpus").iterdir():  # the interview, with its sidecar
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def test_the_parser_output_is_the_one_recorded_for_its_version(tmp_path):
    got = output_digest(samples(tmp_path))
    assert PARSER_VERSION in DIGESTS, f"record DIGESTS[{PARSER_VERSION}] = {got!r}"
    assert got == DIGESTS[PARSER_VERSION], (
        "parsing or chunking now gives other turns or chunks: bump PARSER_VERSION in "
        f"qa_bot/index.py and record DIGESTS[<new number>] = {got!r}")


def test_the_digest_sees_a_change_of_any_turn(tmp_path, monkeypatch):
    """The guard can fail: a parser that moves one turn's end by a character changes the digest."""
    from qa_bot.parsers import corpus

    folder = samples(tmp_path)
    before = output_digest(folder)
    real = corpus.parse

    def shifted(*args, **kwargs):
        t = real(*args, **kwargs)
        first, *rest = t.turns
        return replace(t, turns=(replace(first, end=first.end - 1), *rest))

    monkeypatch.setattr(corpus, "parse", shifted)
    assert output_digest(folder) != before


def test_the_manifest_records_the_version_not_a_digest_of_the_source():
    from qa_bot import index

    assert index.parser_version() == str(PARSER_VERSION)
