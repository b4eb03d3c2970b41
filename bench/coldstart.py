"""Cold start: process start to first answer, in fresh processes, with a saved index, with no
index, and with no index nor exported model; against a process that loads sentence-transformers
and encodes the same question. Also ``qa-bot --help`` and each process's peak memory.
Results: ``<QA_BOT_BENCH_DIR>/results/coldstart.json``.

    .venv/bin/python bench/coldstart.py [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import QUESTION, ROOT, WORK, loadavg, median, model_path, save

# The child: timestamps (time.time()) after the imports, after loading, after the first answer.
CHILD = """
import json, os, resource, sys, time
t_start = time.time()
import qa_bot
t_import = time.time()
bot = qa_bot.load(sys.argv[1], sys.argv[2])
t_load = time.time()
result = bot.ask(sys.argv[3])
t_answer = time.time()
print(json.dumps({"import": t_import, "load": t_load, "answer": t_answer, "interpreter": t_start,
                  "embedded": bot.report.embedded, "calls": bot.embedder.calls,
                  "backend": getattr(bot.embedder, "backend", "?"),
                  "answers": len(result.answers),
                  "torch": "torch" in sys.modules,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

STOCK = """
import json, resource, sys, time
t_start = time.time()
from sentence_transformers import SentenceTransformer
t_import = time.time()
model = SentenceTransformer(sys.argv[1], device="cpu")
t_load = time.time()
model.encode([sys.argv[2]])
t_answer = time.time()
print(json.dumps({"import": t_import, "load": t_load, "answer": t_answer, "interpreter": t_start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=ROOT, timeout=600)
    ended = time.time()
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["total_s"] = out["answer"] - started  # process start to first answer
    out["imports_s"] = out["import"] - started  # interpreter and `import qa_bot`
    out["after_imports_s"] = out["answer"] - out["import"]  # loading + first answer
    out["load_s"] = out["load"] - out["import"]
    out["first_answer_s"] = out["answer"] - out["load"]
    out["exit_s"] = ended - started
    return out


def timed(args: list[str]) -> float:
    started = time.time()
    subprocess.run(args, capture_output=True, cwd=ROOT, timeout=120, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.time() - started


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("total_s", "imports_s", "after_imports_s", "load_s", "first_answer_s", "peak_rss_mb")
    out: dict[str, Any] = {k: median([r[k] for r in runs]) for k in keys if k in runs[0]}
    out["runs"] = len(runs)
    for k in ("embedded", "calls", "backend", "torch"):
        if k in runs[0]:
            out[k] = [r[k] for r in runs]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    out: dict[str, Any] = {"load_start": loadavg()}
    corpus = ROOT / "corpus"
    saved = WORK / "coldstart-index"
    shutil.rmtree(saved, ignore_errors=True)
    first = run_child(CHILD, [str(corpus), str(saved), QUESTION])  # builds and saves the index
    out["first_build"] = first
    warm_torch = WORK / "coldstart-index-torch"
    shutil.rmtree(warm_torch, ignore_errors=True)
    run_child(CHILD, [str(corpus), str(warm_torch), QUESTION], {"QA_BOT_BACKEND": "torch"})

    runs: dict[str, list[dict[str, Any]]] = {"saved": [], "saved_torch": [], "stock": [], "no_index": []}
    for _ in range(args.reps):  # interleaved
        runs["saved"].append(run_child(CHILD, [str(corpus), str(saved), QUESTION]))
        runs["stock"].append(run_child(STOCK, [str(model_path()), QUESTION]))
        runs["saved_torch"].append(run_child(CHILD, [str(corpus), str(warm_torch), QUESTION],
                                             {"QA_BOT_BACKEND": "torch"}))
        fresh = Path(tempfile.mkdtemp(dir=WORK))
        runs["no_index"].append(run_child(CHILD, [str(corpus), str(fresh / "index"), QUESTION]))
        shutil.rmtree(fresh, ignore_errors=True)
    out |= {name: summarise(r) for name, r in runs.items()}

    cache = Path(tempfile.mkdtemp(dir=WORK))  # no exported model: the first run on a machine
    fresh = Path(tempfile.mkdtemp(dir=WORK))
    out["no_index_no_cache"] = summarise([run_child(CHILD, [str(corpus), str(fresh / "index"), QUESTION],
                                                    {"QA_BOT_CACHE": str(cache)})])
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(fresh, ignore_errors=True)

    out["help_s"] = median([timed([sys.executable, "-m", "qa_bot", "--help"]) for _ in range(args.reps)])
    out["python_s"] = median([timed([sys.executable, "-c", "pass"]) for _ in range(args.reps)])
    out["load_end"] = loadavg()
    save("coldstart", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
