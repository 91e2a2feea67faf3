#!/usr/bin/env bash
# bench-scan.sh [CORPUS_DIR] - how fast and how lean `pycache scan` is on a large server tree
#
# Builds (or reuses) the benchmark corpus with shared/bench/make-corpus.sh (large: ~100k
# files, 62k .pyc; the first build takes ~7 min and downloads ~52 MB of pinned wheels from
# PyPI, later runs reuse it in ~2 s), then, from one run, prints the wall time of:
#   pycache scan ROOT --pycache-prefix PREFIX   (release build; full scan, model and summary)
#   pycache scan ... --json > FILE              (the same, writing the snapshot)
#   find ROOT -name '*.pyc'                     (walking alone)
#   pycscan -t 2 / -t 2 -s                      (shared/bench/pycscan.c, cc -O2 -pthread: the
#                                                fewest syscalls giving the same verdicts; -s
#                                                also stats every pyc, as pycache does)
#   peer_scan.py ROOT --prefix PREFIX           (what a user would write in Python)
# as ratios to pycache, pycache's peak memory (/usr/bin/time -v), and a correctness check:
# every verdict of `pycache scan --jsonl` against the corpus manifest.
#
# Targets: pycache <= 1.25x pycscan -t 2 -s; >= 5x faster than peer_scan.py; < 64 MiB peak.
# Times are medians of RUNS (default 5) interleaved rounds after one warm-up run, page cache hot; CPU time
# (user + system, from wait4) is printed too, as it is steadier than wall time on a busy box.
#
# CORPUS_DIR defaults to $PYCACHE_CORPUS, else .corpus/large in the project (gitignored).
# The corpus bakes its own absolute path into its PYTHONPYCACHEPREFIX mirror: build it where
# you benchmark it. CI does not run this script (it needs the interpreters and minutes).
# Exit status: 0 when every verdict matches, 1 otherwise (the timings are informative).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
PROJECT=$PWD
SHARED=${PYCACHE_SHARED:-$(cd .. && pwd)/shared}
CORPUS=${1:-${PYCACHE_CORPUS:-$PROJECT/.corpus/large}}
RUNS=${RUNS:-5}
PEER_RUNS=${PEER_RUNS:-3}
OUT=$PROJECT/target/bench
mkdir -p "$OUT" "$CORPUS"

[[ -f $SHARED/bench/make-corpus.sh ]] || { echo "bench-scan: error: $SHARED/bench not found (set PYCACHE_SHARED)" >&2; exit 2; }
echo "== corpus (make-corpus.sh $CORPUS large)" >&2
bash "$SHARED/bench/make-corpus.sh" "$CORPUS" large >"$OUT/corpus.txt"
CORPUS=$(cd "$CORPUS" && pwd -P)
PREFIX=$CORPUS/var/cache/pycache

echo "== build (cargo build --release, cc -O2 -pthread pycscan.c)" >&2
cargo build --release --quiet
cc -O2 -pthread -o "$OUT/pycscan" "$SHARED/bench/pycscan.c"
PYCACHE=$PROJECT/target/release/pycache
PY=$(command -v python3)

echo "== timing ($RUNS runs each, $PEER_RUNS for peer_scan.py)" >&2
"$PY" - "$RUNS" "$PEER_RUNS" "$CORPUS" "$PREFIX" "$PYCACHE" "$OUT/pycscan" "$SHARED/bench/peer_scan.py" <<'PYEOF'
import os, statistics, subprocess, sys, time
runs, peer_runs, root, prefix, pycache, pycscan, peer = sys.argv[1:]
runs, peer_runs = int(runs), int(peer_runs)
tools = [
    ("pycache scan (release)", [pycache, "scan", root, "--pycache-prefix", prefix], runs),
    ("pycache scan --json > file", [pycache, "scan", root, "--pycache-prefix", prefix, "--json"], runs),
    ("find ROOT -name '*.pyc'", ["find", root, "-name", "*.pyc"], runs),
    ("pycscan -t 2", [pycscan, "-t", "2", "-P", prefix, root], runs),
    ("pycscan -t 2 -s", [pycscan, "-t", "2", "-s", "-P", prefix, root], runs),
    ("peer_scan.py (Python)", [sys.executable, peer, root, "--prefix", prefix], peer_runs),
]
env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}

def run(cmd):
    """Wall and CPU (user + system) seconds of one run; --json output goes to a file."""
    out = open(os.path.join(os.path.dirname(pycscan), "bench-scan.json"), "wb") if "--json" in cmd else subprocess.DEVNULL
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        sys.exit(f"bench-scan: {cmd[0]} failed (status {status})")
    return wall, usage.ru_utime + usage.ru_stime

