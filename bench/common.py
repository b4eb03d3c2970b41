"""Helpers shared by the benchmarks: timing, memory, machine load, the sentence-transformers
yardstick, synthetic vectors, and the results folder.

Every benchmark writes a JSON file into the results folder (``QA_BOT_BENCH_DIR``, default
``/tmp/qa_bot-bench``: caches and results, never committed); ``bench/run.py`` turns them into
``bench/RESULTS.md`` and its plots.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

WORK = Path(os.environ.get("QA_BOT_BENCH_DIR", "/tmp/qa_bot-bench"))
RESULTS = WORK / "results"
QUESTION = "Does Ivanov regret the fall of the USSR?"


def evalsets() -> Path | None:
    """The converted public eval sets (``make evalsets``), when present."""
    for candidate in (os.environ.get("QA_BOT_EVALSETS"), ROOT / "bench" / "evalsets"):
        if candidate and (Path(candidate) / "qmsum" / "questions.jsonl").is_file() \
                and (Path(candidate) / "friendsqa" / "questions.jsonl").is_file():
            return Path(candidate)
    return None


def save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = dict(data, machine=machine())
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def loadavg() -> float:
    return os.getloadavg()[0]


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "load": round(loadavg(), 2), "when": time.strftime("%Y-%m-%d %H:%M")}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "n": len(ms)}


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int, warmup: int = 3) -> dict[str, list[float]]:
    """Time each function ``rounds`` times, taking turns (a, b, c, a, b, c, ...), so that a load
    swing on the shared machine hits every candidate alike."""
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


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def model_path() -> Path:
    from qa_bot.embedding import resolve_model

    return resolve_model("bundled")


def stock_model(threads: int | None = None) -> Any:
    """sentence-transformers as shipped: ``SentenceTransformer(path)``, default torch threads
    unless ``threads`` is given. Set the thread count before the first encode."""
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    return SentenceTransformer(str(model_path()), device="cpu")


def unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1)).astype(np.float32)


def gaussian_like(reference: np.ndarray, n: int, seed: int = 0, block: int = 100_000) -> np.ndarray:
    """``n`` random unit vectors from the Gaussian with the mean and covariance of
    ``reference`` (real chunk embeddings): random, but spread like embeddings are."""
    rng = np.random.default_rng(seed)
    mean = reference.mean(axis=0)
    cov = np.cov((reference - mean).T) + 1e-6 * np.eye(reference.shape[1])
    factor = np.linalg.cholesky(cov).astype(np.float32)
    out = np.empty((n, reference.shape[1]), dtype=np.float32)
    for at in range(0, n, block):
        rows = min(block, n - at)
        draw = mean.astype(np.float32) + rng.standard_normal((rows, reference.shape[1]),
                                                             dtype=np.float32) @ factor.T
        out[at:at + rows] = unit(draw)
    return out


def uniform_unit(n: int, dim: int = 384, seed: int = 0, block: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for at in range(0, n, block):
        rows = min(block, n - at)
        out[at:at + rows] = unit(rng.standard_normal((rows, dim), dtype=np.float32))
    return out
