"""Large uploads: how long ``QaBot.add_transcript`` takes, and how much memory, as uploads grow.

Two kinds of generated upload, each at growing sizes: ``prose`` (paragraphs of ordinary
sentences, the "19 MB of words" of issue 13) and ``turns`` (many tiny labelled turns,
``Ann: Yes, fine.``, the "100k tiny turns"). Each size runs in a fresh subprocess with the real
bundled model (the app's default backend and threads), so that peak RSS (``ru_maxrss``) is that
upload's alone: the process opens a bot over a one-file corpus, then adds the upload and reports
the wall time of ``add_transcript`` (split into parsing, embedding and the rest from the progress
calls), the passages embedded and the process's peak RSS.

A kind stops growing once a size takes longer than ``--stop`` seconds (the next, twice as big,
would take minutes). The cap is the largest size measured within ``--seconds`` and ``--mb`` for
both kinds; ``bench/UPLOADS.md`` gets the table and the cap, ``bench/UPLOADS.json`` the rows (a
run of other sizes can be merged into it by hand; ``--report`` rewrites the page from it).

    .venv/bin/python bench/uploads.py [--sizes 0.05,0.1,0.2] [--kinds prose,turns] [--report]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, machine, peak_rss_mb, rss_mb

VOCABULARY = ("the a of to and in that it was for on are with as his they at be this from have or by "
         "one had not but what all were when we there can an your which their said if do will "
         "each about how up out them then she many some so these would other into has more her "
         "two like him see time could no make than first been its who now people my made over did "
         "down only way find use may water long little very after words called just where most "
         "know get through back much go good new write our me man too any day same right look "
         "think also around another came come work three word must because does part even place "
         "well such here take why things help put years different away again off went old number "
         "great tell men say small every found still between name should home big give air line "
         "set own under read last never us left end along while might next sound below saw "
         "something thought both few those always looked show large often together asked house "
         "world going want school important until form food keep children feet land side without "
         "boy once animals life enough took sometimes four head above kind began almost live page "
         "got earth need far hand high year mother light parts country father let night following "
         "picture being study second eyes soon times story boys since white days ever paper hard "
         "near sentence better best across during today others however sure means knew trying "
         "money river city market bread winter summer garden letter village doctor family")
WORDS = VOCABULARY.split()
NAMES = ("Ann", "Ben", "Cleo", "Dev")
REPLIES = ("Yes.", "No.", "Sure, fine.", "Why not?", "I think so.", "Maybe later.", "Right.",
           "Okay, go on.", "Not really.", "That was it.")


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    return " ".join(words).capitalize() + rng.choice(".....?!")


def prose(size: int, seed: int = 0) -> bytes:
    """Paragraphs of five or so sentences, no speakers: words and nothing else."""
    rng, parts, total = random.Random(seed), [], 0
    while total < size:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 7))) + "\n\n"
        parts.append(paragraph)
        total += len(paragraph)
    return "".join(parts).encode()[:size]


def turns(size: int, seed: int = 0) -> bytes:
    """``Name: reply`` lines of a few words each, speakers taking turns."""
    rng, parts, total, at = random.Random(seed), [], 0, 0
    while total < size:
        line = f"{NAMES[at % len(NAMES)]}: {rng.choice(REPLIES)}\n"
        parts.append(line)
        total += len(line)
        at += 1
    data = "".join(parts).encode()
    return data[:data.rfind(b"\n", 0, size) + 1]


KINDS = {"prose": prose, "turns": turns}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def quiet(most: float, wait: float) -> None:
    """Wait (up to ``wait`` seconds) until the machine's 1-minute load is below ``most``: other
    work on a shared 2-core machine would otherwise be timed with ours."""
    until = time.monotonic() + wait
    while os.getloadavg()[0] > most and time.monotonic() < until:
        time.sleep(5)


def one(kind: str, megabytes: float) -> dict[str, Any]:
    """In this (fresh) process: open a bot, add one upload, report its time and memory."""
    from qa_bot import QaBot

    data = KINDS[kind](int(megabytes * 1_000_000))
    work = Path(tempfile.mkdtemp(prefix="qa_bot-uploads-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        shutil.copy(ROOT / "corpus" / "viktor-ivanov-interview.txt", corpus)
        bot = QaBot.open(corpus, work / "index")
        bot.ask("Does Ivanov regret the fall of the USSR?")  # the model warm, as in a served app
        base = rss_mb()
        marks: dict[str, float] = {}
        total = 0

        def progress(done: int, count: int, desc: str) -> None:
            nonlocal total
            total = count
            marks.setdefault("embed_start", time.perf_counter())
            marks["embed_end"] = time.perf_counter()

        load, cpu = os.getloadavg()[0], cpu_seconds()
        started = time.perf_counter()
        transcript = bot.add_transcript(f"upload-{kind}.txt", data, progress=progress)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        embed_start = marks.get("embed_start", started)
        embed_end = marks.get("embed_end", started)
        return {"kind": kind, "mb": megabytes, "bytes": len(data), "turns": len(transcript.turns),
                "passages": total, "seconds": seconds, "parse_s": embed_start - started,
                "embed_s": embed_end - embed_start, "rest_s": started + seconds - embed_end,
                "cpu_s": cpu, "load": load,
                "base_mb": base, "peak_mb": peak_rss_mb(), "backend": getattr(bot.embedder, "backend", "?")}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(kind: str, megabytes: float, timeout: float) -> dict[str, Any]:
    """``one`` in a fresh interpreter: peak RSS then belongs to this upload alone."""
    command = [sys.executable, str(Path(__file__)), "--one", kind, str(megabytes)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "mb": megabytes, "timed_out": timeout}
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"{kind} {megabytes} MB failed:\n{exc.stderr[-3000:]}") from None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def within(row: dict[str, Any], seconds: float, mb: float) -> bool:
    return "timed_out" not in row and row["seconds"] <= seconds and row["peak_mb"] <= mb


def cap(rows: list[dict[str, Any]], seconds: float, mb: float) -> float:
    """The largest size at which every kind measured was within both limits."""
    sizes = sorted({r["mb"] for r in rows})
    good = [s for s in sizes if all(within(r, seconds, mb) for r in rows if r["mb"] == s)
            and all(any(r["mb"] == s for r in rows if r["kind"] == k) for k in {r["kind"] for r in rows})]
    best = 0.0
    for size in sizes:  # sizes in order: the first failing one ends the run of good ones
        if size not in good:
            break
        best = size
    return best


def report(rows: list[dict[str, Any]], seconds: float, mb: float, chosen: float) -> str:
    m = machine()
    lines = [
        "# Large uploads",
        "",
        "Made by `.venv/bin/python bench/uploads.py` (`--report` rewrites this page from "
        "`UPLOADS.json`): it adds generated uploads of growing size through `QaBot.add_transcript` "
        "with the real bundled model, each size in a fresh process (peak RSS is that process's "
        "`ru_maxrss`: the model, a one-file corpus and the upload). *prose* is paragraphs of "
        "ordinary sentences with no speakers; *turns* is `Name: reply` lines of a few words. "
        "Seconds are the wall time of `add_transcript`: parsing (the file, then the corpus again "
        "with it), embedding, and the rest (the index assembled and saved, BM25 built); CPU s is "
        "the process's CPU time over the same call (both cores), and load the machine's 1-minute "
        "load average when it started.",
        "",
        f"Machine: {m['cpus']} cores, {m['cpu']}, Python {m['python']}, {m['when']}. The machine is "
        "shared with other work: each size waits (up to `--wait` s) for a 1-minute load below 1.5, "
        "and the load column says what it was. Runs at a load of 4 to 10 took two to three times as "
        "long (prose 0.1 MB: 78 s at load 4.5, 22 s at 2.3; prose 0.2 MB timed out at 200 s), so "
        "the table keeps the runs at the lowest load measured for each size.",
        "",
        "| kind | MB | turns | passages | seconds | parse s | embed s | rest s | CPU s | passages/s | "
        "peak MB | before MB | load | within 60 s, 1 GB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if "timed_out" in r:
            lines.append(f"| {r['kind']} | {r['mb']:g} | | | > {r['timed_out']:.0f} | | | | | | | | | no |")
            continue
        rate = r["passages"] / r["embed_s"] if r["embed_s"] > 0 else float("nan")
        lines.append(f"| {r['kind']} | {r['mb']:g} | {r['turns']:,} | {r['passages']:,} | "
                     f"{r['seconds']:.1f} | {r['parse_s']:.1f} | {r['embed_s']:.1f} | {r['rest_s']:.1f} | "
                     f"{r['cpu_s']:.0f} | {rate:.0f} | {r['peak_mb']:.0f} | {r['base_mb']:.0f} | "
                     f"{r['load']:.1f} | "
                     f"{'yes' if within(r, seconds, mb) else 'no'} |")
    quiet = [r for r in rows if "timed_out" not in r and r["embed_s"] > 1 and r["load"] < 2]
    rates = {kind: sum(r["passages"] for r in quiet if r["kind"] == kind)
             / sum(r["embed_s"] for r in quiet if r["kind"] == kind)
             for kind in sorted({r["kind"] for r in quiet})}
    lines += [
        "",
        f"**Cap: {chosen:g} MB** (`QA_BOT_MAX_UPLOAD_MB`, the default of `Settings.max_upload_mb`): "
        f"the largest size at which both kinds were added within {seconds:g} s and {mb:,.0f} MB of "
        "peak RSS on this machine. Time, not memory, is the limit: memory grows slowly past the "
        "model's (about 0.5 GB before the upload, at most 0.8 GB up to the cap; prose's long "
        "passages cost the ONNX runtime's buffers more than tiny turns' number does).",
        "",
        "Embedding ran at " + ", ".join(f"{rate:.0f} passages/s for {kind}" for kind, rate in rates.items())
        + " (runs at a load below 2): a passage of prose is a long text, a tiny turn a short one. "
        "The page's first estimate of the time left uses the slower rate "
        "(`qa_bot/upload_progress.py`, `PASSAGES_PER_SECOND`), so that it errs long; after the first "
        "batch of passages it follows the rate measured during the upload itself.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("KIND", "MB"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="0.05,0.1,0.2,0.4,0.8,1.6,3.2", help="upload sizes in MB, growing")
    parser.add_argument("--kinds", default="prose,turns")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit of the cap")
    parser.add_argument("--mb", type=float, default=1000.0, help="peak RSS limit of the cap (MB)")
    parser.add_argument("--stop", type=float, default=80.0,
                        help="stop a kind after a size slower than this (the next would take minutes)")
    parser.add_argument("--load", type=float, default=1.5, help="wait for a 1-minute load below this")
    parser.add_argument("--wait", type=float, default=300.0, help="but no longer than this (seconds)")
    parser.add_argument("--timeout", type=float, default=200.0, help="give up on one size after this")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "UPLOADS.md")
    parser.add_argument("--report", action="store_true", help="only rewrite the report from its .json")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one[0], float(args.one[1]))))
        return
    if args.report:
        rows = json.loads(args.out.with_suffix(".json").read_text(encoding="utf-8"))
        args.out.write_text(report(rows, args.seconds, args.mb, cap(rows, args.seconds, args.mb)),
                            encoding="utf-8")
        return
    rows = []
    for kind in args.kinds.split(","):
        for size in (float(s) for s in args.sizes.split(",")):
            quiet(args.load, args.wait)
            row = measure(kind, size, args.timeout)
            rows.append(row)
            print(json.dumps(row), flush=True)
            if "timed_out" in row or row["seconds"] > args.stop:
                break
    chosen = cap(rows, args.seconds, args.mb)
    (args.out.with_suffix(".json")).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    args.out.write_text(report(rows, args.seconds, args.mb, chosen), encoding="utf-8")
    print(f"cap {chosen:g} MB; wrote {args.out}")


if __name__ == "__main__":
    main()
