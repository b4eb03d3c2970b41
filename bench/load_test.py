"""Load test: concurrent ``gradio_client`` clients asking the running app, on loopback.

By default it launches ``app.py`` over a temporary copy of ``corpus/`` (the real bundled model,
the app's own concurrency limits), then runs 32 clients, each asking question after question
through the ``/ask`` API for 60 seconds; half-way through, one more client adds a transcript, so
the index is rewritten under load. Every reply is checked: a JSON result whose quotes are exact
slices of their context. Any failure or bad reply counts as an error.

    python bench/load_test.py                                   # 32 clients, 60 s, prints the report
    python bench/load_test.py --out bench/RESULTS.md            # also writes its "## Load" section
    python bench/load_test.py --sweep 1,2,4,8 --duration 30     # compare concurrency limits first
    python bench/load_test.py --url http://127.0.0.1:7860/      # an app you started yourself

``--out FILE`` replaces only the ``## Load`` section of FILE (appended when missing); the rest of
the file is left as it is. Exit status: 0 with no errors, 1 with any.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # for ``import app`` when run as ``python bench/load_test.py``
    sys.path.insert(0, str(ROOT))
SECTION = "## Load"
SWEEP_HEADING = "### Choosing the concurrency limit"
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

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def percentile(self, p: float) -> float:
        """The p-th percentile of the latencies in seconds (nearest rank), 0 with none."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
        return ordered[rank - 1]

    def summary(self) -> dict[str, Any]:
        return {"clients": self.clients, "processes": self.processes, "duration_s": self.duration,
                "concurrency": self.concurrency,
                "requests": self.requests, "errors": len(self.errors),
                "throughput_rps": round(len(self.latencies) / self.elapsed, 2) if self.elapsed else 0,
                "p50_ms": round(1000 * self.percentile(50)), "p95_ms": round(1000 * self.percentile(95)),
                "p99_ms": round(1000 * self.percentile(99)),
                "max_ms": round(1000 * max(self.latencies, default=0)),
                "mean_ms": round(1000 * statistics.fmean(self.latencies)) if self.latencies else 0,
                "upload": self.upload, "app_cpu_s": self.app_cpu, "client_cpu_s": self.client_cpu,
                "first_errors": self.errors[:5]}


def check_result(result: Any) -> None:
    """Raise ValueError unless ``result`` is the ask JSON with every quote a slice of its context."""
    if not isinstance(result, dict) or not isinstance(result.get("answers"), list):
        raise ValueError(f"not an ask result: {str(result)[:120]}")
    for a in result["answers"]:
        at = a["start"] - a["context_start"]
        if a["context"][at:at + len(a["quote"])] != a["quote"] or a["end"] - a["start"] != len(a["quote"]):
            raise ValueError(f"quote is not verbatim: {a['quote'][:60]!r}")


def _client(url: str, auth: tuple[str, str] | None) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, auth=auth)


