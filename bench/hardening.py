"""Kill and two-writer trials of the index folder, with real ``qa-bot index`` processes and the
bundled model (issue 13): what a crash or a second writer does to a saved index.

* **kills**: a transcript of the corpus is changed, ``qa-bot index`` started and SIGKILLed after a
  random delay (anywhere from loading the model to switching the manifest); then the folder must
  load as a whole index (the old one or the new one), and the next ``qa-bot index`` must succeed.
* **pairs**: the transcript is changed and two ``qa-bot index`` are started together on the same
  folder; both must succeed, the folder must load, and a third run must embed nothing.

    .venv/bin/python bench/hardening.py --kills 35 --pairs 30

Results go to ``<QA_BOT_BENCH_DIR>/results/hardening.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, WORK, loadavg

# ``-c`` with ROOT as the working folder: this checkout's qa_bot, whatever the venv points at.
QA_BOT = [sys.executable, "-c", "import sys; from qa_bot.cli import main; sys.exit(main())"]
EMBEDDED = re.compile(r"embedded (\d+) texts")


def talk(turns: int, seed: int) -> str:
    """A changed transcript of ``turns`` question-and-reply pairs: each trial's differs."""
    rng = random.Random(seed)
    words = ["harbour", "ferry", "lamp", "storm", "net", "reef", "boat", "pier", "village", "school",
             "winter", "keeper"]
    lines = []
    for n in range(turns):
        lines.append(f"Host: What happened with the {rng.choice(words)} in week {n}?")
        lines.append("Mara: " + " ".join(rng.choice(words) for _ in range(24)) + f" ({seed}).")
    return "\n".join(lines) + "\n"


def run_index(corpus: Path, index: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*QA_BOT, "index", "--corpus", str(corpus), "--index", str(index)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def loads(index: Path) -> bool:
    """Whether the folder holds a whole index: its manifest, checksums, records and vectors."""
    from qa_bot import index as index_mod

    return index_mod.load(index) is not None


def setup(work: Path, turns: int) -> tuple[Path, Path]:
    corpus, index = work / "corpus", work / "index"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "talk.txt").write_text(talk(turns, 0), encoding="utf-8")
    done = run_index(corpus, index).communicate(timeout=900)
    assert loads(index), done
    return corpus, index


def kills(trials: int, turns: int, work: Path) -> dict[str, Any]:
    corpus, index = setup(work / "kills", turns)
    (corpus / "talk.txt").write_text(talk(turns, -1), encoding="utf-8")
    start = time.perf_counter()
    run = run_index(corpus, index)
    run.communicate(timeout=900)
    full = time.perf_counter() - start  # the whole run with the transcript changed
    rng = random.Random(13)
    broken, failed_after, delays = 0, 0, []
    for trial in range(trials):
        (corpus / "talk.txt").write_text(talk(turns, trial + 1), encoding="utf-8")
        delay = rng.uniform(0.2, full)
        run = run_index(corpus, index)
        time.sleep(delay)
        run.send_signal(signal.SIGKILL)
        run.communicate()
        delays.append(delay)
        broken += not loads(index)
        after = run_index(corpus, index)
        after.communicate(timeout=900)
        failed_after += after.returncode != 0 or not loads(index)
    return {"trials": trials, "turns": turns, "full_run_s": round(full, 1),
            "delays_s": [round(min(delays), 1), round(max(delays), 1)],
            "index_unusable_after_kill": broken, "next_run_failed": failed_after}


def pairs(trials: int, turns: int, work: Path) -> dict[str, Any]:
    corpus, index = setup(work / "pairs", turns)
    failed, unusable, re_embedded, both_embedded = 0, 0, 0, 0
    for trial in range(trials):
        (corpus / "talk.txt").write_text(talk(turns, 1000 + trial), encoding="utf-8")
        runs = [run_index(corpus, index), run_index(corpus, index)]
        outs = [r.communicate(timeout=1800) for r in runs]
        failed += sum(r.returncode != 0 for r in runs)
        embedded = [int(m.group(1)) if (m := EMBEDDED.search(o)) else -1 for o, _ in outs]
        both_embedded += min(embedded) > 0  # the second writer should find the first's index
        unusable += not loads(index)
        third = run_index(corpus, index)
        out, _ = third.communicate(timeout=900)
        found = EMBEDDED.search(out)
        re_embedded += third.returncode != 0 or not found or int(found.group(1)) != 0
    return {"trials": trials, "turns": turns, "a_writer_failed": failed, "index_unusable": unusable,
            "both_embedded": both_embedded, "next_run_embedded_again": re_embedded}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=35)
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--turns", type=int, default=300, help="question-and-reply pairs changed")
    args = parser.parse_args(argv)
    work = WORK / "hardening"
    result: dict[str, Any] = {"load_start": loadavg()}
    if args.kills:
        result["kills"] = kills(args.kills, args.turns, work)
        print("kills:", json.dumps(result["kills"]), flush=True)
    if args.pairs:
        result["pairs"] = pairs(args.pairs, args.turns, work)
        print("pairs:", json.dumps(result["pairs"]), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hardening.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
