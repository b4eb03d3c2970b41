#!/bin/bash
# Load run: 16 clients x 60 s on /ask, one upload half-way, and a CLI indexer re-indexing a changed
# transcript of the same corpus and index folder in a loop all the while.
set -u
cd "$(dirname "$0")/.."
W=/tmp/lr; rm -rf $W; mkdir -p $W; cp -r corpus $W/corpus
PORT=7991
.venv/bin/python app.py --corpus $W/corpus --index $W/index --port $PORT > $W/app.log 2>&1 &
APP=$!
for i in $(seq 1 300); do
  curl -s -o /dev/null http://127.0.0.1:$PORT/ && .venv/bin/python -c "
from gradio_client import Client; c=Client('http://127.0.0.1:$PORT', verbose=False); c.predict('Does Ivanov regret the fall of the USSR?', 3, '', '', api_name='/ask')" 2>/dev/null && break
  sleep 2
done
echo "app up after ~$((i*2)) s"
(
  ok=0; bad=0; n=0; end=$((SECONDS+75))
  while [ $SECONDS -lt $end ]; do
    n=$((n+1))
    python3 -c "
import random; r=random.Random($n)
w='harbour ferry lamp storm net reef boat pier village school'.split()
print(''.join(f'Host: What about the {r.choice(w)} in week {k}?\nMara: '+' '.join(r.choice(w) for _ in range(20))+'.\n' for k in range(120)))" > $W/corpus/talk.txt
    if .venv/bin/python -m qa_bot index --corpus $W/corpus --index $W/index >> $W/indexer.log 2>&1; then ok=$((ok+1)); else bad=$((bad+1)); fi
  done
  echo "indexer runs: $ok ok, $bad failed" > $W/indexer.result
) &
IDX=$!
.venv/bin/python bench/load_test.py --url http://127.0.0.1:$PORT --clients 16 --duration 60 --json $W/load.json > $W/load.out 2>&1
echo "load_test rc=$?"
wait $IDX
cat $W/indexer.result
.venv/bin/python - <<PY
import json
from pathlib import Path
from gradio_client import Client
from qa_bot import index
W = Path("$W")
print("index loads:", index.load(W / "index") is not None)
c = Client("http://127.0.0.1:$PORT", verbose=False)
bad = 0
qs = [json.loads(l)["question"] for l in open("tests/data/interview_questions.jsonl")]
for q in qs:
    r = c.predict(q, 5, "", "", api_name="/ask")
    for a in r["answers"]:
        src = (W / "corpus" / a["transcript"]) if (W / "corpus" / a["transcript"]).exists() else (W / "index" / "uploads" / a["transcript"])
        text = src.read_bytes().decode("utf-8-sig")
        if text[a["start"]:a["end"]] != a["quote"]:
            bad += 1
print(f"after the run: {len(qs)} questions, quotes not verbatim in their files: {bad}")
PY
kill $APP; wait $APP 2>/dev/null
tail -20 $W/load.out
