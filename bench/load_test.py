"""Load test: concurrent ``gradio_client`` clients asking the app on loopback (RESULTS.md, "Load").

    python -m bench.load_test [--clients 32] [--duration 60]   # exit status 1 on any error

It launches ``app.py`` over a temporary copy of ``corpus/`` (the bundled model, the app's own
concurrency limit); every client asks question after question through ``/ask``; half-way through,
one more adds a transcript. Every reply is checked: quotes must be exact slices of their context.
Imports nothing from bench/ at the top: tests load this file by its path.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# (question, top_k, transcript, speaker): the examples, filtered questions, one with no answer.
QUESTIONS: tuple[tuple[str, int, str, str], ...] = (
    ("Does Ivanov regret the fall of the USSR?", 3, "", ""),
    ("Why should Russia help Kyrgyzstan?", 3, "", ""),
    ("Is there radical recruiting in Central Asia?", 5, "", ""),
    ("Why spend money abroad when Russia has its own problems?", 3, "", ""),
    ("Does the U.S. help fight drug production in Afghanistan?", 1, "", ""),
    ("Who did he meet from Washington?", 3, "viktor-ivanov-interview", ""),
    ("What does he say about heroin?", 3, "", "Viktor Ivanov"),
    ("What is the recipe for chocolate cake?", 3, "", ""),
)
UPLOAD = ("Interviewer: Where do the cranes spend the winter?\n"
          "Alice Moreau: The cranes winter in the marshes of southern Spain, near the lagoons.\n")
HEAD = ("| clients | concurrency limit | requests | errors | throughput | p50 | p95 | p99 | max |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")


@dataclass
class Stats:
    """What one run measured: latencies of the successful requests, and the errors."""

    clients: int
    duration: float
    concurrency: int | None
    processes: int = 1
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    upload: str = "not run"
    elapsed: float = 0.0
    app_cpu: float | None = None  # CPU seconds the app used during the run
    client_cpu: float | None = None  # CPU seconds these clients used

    def percentile(self, p: float) -> float:
        """The p-th percentile of the latencies in seconds (nearest rank), 0 with none."""
        ordered = sorted(self.latencies)
        return ordered[max(1, min(len(ordered), math.ceil(p / 100 * len(ordered)))) - 1] if ordered else 0.0

    def summary(self) -> dict[str, Any]:
        ms = {f"p{p}_ms": round(1000 * self.percentile(p)) for p in (50, 95, 99)}
        return {"clients": self.clients, "processes": self.processes, "duration_s": self.duration,
                "concurrency": self.concurrency, "requests": len(self.latencies) + len(self.errors),
                "errors": len(self.errors), "elapsed_s": self.elapsed,
                "throughput_rps": round(len(self.latencies) / self.elapsed, 2) if self.elapsed else 0, **ms,
                "max_ms": round(1000 * max(self.latencies, default=0)),
                "upload": self.upload, "app_cpu_s": self.app_cpu, "client_cpu_s": self.client_cpu,
                "first_errors": self.errors[:5]}


def row(s: dict[str, Any]) -> str:
    times = " | ".join(f"{s[k]} ms" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
    return (f"| {s['clients']} | {s['concurrency'] or 'app default'} | {s['requests']} | {s['errors']} | "
            f"{s['throughput_rps']}/s | {times} |")


def report(run: Stats, command: str = "") -> str:
    """The run as the "## Load" table; ``python -m bench.render`` writes RESULTS.md's from the results."""
    s = run.summary()
    errors = "".join(f"\n- `{e}`" for e in s["first_errors"])
    return f"## Load\n\n{HEAD}\n{row(s)}\n\nUpload under load: {s['upload']}. `{command}`{errors}\n"


def write_section(path: Path, section: str) -> None:
    """Replace the "## Load" section of ``path`` (up to the next "## " heading), or append it. Not used
    by ``make bench`` (bench/render.py writes RESULTS.md); kept for the e2e test that pins it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    old = re.search(r"(?ms)^## Load[ \t]*\n.*?(?=^## |\Z)", text)
    if old:
        text = text[:old.start()] + section + ("\n" if text[old.end():] else "") + text[old.end():]
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    path.write_text(text, encoding="utf-8")


def check_result(result: Any) -> None:
    """Raise ValueError unless ``result`` is the ask JSON with every quote a slice of its context."""
    if not isinstance(result, dict) or not isinstance(result.get("answers"), list):
        raise ValueError(f"not an ask result: {str(result)[:120]}")
    for a in result["answers"]:
        at = a["start"] - a["context_start"]
        if a["context"][at:at + len(a["quote"])] != a["quote"] or a["end"] - a["start"] != len(a["quote"]):
            raise ValueError(f"quote is not verbatim: {a['quote'][:60]!r}")


def client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False)


def ask_loop(url: str, first: int, clients: int, duration: float,
             questions: Sequence[Any], ready: Any, results: Any) -> None:
    """``clients`` threads, each with its own ``Client``, asking until the time is up; they start
    together once ``ready`` (a barrier shared with the caller) is passed. Puts (latencies, errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    connected = [client(url) for _ in range(clients)]  # connecting is not measured
    start, deadline = threading.Barrier(clients + 1), [0.0]

    def worker(n: int, c: Any) -> None:
        start.wait()
        while time.monotonic() < deadline[0]:
            question, top_k, transcript, speaker = questions[n % len(questions)]
            n += 1
            began = time.perf_counter()
            try:
                check_result(c.predict(question, top_k, transcript, speaker, api_name="/ask"))
                latencies.append(time.perf_counter() - began)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=worker, args=(first + n, c), daemon=True)
               for n, c in enumerate(connected)]
    for thread in threads:
        thread.start()
    ready.wait()
    deadline[0] = time.monotonic() + duration
    start.wait()
    for thread in threads:
        thread.join(duration + 600)
    results.put((latencies, errors))


