"""Deep links and the scope chip, as strings: what the answer's last line holds and how it reads."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from qa_bot.links import Link, footer, scope_words


def test_href_round_trips_every_field_through_a_query_string():
    link = Link("Why & how? 50% (roughly) #1", "bakery chat.txt", "Jonas Weber")
    href = link.href()
    assert href.startswith("?") and " " not in href and "#" not in href and "(" not in href
    params = {k: v[0] for k, v in parse_qs(href[1:]).items()}
    assert params == {"q": link.question, "transcript": link.transcript, "speaker": link.speaker}
    assert Link.from_query(params) == link


def test_href_leaves_out_the_filters_not_set():
    assert Link("Who?").href() == "?q=Who%3F"
    assert Link("Who?", "a.txt", "Ann").widened() == Link("Who?")


def test_from_query_ignores_other_keys_and_squeezes_space():
    assert Link.from_query({"q": "  Does   he\nregret it? ", "x": "1"}) == Link("Does he regret it?")
    assert Link.from_query({}) == Link()


def test_scope_words():
    assert scope_words("a.txt", "") == "a.txt"
    assert scope_words("", "Ann") == "Ann’s words"
    assert scope_words("a.txt", "Ann") == "Ann’s words in a.txt"


def test_footer_without_a_filter_has_only_the_link():
    out = footer(Link("Who?"))
    assert 'class="qa-link" href="?q=Who%3F"' in out
    assert "qa-scope" not in out and "search all" not in out


def test_footer_with_a_filter_has_the_chip_and_a_link_without_it():
    out = footer(Link("Who?", "a.txt", "Ann"))
    assert "searched only Ann’s words in a.txt" in out
    assert 'class="qa-search-all" href="?q=Who%3F"' in out
    assert 'href="?q=Who%3F&amp;transcript=a.txt&amp;speaker=Ann"' in out


def test_footer_values_are_text_never_markup():
    out = footer(Link("<b>x</b>", '<img src=x onerror="1">_my_*talk*.txt', "[Ann](http://e.org)"))
    assert "<img" not in out and "<b>" not in out and re.search(r"(?<!\\)[\[\]]", out) is None
    assert "\\_my\\_\\*talk\\*.txt" in out and "\\[Ann\\]" in out
