"""The media route's URLs: a transcript's name, relative to the page, percent-encoded. What the
route serves, and refuses, over HTTP is in e2e/test_http_media.py."""

from __future__ import annotations

from qa_bot.media_route import media_url


def test_media_url_names_the_transcript_relative_to_the_page():
    assert media_url("sub/nested talk.srt") == "media/sub/nested%20talk.srt"
    assert media_url("a{b}$`.srt") == "media/a%7Bb%7D%24%60.srt"
