"""The player and play buttons in the Source and More-quotes panels (HTML strings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa_bot import player, ui
from qa_bot.answers import Answer, Result
from qa_bot.media import Media

WAV = Media(Path("/corpus/talk.wav"), "audio/wav")
MP4 = Media(Path("/corpus/talk.mp4"), "video/mp4")


def answer(transcript: str = "talk.srt", stamp: str | None = "00:00:12.000", score: float = 0.9) -> Answer:
    text = "Anna: The harbour froze in the winter."
    return Answer(quote=text[6:], transcript=transcript, title="Talk", speaker="Anna", in_reply_to=None,
                  start=6, end=len(text), line=3, timestamp=stamp, score=score, context=text[6:],
                  context_start=6)


def result(*answers: Answer, no_answer: bool = False) -> Result:
    return Result("Did the harbour freeze?", no_answer, answers)


def players(page: str) -> list[tuple[str, str, str]]:
    """(element, preload, src) of every player in ``page``."""
    return re.findall(r'<(audio|video) class="qa-player" controls preload="(\w+)" src="([^"]*)">', page)


def starts(page: str) -> list[str]:
    return re.findall(r'class="qa-play" data-start="([^"]*)"', page)


def test_source_plays_the_top_answer_from_its_timestamp():
    page = ui.source_html(result(answer(stamp="00:01:02.500")), {}, {"talk.srt": WAV})
    assert players(page) == [("audio", "metadata", "media/talk.srt#t=62.500")]
    assert starts(page) == ["62.500"] and "▶ play" in page


def test_a_video_recording_gets_a_video_player():
    page = ui.source_html(result(answer()), {}, {"talk.srt": MP4})
    assert [p[0] for p in players(page)] == ["video"]


@pytest.mark.parametrize(("top", "media"), [
    (answer(), None), (answer(), {}), (answer(), {"other.srt": WAV}),
    (answer(stamp=None), {"talk.srt": WAV})])
def test_no_player_without_a_recording_or_a_timestamp(top, media):
    page = ui.source_html(result(top), {}, media)
    assert players(page) == [] and starts(page) == [] and "qa-media" not in page


def test_no_answer_shows_no_player_in_source():
    """Nothing plays as if it were the answer; a closest passage opened from its map pin can."""
    page = ui.source_html(result(answer(score=0.1), no_answer=True), {}, {"talk.srt": WAV})
    passages = re.findall(r'<div class="qa-passage" data-n="\d+"( hidden)?>', page)
    assert passages == [" hidden"]
    assert players(page) == [("audio", "none", "media/talk.srt#t=12.000")]


def test_each_source_passage_has_its_own_player_and_only_the_answers_loads():
    page = ui.source_html(result(answer(), answer(stamp="00:00:20.000")), {}, {"talk.srt": WAV})
    shown, hidden = page.split('<div class="qa-passage" data-n="')[1:]
    assert players(shown) == [("audio", "metadata", "media/talk.srt#t=12.000")]
    assert starts(shown) == ["12.000"]
    assert hidden.startswith('2" hidden')
    assert players(hidden) == [("audio", "none", "media/talk.srt#t=20.000")] and starts(hidden) == ["20.000"]


def test_each_more_quote_with_a_recording_has_a_play_button_and_a_lazy_player():
    answers = (answer(), answer(stamp="00:00:20.000"), answer("silent.srt", "00:00:30.000"),
               answer(stamp="00:00:40.250"))
    page = ui.more_html(result(*answers), {"talk.srt": WAV})
    items = page.split('<details class="qa-more">')[1:]
    assert len(items) == 3  # the top answer is in Source
    assert [starts(item) for item in items] == [["20.000"], [], ["40.250"]]
    assert [players(item) for item in items] == [[("audio", "none", "media/talk.srt#t=20.000")], [],
                                                [("audio", "none", "media/talk.srt#t=40.250")]]
    # the button sits in the summary, so it shows with the item closed
    assert all(item.index('class="qa-play"') < item.index("</summary>") for item in (items[0], items[2]))


def test_with_no_answer_every_closest_passage_can_be_played():
    page = ui.more_html(result(answer(score=0.1), answer(stamp="00:00:20.000", score=0.1), no_answer=True),
                        {"talk.srt": WAV})
    assert starts(page) == ["12.000", "20.000"]


def test_a_transcript_name_with_markup_stays_text_in_the_player():
    name = 'x"><script>alert(1)</script>${1}{{v}}`&.srt'
    page = ui.source_html(result(answer(name)), {}, {name: WAV}) + ui.more_html(
        result(answer(name), answer(name)), {name: WAV})
    sources = [src for _, _, src in players(page)]
    assert len(sources) == 2
    for src in sources:
        assert re.fullmatch(r"media/[A-Za-z0-9%._~/-]+#t=\d+\.\d{3}", src), src
    assert "<script" not in page and "${" not in page and "{{" not in page and "`" not in page


def test_play_js_is_wired_on_the_panels():
    import app

    html = [block for block in app.demo.blocks.values() if getattr(block, "elem_id", "") in ("qa-source",
                                                                                            "qa-more")]
    assert len(html) == 2 and all(player.PLAY_JS in block.js_on_load for block in html)
    assert ".qa-play" in player.PLAY_JS and player.CSS in ui.CSS
