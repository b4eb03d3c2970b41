"""Large uploads (UPLOADS.md): the time and peak memory of ``QaBot.add_transcript`` on generated
uploads of growing size, ``prose`` (paragraphs of ordinary sentences) and ``turns`` (many tiny
labelled turns), each size in a fresh process with the bundled model so that its peak RSS is that
upload's alone. A kind stops growing after a size slower than ``--stop`` seconds; the renderer takes
the cap from ``--seconds`` and ``--mb``.

    python -m bench.uploads [--sizes 0.05,0.1,0.2] [--kinds prose,turns]
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

from bench.common import QUESTION, ROOT, peak_rss_mb, rss_mb, save

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
    """In this (fresh) process: open a bot over the interview, add one upload, report its time and memory."""
    from qa_bot import QaBot

    data = KINDS[kind](int(megabytes * 1_000_000))
    with tempfile.TemporaryDirectory(prefix="qa_bot-uploads-") as work:
        (corpus := Path(work) / "corpus").mkdir()
        shutil.copy(ROOT / "corpus" / "viktor-ivanov-interview.txt", corpus)
        bot = QaBot.open(corpus, Path(work) / "index")
        bot.ask(QUESTION)  # the model warm, as in a served app
        base, marks, total = rss_mb(), [], [0]

        def progress(done: int, count: int, desc: str) -> None:
            total[0] = count
            marks.append(time.perf_counter())  # the first and the last batch embedded

        load, cpu = os.getloadavg()[0], cpu_seconds()
        started = time.perf_counter()
        transcript = bot.add_transcript(f"upload-{kind}.txt", data, progress=progress)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        embed_start, embed_end = (marks[0], marks[-1]) if marks else (started, started)
        return {"kind": kind, "mb": megabytes, "bytes": len(data), "turns": len(transcript.turns),
                "passages": total[0], "seconds": seconds, "parse_s": embed_start - started,
                "embed_s": embed_end - embed_start, "rest_s": started + seconds - embed_end, "cpu_s": cpu,
                "load": load, "base_mb": base, "peak_mb": peak_rss_mb(), "backend": bot.embedder.backend}


def measure(kind: str, megabytes: float, timeout: float) -> dict[str, Any]:
    """``one`` in a fresh interpreter: peak RSS then belongs to this upload alone."""
    command = [sys.executable, "-m", "bench.uploads", "--one", kind, str(megabytes)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "mb": megabytes, "timed_out": timeout}
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"{kind} {megabytes} MB failed:\n{exc.stderr[-3000:]}") from None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
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
    args = parser.parse_args()
    if args.one:
        return print(json.dumps(one(args.one[0], float(args.one[1]))))
    rows = []
    for kind in args.kinds.split(","):
        for size in map(float, args.sizes.split(",")):
            quiet(args.load, args.wait)
            rows.append(measure(kind, size, args.timeout))
            print(json.dumps(rows[-1]), flush=True)
            if "timed_out" in rows[-1] or rows[-1]["seconds"] > args.stop:
                break
    save("uploads", {"rows": rows, "seconds": args.seconds, "mb": args.mb})


if __name__ == "__main__":
    main()