def run_load(url: str, clients: int = 32, duration: float = 60.0, upload: bool = True,
             concurrency: int | None = None, questions: Sequence[tuple[str, int, str, str]] = QUESTIONS,
             processes: int = 1) -> Stats:
    """``clients`` concurrent clients asking ``questions`` in turn for ``duration`` seconds, spread over
    ``processes`` processes (one: threads of this one) so that one interpreter's lock does not cap
    them; with ``upload``, a transcript is added half-way through and must be searchable at once.
    ``concurrency`` is the app's limit, for the report."""
    stats = Stats(clients, duration, concurrency, processes)
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    if processes == 1:
        ready, results, spawn = threading.Barrier(2), queue.Queue(), threading.Thread
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        ready, results, spawn = context.Barrier(processes + 1), context.Queue(), context.Process
    workers = [spawn(target=ask_loop, daemon=True,
                     args=(url, sum(shares[:n]), share, duration, list(questions), ready, results))
               for n, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    ready.wait(timeout=600)
    began = time.monotonic()
    if upload:
        time.sleep(duration / 2)
        stats.upload = add_upload(url)
    for latencies, errors in [results.get(timeout=duration + 600) for _ in workers]:
        stats.latencies += latencies
        stats.errors += errors
    stats.elapsed = time.monotonic() - began
    if stats.upload.startswith("error"):
        stats.errors.append(f"upload: {stats.upload}")
    return stats


def add_upload(url: str) -> str:
    from gradio_client import handle_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"cranes-{os.getpid()}-{int(time.time())}.txt"
        path.write_text(UPLOAD, encoding="utf-8")
        began = time.perf_counter()
        try:
            added = client(url).predict(handle_file(str(path)), api_name="/add_transcript")
            took = time.perf_counter() - began
            if added.get("transcript") != path.name:
                return f"error: added {str(added)[:200]}"
            found = client(url).predict("Where do the cranes spend the winter?", 1, path.stem, "",
                                        api_name="/ask")
            if "southern Spain" not in found["answers"][0]["quote"]:
                return "error: the added transcript is not searchable"
        except Exception as exc:
            return f"error: {type(exc).__name__}: {str(exc)[:200]}"
    return f"ok in {took:.1f} s, searchable at once"


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of process ``pid``, or of this one and its finished children."""
    if pid is None:
        import resource

        mine, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return mine.ru_utime + mine.ru_stime + kids.ru_utime + kids.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def launched(corpus: Path, timeout: float = 300) -> Iterator[tuple[str, int]]:
    """``python app.py`` over a temporary copy of ``corpus`` on a free loopback port; yields its URL
    and process id once it has answered a question."""
    with tempfile.TemporaryDirectory(prefix="qa-bot-load-") as folder, open(f"{folder}/app.log", "w") as log:
        shutil.copytree(corpus, Path(folder) / "corpus")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in {"QA_BOT_USERNAME", "QA_BOT_PASSWORD"}}
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--corpus", f"{folder}/corpus",
                                 "--index", f"{folder}/index", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=folder, env={**env, "HF_HUB_OFFLINE": "1"}, stdout=log, stderr=log)
        url, give_up = f"http://127.0.0.1:{port}/", time.monotonic() + timeout
        try:
            while not listening(port):
                if proc.poll() is not None or time.monotonic() > give_up:
                    raise RuntimeError("app.py did not start:\n" + (Path(folder) / "app.log").read_text())
                time.sleep(0.3)
            check_result(client(url).predict(*QUESTIONS[0], api_name="/ask"))
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of asking")
    parser.add_argument("--processes", type=int, default=min(4, os.cpu_count() or 1),
                        help="client processes to spread the clients over (default: CPUs, at most 4)")
    args = parser.parse_args(argv)
    import app
    from bench.common import save

    with launched(ROOT / "corpus") as (url, pid):
        app_cpu, client_cpu = cpu_seconds(pid), cpu_seconds()
        run = run_load(url, args.clients, args.duration, concurrency=app.CONCURRENCY,
                       processes=args.processes)
        run.app_cpu = round(cpu_seconds(pid) - app_cpu, 1)
        run.client_cpu = round(cpu_seconds() - client_cpu, 1)
    command = " ".join(["python -m bench.load_test", *(argv if argv is not None else sys.argv[1:])])
    save("load", {"main": run.summary(), "command": command})
    print(report(run, command))
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