def _ask_loop(url: str, first: int, clients: int, duration: float, auth: tuple[str, str] | None,
              questions: Sequence[tuple[str, int, str, str]], ready: Any) -> tuple[list[float], list[str]]:
    """``clients`` threads of this process, each with its own ``Client``, asking until the time is
    up; they start together once ``ready`` (a barrier shared with the caller) is passed."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    connected = [_client(url, auth) for _ in range(clients)]  # connecting is not measured
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(n: int, client: Any) -> None:
        start.wait()
        i = n
        while time.monotonic() < deadline[0]:
            question, top_k, transcript, speaker = questions[i % len(questions)]
            i += 1
            began = time.perf_counter()
            try:
                result = client.predict(question, top_k, transcript, speaker, api_name="/ask")
                check_result(result)
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)

    threads = [threading.Thread(target=worker, args=(first + n, c), daemon=True)
               for n, c in enumerate(connected)]
    for thread in threads:
        thread.start()
    ready.wait()
    deadline[0] = time.monotonic() + duration
    start.wait()
    for thread in threads:
        thread.join(duration + 600)
    return latencies, errors


def _process_main(url: str, first: int, clients: int, duration: float, auth: tuple[str, str] | None,
                  questions: Sequence[tuple[str, int, str, str]], ready: Any, results: Any) -> None:
    results.put(_ask_loop(url, first, clients, duration, auth, questions, ready))


def run_load(url: str, clients: int = 32, duration: float = 60.0, upload: bool = True,
             auth: tuple[str, str] | None = None, concurrency: int | None = None,
             questions: Sequence[tuple[str, int, str, str]] = QUESTIONS, processes: int = 1) -> Stats:
    """``clients`` concurrent ``gradio_client.Client`` objects asking for ``duration`` seconds.

    Args:
        url: the running app.
        clients: concurrent clients; each waits for its answer before asking again.
        duration: seconds of asking, after every client is connected.
        upload: half-way through, add a transcript through ``/add_transcript`` and check that
            it is searchable (its latency is reported, not mixed with the questions').
        auth: (user, password) when the app requires a login.
        concurrency: the app's limit, for the report only.
        questions: what to ask, in turn.
        processes: spread the clients over this many processes, so that one Python process's
            lock does not cap them (run as a script: the child processes import this file).

    Returns:
        The latencies and errors.
    """
    stats = Stats(clients, duration, concurrency, processes)
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    firsts = [sum(shares[:n]) for n in range(processes)]
    if processes == 1:
        ready = threading.Barrier(2)
        outcome: list[tuple[list[float], list[str]]] = []
        runner = threading.Thread(target=lambda: outcome.append(
            _ask_loop(url, 0, clients, duration, auth, questions, ready)), daemon=True)
        runner.start()
        ready.wait()
        began = time.monotonic()
        if upload:
            time.sleep(duration / 2)
            stats.upload = _upload(url, auth)
        runner.join(duration + 600)
        parts = outcome
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(processes + 1), context.Queue()
        workers = [context.Process(target=_process_main, args=(url, first, share, duration, auth,
                                                               list(questions), barrier, results))
                   for first, share in zip(firsts, shares, strict=True)]
        for worker in workers:
            worker.start()
        barrier.wait(timeout=600)
        began = time.monotonic()
        if upload:
            time.sleep(duration / 2)
            stats.upload = _upload(url, auth)
        parts = [results.get(timeout=duration + 600) for _ in workers]
        for worker in workers:
            worker.join(60)
    stats.elapsed = time.monotonic() - began
    for latencies, errors in parts:
        stats.latencies += latencies
        stats.errors += errors
    if stats.upload.startswith("error"):
        stats.errors.append(f"upload: {stats.upload}")
    return stats


def _upload(url: str, auth: tuple[str, str] | None) -> str:
    from gradio_client import handle_file

    client = _client(url, auth)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"cranes-{os.getpid()}-{int(time.time())}.txt"
        path.write_text(UPLOAD, encoding="utf-8")
        began = time.perf_counter()
        try:
            added = client.predict(handle_file(str(path)), api_name="/add_transcript")
            took = time.perf_counter() - began
            if added.get("transcript") != path.name:
                return f"error: added {str(added)[:200]}"
            found = client.predict("Where do the cranes spend the winter?", 1, path.stem, "",
                                   api_name="/ask")
            if "southern Spain" not in found["answers"][0]["quote"]:
                return "error: the added transcript is not searchable"
        except Exception as exc:
            return f"error: {type(exc).__name__}: {str(exc)[:200]}"
    return f"ok in {took:.1f} s, searchable at once"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) used so far by process ``pid``, or by this one and its finished
    children (the client processes)."""
    if pid is None:
        import resource

        mine = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(url: str, pid: int | None, **kwargs: Any) -> Stats:
    """``run_load`` with the CPU time of the app (when its pid is known) and of the clients."""
    app_before, client_before = cpu_seconds(pid) if pid else None, cpu_seconds()
    stats = run_load(url, **kwargs)
    app_after, client_after = cpu_seconds(pid) if pid else None, cpu_seconds()
    if app_before is not None and app_after is not None:
        stats.app_cpu = round(app_after - app_before, 1)
    if client_before is not None and client_after is not None:
        stats.client_cpu = round(client_after - client_before, 1)
    return stats


@contextlib.contextmanager
def launched(corpus: Path, concurrency: int | None = None, timeout: float = 300
             ) -> Iterator[tuple[str, int]]:
    """``python app.py`` over a temporary copy of ``corpus`` on a free loopback port; yields its
    URL and process id."""
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="qa-bot-load-") as folder:
        copy = Path(folder) / "corpus"
        shutil.copytree(corpus, copy)
        port = free_port()
        command = [sys.executable, str(ROOT / "app.py"), "--corpus", str(copy), "--index",
                   str(Path(folder) / "index"), "--host", "127.0.0.1", "--port", str(port)]
        if concurrency is not None:
            command += ["--concurrency", str(concurrency)]
        env = {k: v for k, v in os.environ.items() if k not in {"QA_BOT_USERNAME", "QA_BOT_PASSWORD"}}
        env.setdefault("HF_HUB_OFFLINE", "1")
        log = (Path(folder) / "app.log").open("w")
        proc = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            give_up = time.monotonic() + timeout
            while True:  # up, and the model and the index loaded: one question answered
                if proc.poll() is not None or time.monotonic() > give_up:
                    log.flush()
                    raise RuntimeError("app.py did not start:\n" + (Path(folder) / "app.log").read_text())
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.3)
            check_result(Client(url, verbose=False).predict(*QUESTIONS[0], api_name="/ask"))
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = f", load average {os.getloadavg()[0]:.1f} at the start" if hasattr(os, "getloadavg") else ""
    return f"{os.cpu_count()} CPUs ({cpu}){load}, Python {platform.python_version()}"


