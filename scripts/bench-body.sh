#!/usr/bin/env bash
# bench-body.sh [CORPUS_DIR] - the cost of judging every cache by its whole marshal body
#
# From one run, on a corpus built by shared/bench/make-corpus.sh (large: ~100k files, 62k
# .pyc), prints the wall and CPU time of:
#   pycache scan ROOT --pycache-prefix PREFIX                (default: every body checked)
#   pycache scan ROOT --pycache-prefix PREFIX --header-only  (the 16-byte fast path)
#   pycscan -t 2 -f    (shared/bench/pycscan.c: reads every pyc to its end, the I/O floor of
#                       a whole-body check)
#   pycscan -t 2 -s    (header verdicts, every pyc stat'ed: the floor of --header-only)
# and the ratios: default / pycscan -f (target <= 1.5x), --header-only / pycscan -s.
# Then how many verdicts the body check changes (header-only fresh -> invalid), by reason.
#
# Times are medians of RUNS (default 5) runs after one warm-up run, page cache hot.
# CORPUS_DIR defaults to $PYCACHE_CORPUS, else /work/corpus/large, else .corpus/large; it is
# used as it is (build it with make-corpus.sh or scripts/bench-scan.sh first: a corpus bakes
# its own absolute path into its prefix mirror). CI does not run this script.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
PROJECT=$PWD
SHARED=${PYCACHE_SHARED:-$(cd .. && pwd)/shared}
[[ -d $SHARED/bench ]] || SHARED=/work/shared
DEFAULT_CORPUS=$PROJECT/.corpus/large
[[ -d /work/corpus/large/.corpus ]] && DEFAULT_CORPUS=/work/corpus/large
CORPUS=${1:-${PYCACHE_CORPUS:-$DEFAULT_CORPUS}}
RUNS=${RUNS:-5}
OUT=$PROJECT/target/bench
mkdir -p "$OUT"

[[ -f $CORPUS/.corpus/manifest.tsv ]] || {
  echo "bench-body: error: no corpus at $CORPUS (build one: bash $SHARED/bench/make-corpus.sh DIR large)" >&2
  exit 2
}
[[ -f $SHARED/bench/pycscan.c ]] || { echo "bench-body: error: $SHARED/bench/pycscan.c not found (set PYCACHE_SHARED)" >&2; exit 2; }
CORPUS=$(cd "$CORPUS" && pwd -P)
PREFIX=$CORPUS/var/cache/pycache

echo "== build (cargo build --release, cc -O2 -pthread pycscan.c)" >&2
cargo build --release --quiet
cc -O2 -pthread -o "$OUT/pycscan" "$SHARED/bench/pycscan.c"
PYCACHE=$PROJECT/target/release/pycache

echo "== timing ($RUNS runs each)" >&2
python3 - "$RUNS" "$CORPUS" "$PREFIX" "$PYCACHE" "$OUT/pycscan" <<'PYEOF'
import os, statistics, subprocess, sys, time
runs, root, prefix, pycache, pycscan = sys.argv[1:]
runs = int(runs)
tools = [
    ("pycache scan (body)", [pycache, "scan", root, "--pycache-prefix", prefix]),
    ("pycache scan --header-only", [pycache, "scan", root, "--pycache-prefix", prefix, "--header-only"]),
    ("pycscan -t 2 -f", [pycscan, "-t", "2", "-f", "-P", prefix, root]),
    ("pycscan -t 2 -s", [pycscan, "-t", "2", "-s", "-P", prefix, root]),
]
env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}

def run(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        sys.exit(f"bench-body: {cmd[0]} failed (status {status})")
    return wall, usage.ru_utime + usage.ru_stime

# Interleaved rounds, so load from other work on the machine hits every tool alike.
samples = {name: [] for name, _ in tools}
for _, cmd in tools:
    run(cmd)  # warm-up: page cache and dentries hot
for _ in range(runs):
    for name, cmd in tools:
        samples[name].append(run(cmd))
times = {n: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
         for n, s in samples.items()}
print(f"corpus {root}: {runs} interleaved runs each after a warm-up, page cache hot, "
      f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
print(f"  {'tool':<28}{'wall s':>8}{'cpu s':>8}")
for name, (wall, cpu) in times.items():
    print(f"  {name:<28}{wall:>8.3f}{cpu:>8.3f}")
body, floor = times["pycache scan (body)"], times["pycscan -t 2 -f"]
head, hfloor = times["pycache scan --header-only"], times["pycscan -t 2 -s"]
print(f"  body check vs pycscan -t 2 -f: {body[0] / floor[0]:.2f}x wall, "
      f"{body[1] / floor[1]:.2f}x cpu (target <= 1.5x)")
print(f"  --header-only vs pycscan -t 2 -s: {head[0] / hfloor[0]:.2f}x wall, "
      f"{head[1] / hfloor[1]:.2f}x cpu")
print(f"  the body check costs {body[0] / head[0]:.2f}x the header-only scan (wall)")
PYEOF

echo "== verdicts the body check changes" >&2
# --jsonl: one object per cache with absolute paths (the snapshot's rows are relative).
# Exit 2 is expected: the corpus holds unreadable parts on purpose.
"$PYCACHE" scan "$CORPUS" --pycache-prefix "$PREFIX" --jsonl >"$OUT/body.jsonl" || [[ $? -eq 2 ]]
"$PYCACHE" scan "$CORPUS" --pycache-prefix "$PREFIX" --jsonl --header-only >"$OUT/head.jsonl" || [[ $? -eq 2 ]]
python3 - "$OUT/body.jsonl" "$OUT/head.jsonl" <<'PYEOF'
import collections, json, sys
def caches(p):
    with open(p, encoding="utf-8") as f:
        return [d for d in map(json.loads, f) if d.get("kind") == "cache"]
body, head = (caches(p) for p in sys.argv[1:])
h = {c["path"]: c for c in head}
changed = collections.Counter()
for c in body:
    o = h.get(c["path"])
    if o and o["status"] != c["status"]:
        why = (c.get("reason") or "").split(" (at byte")[0]
        changed[(o["status"], c["status"], why[:90])] += 1
checked = sum(1 for c in body if c.get("body_checked"))
print(f"  {len(body)} caches, {checked} bodies checked; "
      f"{sum(changed.values())} verdicts differ from --header-only")
for (a, b, why), n in changed.most_common(10):
    print(f"    {n:6d}  {a} -> {b}: {why}")
PYEOF
