"""bench/run.py --splice: refreshing one part of RESULTS.md rewrites what that part measures (its
section, its target rows, its row of the parts table) and keeps every other line as it was."""

from __future__ import annotations

import importlib.util
import sys

from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
_spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
assert _spec and _spec.loader
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)

OLD = """# Performance (issue 5)

| part | when | load at start | load at end | took |
| --- | --- | ---: | ---: | ---: |
| quality | old | 0.5 | 1.4 | 116 s |
| perf | old | 1.4 | 1.8 | 53 s |

## Targets

| target | measured | yardstick (same run) | holds |
| --- | --- | --- | --- |
| warm `bot.ask` p50 <= 1.0x stock encode (default corpus) | 4.29 ms | old | **yes** |
| no speed-up costs > 1 point of R@5 | -0.1 points | old | **yes** |

## Warm `bot.ask` latency

old latency table

## Encoder quality on the public eval sets

old quality rows

## What makes it fast

prose

## Load

kept as written by load_test.py
"""

NEW = """# Performance (issue 5)

| part | when | load at start | load at end | took |
| --- | --- | ---: | ---: | ---: |
| quality | new | 2.6 | 12.3 | 1817 s |

## Targets

| target | measured | yardstick (same run) | holds |
| --- | --- | --- | --- |
| no speed-up costs > 1 point of R@5 | +0.0 points | new | **yes** |

## Encoder quality on the public eval sets

new quality rows

## What makes it fast

prose
"""


def test_splice_replaces_only_what_the_part_measures() -> None:
    out = run.splice(OLD, NEW, ["quality"])
    assert out == (OLD.replace("| quality | old | 0.5 | 1.4 | 116 s |",
                               "| quality | new | 2.6 | 12.3 | 1817 s |")
                   .replace("| -0.1 points | old |", "| +0.0 points | new |")
                   .replace("old quality rows", "new quality rows"))
    assert "old latency table" in out and "kept as written by load_test.py" in out


def test_splice_refuses_a_report_without_the_section() -> None:
    try:
        run.splice(OLD.replace("## Encoder quality on the public eval sets", "## Other"), NEW, ["quality"])
    except SystemExit as exc:
        assert "Encoder quality" in str(exc)
    else:
        raise AssertionError("a missing section must not be skipped silently")
