"""What the benchmarks share: paths, the machine, timing, results, the yardstick, synthetic vectors.

Each benchmark (``python -m bench.<name>`` from the repository root) saves its figures in
``bench/results/<name>.json``, committed; ``python -m bench.render`` writes them into the reports.
Caches (indexes, generated corpora) go to ``QA_BOT_BENCH_DIR``, never committed.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
WORK = Path(os.environ.get("QA_BOT_BENCH_DIR", "/tmp/qa_bot-bench"))
QUESTION = "Does Ivanov regret the fall of the USSR?"
STARTED, LOAD_START = time.time(), os.getloadavg()[0]


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "when": time.strftime("%Y-%m-%d %H:%M")}


def save(name: str, data: dict[str, Any]) -> None:
    """``bench/results/<name>.json``: the figures, the machine, its load and how long the run took."""
    data = {**data, "machine": machine(), "load_start": LOAD_START, "load_end": os.getloadavg()[0],
            "took": time.time() - STARTED}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, default=float) + "\n", encoding="utf-8")
    print(f"wrote bench/results/{name}.json; python -m bench.render puts it in the reports", file=sys.stderr)


def evalsets() -> Path | None:
    """The converted public eval sets (``make evalsets``), when present."""
    for folder in (os.environ.get("QA_BOT_EVALSETS"), BENCH / "evalsets"):
        if folder and all((Path(folder) / s / "questions.jsonl").is_file() for s in ("qmsum", "friendsqa")):
            return Path(folder)
    return None


def questions(path: Path, n: int | None = None) -> list[str]:
    """The "question" of each line of a JSON-lines file (the eval sets' and tests/data's format)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line)["question"] for line in lines[:n]]


def child(code: str, *args: Any, timeout: float = 600, **env: str) -> dict[str, Any]:
    """Run ``python -c code args`` in a fresh process; its last line of output, read as JSON, with
    ``started``: this process's clock when it was started."""
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env={**os.environ, **env})
    if done.returncode:
        raise RuntimeError(f"child failed: {done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "started": started}


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)), "n": len(ms)}


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int, warmup: int = 3) -> dict[str, list[float]]:
    """Each function timed ``rounds`` times, in turns (a, b, c, a, b, c, ...), so that a load swing
    on the shared machine hits every candidate alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return times


def model_path() -> Path:
    from qa_bot.embedding import resolve_model

    return resolve_model("bundled")


def stock_model() -> Any:
    """The yardstick: sentence-transformers as shipped, ``SentenceTransformer(path)`` on the CPU."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu")


def unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1)).astype(np.float32)


def in_blocks(n: int, dim: int, draw: Callable[[int], np.ndarray], block: int = 100_000) -> np.ndarray:
    """``n`` unit rows drawn ``block`` at a time into one array (no second copy of a million rows)."""
    out = np.empty((n, dim), dtype=np.float32)
    for at in range(0, n, block):
        out[at:at + min(block, n - at)] = unit(draw(min(block, n - at)))
    return out


def uniform_unit(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return in_blocks(n, dim, lambda rows: rng.standard_normal((rows, dim), dtype=np.float32))


def gaussian_like(reference: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` random unit vectors from the Gaussian with the mean and covariance of ``reference``
    (real chunk embeddings): random, but spread as embeddings are."""
    rng, dim = np.random.default_rng(seed), reference.shape[1]
    mean = reference.mean(axis=0)
    factor = np.linalg.cholesky(np.cov((reference - mean).T) + 1e-6 * np.eye(dim)).astype(np.float32)
    return in_blocks(n, dim, lambda rows: mean.astype(np.float32)
                     + rng.standard_normal((rows, dim), dtype=np.float32) @ factor.T)