def report(main: Stats, sweep: Sequence[Stats] = (), command: str = "", where: str = "") -> str:
    """The ``## Load`` section in Markdown."""
    s = main.summary()
    ok = "no errors" if not s["errors"] else f"**{s['errors']} errors**"
    lines = [
        SECTION, "",
        f"{main.clients} concurrent `gradio_client` clients (in {main.processes} processes) asking the "
        f"app's `/ask` API on loopback for {main.duration:g} s, each asking again as soon as it has its "
        f"answer, over the bundled "
        f"corpus with the real model; half-way through, one more client adds a transcript. "
        f"Measured {date.today().isoformat()} on {where or machine()}; `{command}`.", "",
        "| clients | concurrency limit | requests | errors | throughput | p50 | p95 | p99 | max |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        _row(main), "",
        f"Result: {ok}; p95 latency {s['p95_ms']} ms. Upload under load: {s['upload']}.",
    ]
    if main.app_cpu is not None and main.client_cpu is not None and main.requests:
        lines += ["", f"CPU time during the run: the app {main.app_cpu:g} s, the clients (on the same "
                  f"machine) {main.client_cpu:g} s, of {main.elapsed * (os.cpu_count() or 1):.0f} s "
                  f"available: {1000 * main.app_cpu / main.requests:.0f} ms of the app's CPU per question "
                  f"against {1000 * main.client_cpu / main.requests:.0f} ms of the clients'. The latencies "
                  "are mostly time spent waiting for a CPU, so they bound the app's from above."]
    if main.errors:
        lines += ["", "First errors:", *(f"- `{e}`" for e in s["first_errors"])]
    if sweep:
        lines += ["", SWEEP_HEADING, "",
                  f"The same load ({sweep[0].clients} clients, {sweep[0].duration:g} s each, no upload) "
                  "with other limits on questions answered at once (`--concurrency`), to choose "
                  "`CONCURRENCY` in `app.py`:", "",
                  "| clients | concurrency limit | requests | errors | throughput | p50 | p95 | p99 | max |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
                  *(_row(run) for run in sweep)]
    return "\n".join(lines) + "\n"


def _row(run: Stats) -> str:
    s = run.summary()
    return (f"| {s['clients']} | {s['concurrency'] or 'app default'} | {s['requests']} | {s['errors']} | "
            f"{s['throughput_rps']}/s | {s['p50_ms']} ms | {s['p95_ms']} ms | {s['p99_ms']} ms | "
            f"{s['max_ms']} ms |")


def write_section(path: Path, section: str) -> None:
    """Replace the ``## Load`` section of ``path`` (up to the next ``## `` heading), or append it.

    A sweep subsection already there is kept when the new section has none.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(rf"(?ms)^{re.escape(SECTION)}[ \t]*\n.*?(?=^## |\Z)")
    old = pattern.search(text)
    if old and SWEEP_HEADING not in section and SWEEP_HEADING in old.group(0):
        kept = old.group(0)[old.group(0).index(SWEEP_HEADING):].rstrip("\n")
        section = section.rstrip("\n") + "\n\n" + kept + "\n"
    if old:
        text = text[:old.start()] + section + ("\n" if text[old.end():] else "") + text[old.end():]
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: launch app.py over a copy of --corpus)")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="default: corpus/")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of asking")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="the launched app's limit (default: the app's own)")
    parser.add_argument("--sweep", default="", help="comma-separated limits to compare first, e.g. 1,2,4,8")
    parser.add_argument("--processes", type=int, default=min(4, os.cpu_count() or 1),
                        help="client processes to spread the clients over (default: CPUs, at most 4)")
    parser.add_argument("--no-upload", action="store_true", help="only ask, never add a transcript")
    parser.add_argument("--out", type=Path, help="write the report as the '## Load' section of this file")
    parser.add_argument("--json", type=Path, help="also write the raw numbers as JSON")
    args = parser.parse_args(argv)
    auth = None
    if os.environ.get("QA_BOT_USERNAME") and args.url:
        auth = (os.environ["QA_BOT_USERNAME"], os.environ.get("QA_BOT_PASSWORD", ""))
    command = "python bench/load_test.py " + " ".join(argv if argv is not None else sys.argv[1:])

    machine_line = machine()  # before any run: the load average of what else is running
    sweep = []
    for limit in [int(x) for x in args.sweep.split(",") if x.strip()]:
        with launched(args.corpus, limit) as (url, pid):
            run = measured(url, pid, clients=args.clients, duration=args.duration, upload=False,
                           concurrency=limit, processes=args.processes)
        print(json.dumps(run.summary()), flush=True)
        sweep.append(run)
    if args.url:
        main_run = measured(args.url, None, clients=args.clients, duration=args.duration,
                            upload=not args.no_upload, auth=auth, concurrency=args.concurrency,
                            processes=args.processes)
    else:
        import app

        with launched(args.corpus, args.concurrency) as (url, pid):
            main_run = measured(url, pid, clients=args.clients, duration=args.duration,
                                upload=not args.no_upload, concurrency=args.concurrency or app.CONCURRENCY,
                                processes=args.processes)
    print(json.dumps(main_run.summary()), flush=True)
    section = report(main_run, sweep, command.strip(), machine_line)
    print(section)
    if args.out:
        write_section(args.out, section)
    if args.json:
        args.json.write_text(json.dumps({"main": main_run.summary(),
                                         "sweep": [r.summary() for r in sweep]}, indent=2))
    return 1 if main_run.errors or any(r.errors for r in sweep) else 0


if __name__ == "__main__":
    sys.exit(main())
