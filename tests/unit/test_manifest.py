"""The manifest's values (qa_bot/manifest.py): the JSON read and written back unchanged, a bad
field named, an out-of-date settings key read as None rather than as damage."""

from __future__ import annotations

import json

import pytest

from qa_bot.manifest import FileEntry, IndexKey, Manifest, TranscriptEntry

KEY = {"format_version": 3, "parser_version": "1", "model": "m", "weights_sha256": "0" * 64,
       "chunk_sentences": 2, "chunk_stride": 1, "max_chunk_chars": 400}
RAW = {**KEY, "dimension": 4,
       "transcripts": {"a.txt": {"fingerprint": "f", "title": "A", "format": "labelled",
                                 "chunks": [0, 2], "turns": [0, 3]}},
       "chunk_count": 2,
       "files": {"chunks_jsonl": {"name": "chunks-x.jsonl", "sha256": "s", "size": 9, "mtime_ns": 1},
                 "turns_jsonl": {"name": "turns-x.jsonl", "sha256": "t"}},  # from before times
       "lexical": {"format": 1, "chunk": {"size": 2}}}


def test_the_json_is_read_and_written_back_key_for_key_in_order():
    manifest = Manifest.from_dict(json.loads(json.dumps(RAW)))
    assert manifest.transcripts["a.txt"] == TranscriptEntry("f", "A", "labelled", (0, 2), (0, 3))
    assert manifest.files["turns_jsonl"] == FileEntry("turns-x.jsonl", "t")
    assert manifest.key == IndexKey(**KEY)
    assert json.dumps(manifest.to_dict(), indent=2) == json.dumps(RAW, indent=2)


@pytest.mark.parametrize(("path", "value", "named"), [
    (("dimension",), "4", "dimension"),
    (("chunk_count",), True, "chunk_count"),
    (("transcripts",), [], "transcripts"),
    (("transcripts", "a.txt", "chunks"), "ab", "transcripts.a.txt.chunks"),
    (("transcripts", "a.txt", "turns"), [0, 1.5], "transcripts.a.txt.turns"),
    (("transcripts", "a.txt", "title"), None, "transcripts.a.txt.title"),
    (("files", "chunks_jsonl", "size"), "9", "files.chunks_jsonl.size"),
    (("files", "turns_jsonl", "name"), 3, "files.turns_jsonl.name"),
])
def test_a_bad_field_is_a_value_error_naming_it(path, value, named):
    raw = json.loads(json.dumps(RAW))
    *parents, last = path
    holder = raw
    for key in parents:
        holder = holder[key]
    holder[last] = value
    with pytest.raises(ValueError, match=f"'{named}'"):
        Manifest.from_dict(raw)


def test_a_missing_field_is_named_too_and_a_foreign_top_level_refused():
    raw = {k: v for k, v in RAW.items() if k != "files"}
    with pytest.raises(ValueError, match="no field 'files'"):
        Manifest.from_dict(raw)
    with pytest.raises(ValueError, match="not an object"):
        Manifest.from_dict(["not", "a", "manifest"])


def test_a_settings_key_from_an_older_qa_bot_reads_as_none_never_equal_to_a_current_one():
    raw = {k: v for k, v in RAW.items() if k != "parser_version"}
    manifest = Manifest.from_dict(raw)
    assert manifest.key is None and manifest.key != IndexKey(**KEY)
    assert Manifest.from_dict({**RAW, "chunk_stride": "1"}).key is None
