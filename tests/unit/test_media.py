"""Finding a transcript's recording, never outside its folder, and reading answer timestamps."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qa_bot.answers import timestamp
from qa_bot.media import find_media, parse_timestamp, transcript_media

SRT = "1\n00:00:12,000 --> 00:00:15,000\nAnna: Hello.\n"


def corpus(tmp_path: Path, *media: str, meta: object = None) -> Path:
    """A folder ``c`` holding ``talk.srt``, the named media files and, if given, the sidecar."""
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "talk.srt").write_text(SRT, encoding="utf-8")
    for name in media:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"RIFF")
    if meta is not None:
        (folder / "talk.srt.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder / "talk.srt"


@pytest.mark.parametrize(("name", "element", "mime"), [
    ("talk.mp3", "audio", "audio/mpeg"), ("talk.wav", "audio", "audio/wav"),
    ("talk.ogg", "audio", "audio/ogg"), ("talk.mp4", "video", "video/mp4"),
    ("talk.webm", "video", "video/webm"), ("talk.WAV", "audio", "audio/wav")])
def test_same_stem_media_is_found(tmp_path, name, element, mime):
    media = find_media(corpus(tmp_path, name))
    assert media is not None and media.path.name == name
    assert (media.element, media.mime) == (element, mime)


def test_no_media_other_stem_or_other_extension(tmp_path):
    assert find_media(corpus(tmp_path, "other.mp3", "talk.txt", "talk.flac")) is None


def test_sidecar_names_media_in_a_subfolder_and_wins(tmp_path):
    transcript = corpus(tmp_path, "talk.wav", "audio/episode 1.mp3", meta={"media": "audio/episode 1.mp3"})
    media = find_media(transcript)
    assert media is not None and media.path == (tmp_path / "c/audio/episode 1.mp3").resolve()


@pytest.mark.parametrize("value", [
    "../outside.mp3", "audio/../../outside.mp3", "/abs/outside.mp3", "C:/outside.mp3",
    "..\\outside.mp3", ".hidden.mp3", "missing.mp3", "talk.srt", "notes.txt", "", "audio"])
def test_sidecar_media_outside_the_folder_or_not_media_finds_nothing(tmp_path, value):
    (tmp_path / "outside.mp3").write_bytes(b"RIFF")
    transcript = corpus(tmp_path, "talk.wav", ".hidden.mp3", "notes.txt", "audio/x.mp3",
                        meta={"media": value.replace("/abs", str(tmp_path))})
    # A bad "media" finds nothing, not the same-stem talk.wav: the mistake shows.
    assert find_media(transcript) is None


@pytest.mark.parametrize("value", [3, ["talk.wav"], {"path": "talk.wav"}])
def test_sidecar_media_that_is_not_a_string_is_ignored(tmp_path, value):
    assert find_media(corpus(tmp_path, "talk.wav", meta={"media": value})) is None


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    secret = tmp_path / "secret.mp3"
    secret.write_bytes(b"secret")
    transcript = corpus(tmp_path)
    os.symlink(secret, transcript.parent / "talk.mp3")
    assert find_media(transcript) is None
    os.symlink(tmp_path, transcript.parent / "up")
    (transcript.parent / "talk.srt.meta.json").write_text('{"media": "up/secret.mp3"}', encoding="utf-8")
    assert find_media(transcript) is None


def test_symlink_within_the_folder_is_followed(tmp_path):
    transcript = corpus(tmp_path, "audio/real.ogg")
    os.symlink(transcript.parent / "audio/real.ogg", transcript.parent / "talk.ogg")
    media = find_media(transcript)
    assert media is not None and media.path == (transcript.parent / "audio/real.ogg").resolve()


def test_bad_sidecar_json_finds_no_media_from_it(tmp_path):
    transcript = corpus(tmp_path, "talk.wav")
    (transcript.parent / "talk.srt.meta.json").write_text("{not json", encoding="utf-8")
    assert find_media(transcript) is None


@pytest.mark.parametrize(("stamp", "seconds"), [
    ("00:00:12.000", 12.0), ("01:02:03.250", 3723.25), ("00:00:12,500", 12.5), ("02:05", 125.0),
    ("7.5", 7.5), ("123:00:00.000", 442800.0), (" 00:00:01.000 ", 1.0)])
def test_parse_timestamp(stamp, seconds):
    assert parse_timestamp(stamp) == pytest.approx(seconds)


@pytest.mark.parametrize("stamp", [None, "", "line 9", "12s", "-00:00:01", "00:61:00", "00:00:75",
                                   "1:2:3:4", "00:00:12.000 --> 00:00:15.000"])
def test_parse_timestamp_rejects_what_is_not_a_time(stamp):
    assert parse_timestamp(stamp) is None


@pytest.mark.parametrize("seconds", [0.0, 12.0, 59.999, 3723.25, 86400.5])
def test_parse_timestamp_reads_back_what_answers_write(seconds):
    assert parse_timestamp(timestamp(seconds)) == pytest.approx(seconds)


def test_transcript_media_only_for_a_known_transcript_name(tmp_path):
    transcript = corpus(tmp_path, "talk.wav", "other.wav")
    folder = transcript.parent

    def path_of(name: str) -> Path:
        return folder / name

    assert transcript_media(path_of, {"talk.srt"}, "talk.srt") == find_media(transcript) is not None
    for name in ("other.srt", "talk.wav", "../c/talk.srt", "TALK.SRT"):
        assert transcript_media(path_of, {"talk.srt"}, name) is None