# Interleaved: round by round, every tool once, so load changes on a shared machine hit
# every tool alike instead of whichever ran in that block.
samples = {name: [] for name, _, _ in tools}
for _, cmd, _ in tools:
    run(cmd)  # warm-up: page cache and dentries hot
for r in range(max(n for _, _, n in tools)):
    for name, cmd, n in tools:
        if r < n:
            samples[name].append(run(cmd))
times = {}
for name, _, _ in tools:
    walls, cpus = [w for w, _ in samples[name]], [c for _, c in samples[name]]
    times[name] = (statistics.median(walls), min(walls), statistics.median(cpus))
ours, ours_cpu = times["pycache scan (release)"][0], times["pycache scan (release)"][2]
json_cpu = times["pycache scan --json > file"][2]
print(f"corpus {root}: {runs} interleaved rounds after a warm-up (peer_scan.py: {peer_runs}), "
      f"page cache hot, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
print(f"  {'tool':<26}{'wall s':>8}{'min s':>7}{'cpu s':>7}   pycache/tool: wall   cpu")
for name, (med, low, cpu) in times.items():
    print(f"  {name:<26}{med:>8.3f}{low:>7.3f}{cpu:>7.3f}   {ours / med:16.2f}x {ours_cpu / cpu:5.2f}x")
limit, limit_cpu = times["pycscan -t 2 -s"][0], times["pycscan -t 2 -s"][2]
peer_t = times["peer_scan.py (Python)"][0]
print(f"  vs the limit (pycscan -t 2 -s): {ours / limit:.2f}x wall, {ours_cpu / limit_cpu:.2f}x cpu "
      f"(target <= 1.25x)")
print(f"  vs peer_scan.py: pycache is {peer_t / ours:.1f}x faster (target >= 5x)")
print(f"  scan --json CPU vs the text scan: {json_cpu / ours_cpu:.2f}x (target <= 1.15x)")
PYEOF

/usr/bin/time -v "$PYCACHE" scan "$CORPUS" --pycache-prefix "$PREFIX" >/dev/null 2>"$OUT/time-v.txt"
awk -F: '/Maximum resident set size/ { kib = $2 + 0;
  printf "  pycache peak memory: %.1f MiB (target < 64 MiB)\n", kib / 1024 }' "$OUT/time-v.txt"

echo "== verdicts against $CORPUS/.corpus/manifest.tsv" >&2
"$PYCACHE" scan "$CORPUS" --pycache-prefix "$PREFIX" --jsonl >"$OUT/scan.jsonl"
"$PY" - "$CORPUS" "$OUT/scan.jsonl" <<'PYEOF'
import json, os, sys
root, scan = sys.argv[1:]
want = {}
with open(os.path.join(root, ".corpus", "manifest.tsv"), encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
        if not line.startswith("#"):
            r = line.rstrip("\n").split("\t")
            want[r[0]] = dict(status=r[1], tag=r[2], opt=r[3], mode=r[4], location=r[5])
with open(scan, encoding="utf-8") as f:
    caches = [json.loads(line) for line in f]
got = {os.path.relpath(c["path"], root): c for c in caches}
bad, shadowed = [], 0
for path in sorted(set(want) | set(got)):
    w, g = want.get(path), got.get(path)
    if w is None or g is None:
        bad.append((path, "only in " + ("pycache" if w is None else "the manifest")))
        continue
    status = w["status"]
    # The manifest judges a legacy Python 3 .pyc beside its source by its header ("fresh");
    # CPython 3 never reads it (the .py wins), which pycache calls shadowed.
    if (g["status"] == "shadowed" and w["location"] == "legacy" and w["tag"] != "cpython-27"
            and status in ("fresh", "stale")):
        shadowed += 1
        status = "shadowed"
    mode = {"py2": "timestamp", "-": None}.get(w["mode"], w["mode"])
    checks = [("status", status, g["status"]), ("tag", w["tag"] or None, g["tag"]),
              ("opt", w["opt"] or None, g["opt"]), ("location", w["location"], g["location"])]
    if status != "invalid":
        checks.append(("mode", mode, g["invalidation"]))
    for field, a, b in checks:
        if a != b:
            bad.append((path, f"{field}: manifest {a!r}, pycache {b!r}"))
print(f"  verdicts: {len(got) - len({p for p, _ in bad})} of {len(want)} caches agree with the "
      f"manifest on status, tag, opt, location and mode"
      + (f" ({shadowed} legacy 3.x caches beside their source: manifest fresh, pycache "
         f"shadowed, as CPython 3 ignores them)" if shadowed else ""))
for path, why in bad[:20]:
    print(f"  MISMATCH {path}: {why}")
sys.exit(1 if bad else 0)
PYEOF
