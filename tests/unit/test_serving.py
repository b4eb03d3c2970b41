"""What ``app.main`` serves on: this machine only by default; a login from ``QA_BOT_USERNAME`` /
``QA_BOT_PASSWORD`` becomes gradio's ``auth`` (half a login is an error), and serving beyond
loopback without one is warned about. Gradio's launch is replaced: nothing binds here (the
listening socket of a real ``python app.py`` is checked in e2e/test_app_process.py)."""

from __future__ import annotations

import logging

import pytest
from helpers import ALPHA, PASSWORD, USER, app_restored, write_corpus

from qa_bot import access, bot_loader, serving
from qa_bot.config import Settings


@pytest.fixture
def launches(monkeypatch, tmp_path):
    """Run ``app.main`` with gradio's launch and the model loading replaced: yields the calls."""
    import gradio as gr

    import app

    calls: list[dict] = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: calls.append(kw))
    monkeypatch.setattr(bot_loader.BotHolder, "start", lambda self: None)
    # Nothing binds here, so neither does the early port check: these hosts need not be this machine's.
    monkeypatch.setattr(app, "check_port", lambda host, port: None)
    with app_restored():
        write_corpus(tmp_path / "corpus", {"alpha.txt": ALPHA})
        yield calls, ["--corpus", str(tmp_path / "corpus")]


def test_binds_loopback_by_default(launches):
    import app

    calls, args = launches
    assert serving.parse_args([]).host == "127.0.0.1"
    app.main(args)
    assert calls[-1]["server_name"] == "127.0.0.1" and calls[-1]["share"] is False
    assert calls[-1]["auth"] is None and calls[-1]["max_file_size"] == Settings().max_file_bytes


def test_login_comes_from_the_environment():
    from qa_bot.errors import ConfigError

    assert access.login(Settings.from_env({})) is None
    both = Settings.from_env({"QA_BOT_USERNAME": USER, "QA_BOT_PASSWORD": PASSWORD})
    assert access.login(both) == (USER, PASSWORD)
    for env in ({"QA_BOT_USERNAME": USER}, {"QA_BOT_PASSWORD": PASSWORD},
                {"QA_BOT_USERNAME": " ", "QA_BOT_PASSWORD": PASSWORD},
                {"QA_BOT_USERNAME": USER, "QA_BOT_PASSWORD": ""}):
        with pytest.raises(ConfigError, match="set both QA_BOT_USERNAME and QA_BOT_PASSWORD"):
            access.login(Settings.from_env(env))


def test_main_passes_the_login_to_gradio_and_refuses_half_a_login(launches, monkeypatch, capsys):
    import app

    calls, args = launches
    monkeypatch.setenv("QA_BOT_USERNAME", USER)
    monkeypatch.setenv("QA_BOT_PASSWORD", PASSWORD)
    app.main(args)
    assert calls[-1]["auth"] == (USER, PASSWORD)
    monkeypatch.delenv("QA_BOT_PASSWORD")
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        app.main(args)
    assert done.value.code == 2
    assert "app.py: error: set both QA_BOT_USERNAME and QA_BOT_PASSWORD" in capsys.readouterr().err
    assert len(calls) == 1


def test_serving_beyond_loopback_without_a_login_is_warned_about(launches, monkeypatch, caplog):
    import app

    calls, args = launches
    caplog.set_level(logging.WARNING, logger="qa_bot.app")
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert access.exposure_warnings(host, False, None) == []
    app.main([*args, "--host", "0.0.0.0"])
    assert calls[-1]["server_name"] == "0.0.0.0"
    assert "serving on 0.0.0.0 without a login" in caplog.text and "QA_BOT_USERNAME" in caplog.text
    caplog.clear()
    app.main([*args, "--share"])
    assert "--share puts the app on a public URL without a login" in caplog.text
    caplog.clear()
    monkeypatch.setenv("QA_BOT_USERNAME", USER)
    monkeypatch.setenv("QA_BOT_PASSWORD", PASSWORD)
    app.main([*args, "--host", "192.168.1.20"])
    assert "without a login" not in caplog.text and "clear text" in caplog.text and "TLS" in caplog.text
