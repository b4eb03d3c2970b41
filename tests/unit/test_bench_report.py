"""bench/render.py: the reports' figures come from bench/results/*.json and nothing else; the prose
around them is the Markdown's own and is left as written."""

from __future__ import annotations

import importlib
import json

import pytest
from helpers import ROOT


@pytest.fixture
def render(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # bench/ is run as ``python -m bench.<name>`` from the root
    return importlib.import_module("bench.render")


def test_marked_figures_are_replaced_and_everything_else_is_kept(render) -> None:
    text = ("# Title\n\nProse with <!-- bench:value -->old<!-- /bench --> inline.\n\n"
            "<!-- bench:rows -->\n| old |\n\n<!-- /bench -->\n\nMore prose.\n")
    figures = {"value": "1.5 ms", "rows": render.table(["a", ">b"], [["x", ""], ["y", 2]])}
    out = render.fill(text, figures)
    assert out == ("# Title\n\nProse with <!-- bench:value -->1.5 ms<!-- /bench --> inline.\n\n"
                   "<!-- bench:rows -->\n| a | b |\n| --- | ---: |\n| x | |\n| y | 2 |\n\n"
                   "<!-- /bench -->\n\nMore prose.\n")
    assert render.fill(out, figures) == out


def test_a_figure_with_no_result_is_an_error_not_a_stale_number(render) -> None:
    with pytest.raises(SystemExit, match="'gone'"):
        render.fill("<!-- bench:gone -->3<!-- /bench -->", {})


def test_the_committed_reports_are_what_the_committed_results_render(render) -> None:
    results = {p.stem: json.loads(p.read_text(encoding="utf-8"))
               for p in (ROOT / "bench" / "results").glob("*.json")}
    for name, blocks in render.REPORTS.items():
        text = (ROOT / "bench" / name).read_text(encoding="utf-8")
        assert "<!-- bench:" in text, name
        assert render.fill(text, blocks(results)) == text, f"{name} is out of date: python -m bench.render"


def test_the_upload_cap_is_the_largest_size_every_kind_managed(render) -> None:
    rows = [{"kind": k, "mb": mb, "seconds": s, "peak_mb": 500} for k, mb, s in (
        ("prose", 0.1, 20), ("prose", 0.2, 50), ("prose", 0.4, 70), ("turns", 0.1, 10), ("turns", 0.2, 30))]
    assert render.upload_cap(rows, 60, 1000) == 0.2
    assert render.upload_cap([*rows, {"kind": "turns", "mb": 0.4, "timed_out": 200}], 60, 1000) == 0.2
    assert render.upload_cap([{**r, "peak_mb": 2000} for r in rows], 60, 1000) == 0.0
