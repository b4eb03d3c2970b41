"""Cold start: process start to first answer in fresh processes, against a process that loads
sentence-transformers and encodes the same question; ``qa-bot --help``; peak memory (RESULTS.md).

    python -m bench.coldstart [--reps 5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.common import QUESTION, ROOT, WORK, child, median, model_path, save

# Each child prints the time (time.time()) after its imports, after loading, after the answer.
CHILD = """
import json, resource, sys, time
import qa_bot
t_import = time.time()
bot = qa_bot.load(sys.argv[1], sys.argv[2])
t_load = time.time()
bot.ask(sys.argv[3])
print(json.dumps({"import": t_import, "load": t_load, "answer": time.time(), "embedded": bot.report.embedded,
                  "calls": bot.embedder.calls, "torch": "torch" in sys.modules,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
STOCK = """
import json, resource, sys, time
from sentence_transformers import SentenceTransformer
t_import = time.time()
model = SentenceTransformer(sys.argv[1], device="cpu")
t_load = time.time()
model.encode([sys.argv[2]])
print(json.dumps({"import": t_import, "load": t_load, "answer": time.time(),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, *args: Any, **env: str) -> dict[str, Any]:
    out = child(code, *args, **env)
    return out | {"total_s": out["answer"] - out["started"], "imports_s": out["import"] - out["started"],
                  "after_imports_s": out["answer"] - out["import"], "load_s": out["load"] - out["import"],
                  "first_answer_s": out["answer"] - out["load"]}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the times and memory; the most passages embedded, the most encoder calls, and
    whether any run imported torch."""
    keys = ("total_s", "imports_s", "after_imports_s", "load_s", "first_answer_s", "peak_rss_mb")
    out: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys}
    if "embedded" in runs[0]:
        out |= {"embedded": max(r["embedded"] for r in runs), "calls": max(r["calls"] for r in runs),
                "torch": any(r["torch"] for r in runs)}
    return out | {"runs": len(runs)}


def wall(*command: str) -> float:
    started = time.time()
    subprocess.run(command, capture_output=True, cwd=ROOT, timeout=120, check=True)
    return time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    corpus, saved, saved_torch = ROOT / "corpus", WORK / "coldstart-index", WORK / "coldstart-index-torch"
    WORK.mkdir(parents=True, exist_ok=True)
    for index, env in ((saved, {}), (saved_torch, {"QA_BOT_BACKEND": "torch"})):  # built and saved once
        shutil.rmtree(index, ignore_errors=True)
        run(CHILD, corpus, index, QUESTION, **env)
    runs: dict[str, list[dict[str, Any]]] = {"saved": [], "stock": [], "saved_torch": [], "no_index": []}
    for _ in range(args.reps):  # in turns
        runs["saved"].append(run(CHILD, corpus, saved, QUESTION))
        runs["stock"].append(run(STOCK, model_path(), QUESTION))
        runs["saved_torch"].append(run(CHILD, corpus, saved_torch, QUESTION, QA_BOT_BACKEND="torch"))
        with tempfile.TemporaryDirectory(dir=WORK) as fresh:
            runs["no_index"].append(run(CHILD, corpus, f"{fresh}/index", QUESTION))
    out = {name: summarise(r) for name, r in runs.items()}
    with tempfile.TemporaryDirectory(dir=WORK) as cache, tempfile.TemporaryDirectory(dir=WORK) as fresh:
        first = run(CHILD, corpus, f"{fresh}/index", QUESTION, QA_BOT_CACHE=cache)  # no exported model yet
        out["no_index_no_cache"] = summarise([first])
    out["help_s"] = median([wall(sys.executable, "-m", "qa_bot", "--help") for _ in range(args.reps)])
    out["python_s"] = median([wall(sys.executable, "-c", "pass") for _ in range(args.reps)])
    save("coldstart", out)


if __name__ == "__main__":
    main()
