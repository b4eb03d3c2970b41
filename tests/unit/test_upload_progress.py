"""What the page says while an upload is indexed (upload_progress.py): passages embedded of the
total, and the time left, first from the rate bench/UPLOADS.md measured, then from this upload's."""

from __future__ import annotations

import pytest

from qa_bot.upload_progress import PASSAGES_PER_SECOND, UploadProgress, describe, duration_words, time_left


def test_the_time_left_starts_from_the_measured_rate_then_follows_this_upload_s():
    assert time_left(0, 3000, 0.0) == pytest.approx(3000 / PASSAGES_PER_SECOND)
    assert time_left(500, 1000, 10.0) == pytest.approx(10.0)  # 50 passages/s so far
    assert time_left(1000, 1000, 10.0) == 0
    assert describe(500, 1000, 10.0) == ("Embedding passages: 500 of 1,000, about 10 s left "
                                         "(Cancel stops it and adds nothing)")
    assert "about 3 min left" in describe(100, 10_000, 2.0)  # 50/s: 198 s
    assert "about 90 s left" in describe(100, 4_500, 2.0)  # 88 s
    assert "about 2 min left" in describe(100, 5_000, 2.0)  # 98 s
    assert "a few seconds left" in describe(900, 1000, 9.0)


def test_the_page_s_progress_carries_the_count_and_the_estimate():
    calls, now = [], [100.0]
    shown = UploadProgress(lambda value, desc=None, unit=None: calls.append((value, desc, unit)),
                           "talk.txt", clock=lambda: now[0])
    shown.reading()
    shown(0, 1000, "embedding")
    now[0] += 20.0
    shown(256, 1000, "embedding")
    assert calls[0] == ((0, None), "Reading talk.txt and cutting it into passages", "passages")
    assert calls[1][0] == (0, 1000) and calls[1][2] == "passages"
    assert f"{duration_words(1000 / PASSAGES_PER_SECOND)} left" in calls[1][1]  # the bench's rate
    assert calls[2][0] == (256, 1000) and "about 60 s left" in calls[2][1]  # 12.8/s, 744 left
