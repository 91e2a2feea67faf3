#!/usr/bin/env bash
# bench-actions.sh [CORPUS_DIR] - how fast `pycache clean` and `pycache recompile` are next to
# what a user would run instead, on copies of the benchmark corpus.
#
#   clean:     pycache clean --status stale,orphaned --yes   vs  find COPY -name '*.pyc' -delete
#              (pycache does all its checks: scan, verdicts, re-check per file, handles)
#   recompile: pycache recompile --tag cpython-3XY --yes     vs  python3.X -m compileall -q -j0 COPY
#              (both give every module a cpython-3XY cache; compileall also rewrites every
#              hash-based cache, cpython#121577)
#   no-op:     pycache recompile --yes on a converged copy   vs  pycache scan COPY
# Targets: clean <= 1.1x, recompile <= 0.8x, no-op <= 1.2x (pycache time / other time).
# Each comparison runs on fresh `cp -a` copies (synced, page cache hot); times are medians of
# RUNS (default 3) runs. The clean result is checked against the corpus manifest: every stale
# and orphaned cache gone, every other cache still there.
#
# CORPUS_DIR defaults to $PYCACHE_CORPUS, else .corpus/large, else .corpus/small (built with
# shared/bench/make-corpus.sh if absent). Copies go to $BENCH_TMP (default /tmp), ~2 GiB each
# for large. PYTHON_TAG picks the recompiled tag (default 3.12). CI does not run this script.
# Exit status: 0 when the clean check passes, 1 otherwise (the timings are informative).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
PROJECT=$PWD
SHARED=${PYCACHE_SHARED:-$(cd .. && pwd)/shared}
RUNS=${RUNS:-3}
VERSION=${PYTHON_TAG:-3.12}
TAG=cpython-${VERSION/./}
OUT=$PROJECT/target/bench
mkdir -p "$OUT"

CORPUS=${1:-${PYCACHE_CORPUS:-}}
if [[ -z $CORPUS ]]; then
    if [[ -f $PROJECT/.corpus/large/.corpus/manifest.tsv ]]; then CORPUS=$PROJECT/.corpus/large; SIZE=large
    else CORPUS=$PROJECT/.corpus/small; SIZE=small; fi
else
    SIZE=$(sed -n 's/.*size=\([a-z]*\).*/\1/p' "$CORPUS/.corpus/info.txt" 2>/dev/null | head -1)
    SIZE=${SIZE:-large}
fi
echo "== corpus (make-corpus.sh $CORPUS $SIZE)" >&2
bash "$SHARED/bench/make-corpus.sh" "$CORPUS" "$SIZE" >"$OUT/corpus.txt"
CORPUS=$(cd "$CORPUS" && pwd -P)

PY=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$VERSION".*/bin/python"$VERSION" 2>/dev/null | tail -1 || true)
[[ -x ${PY:-} ]] || PY=$(command -v "python$VERSION" || true)
[[ -x ${PY:-} ]] || { echo "bench-actions: error: python$VERSION not found (set PYTHON_TAG)" >&2; exit 2; }

echo "== build (cargo build --release)" >&2
cargo build --release --quiet
PYCACHE=$PROJECT/target/release/pycache
export NO_COLOR=1
unset PYTHONPYCACHEPREFIX

WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/pycache-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
A=$WORK/a B=$WORK/b
# pycache remembers compile errors between runs; keep the bench's memory to itself.
export XDG_CACHE_HOME=$WORK/cache

fresh() { # fresh DIR...: identical copies of the corpus, written back to disk
    for d in "$@"; do rm -rf "$d"; cp -a "$CORPUS" "$d"; done
    sync
}
seconds() { # seconds CMD...: wall time of one run, output discarded, exit status ignored
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { echo "scale=2; $1 / $2" | bc -l | sed 's/^\./0./'; }

echo "== clean ($RUNS runs)" >&2
ours=() theirs=()
for _ in $(seq "$RUNS"); do
    fresh "$A" "$B"
    ours+=("$(seconds "$PYCACHE" clean "$A" --pycache-prefix "$A/var/cache/pycache" --status stale,orphaned --yes)")
    theirs+=("$(seconds find "$B" -name '*.pyc' -delete)")
done
CLEAN_P=$(median "${ours[@]}") CLEAN_F=$(median "${theirs[@]}")
CHECK=0
python3 - "$CORPUS" "$A" <<'PYEOF' || CHECK=1
import os, sys
corpus, copy = sys.argv[1:]
gone_ok = kept_ok = 0
bad = []
with open(os.path.join(corpus, ".corpus", "manifest.tsv"), encoding="utf-8", errors="surrogateescape") as f:
    for line in f:
        if line.startswith("#"):
            continue
        path, status = line.rstrip("\n").split("\t")[:2]
        exists = os.path.lexists(os.path.join(copy, path))
        if status in ("stale", "orphaned"):
            gone_ok += not exists
            if exists: bad.append("kept " + path)
        else:
            kept_ok += exists
            if not exists: bad.append("removed " + path)
print(f"  clean check: {gone_ok} stale/orphaned caches removed, {kept_ok} others kept, {len(bad)} wrong")
for b in bad[:10]:
    print("    " + b)
sys.exit(1 if bad else 0)
PYEOF

echo "== recompile $TAG ($RUNS runs)" >&2
ours=() theirs=()
for _ in $(seq "$RUNS"); do
    fresh "$A" "$B"
    ours+=("$(seconds "$PYCACHE" recompile "$A" --tag "$TAG" --yes)")
    theirs+=("$(seconds env -u PYTHONDONTWRITEBYTECODE "$PY" -m compileall -q -j0 "$B")")
done
REC_P=$(median "${ours[@]}") REC_C=$(median "${theirs[@]}")
COUNT_A=$(find "$A" -name "*.$TAG.pyc" | wc -l) COUNT_B=$(find "$B" -name "*.$TAG.pyc" | wc -l)

echo "== no-op recompile ($RUNS runs)" >&2
"$PYCACHE" recompile "$A" --yes >"$OUT/converge.txt" 2>&1 || true
ours=() theirs=()
for _ in $(seq "$RUNS"); do
    ours+=("$(seconds "$PYCACHE" recompile "$A" --yes)")
    theirs+=("$(seconds "$PYCACHE" scan "$A")")
done
NOOP_P=$(median "${ours[@]}") NOOP_S=$(median "${theirs[@]}")
"$PYCACHE" recompile "$A" --yes >"$OUT/noop.txt" 2>&1 || true

echo "corpus $CORPUS ($SIZE), median of $RUNS runs on fresh copies"
printf '  clean stale+orphaned: pycache %6.2fs  find -delete %6.2fs  ratio %sx (target <= 1.1x)\n' \
    "$CLEAN_P" "$CLEAN_F" "$(ratio "$CLEAN_P" "$CLEAN_F")"
printf '  recompile %s: pycache %6.2fs  compileall -j0 %6.2fs  ratio %sx (target <= 0.8x)\n' \
    "$TAG" "$REC_P" "$REC_C" "$(ratio "$REC_P" "$REC_C")"
printf '    %s caches afterwards: pycache %s, compileall %s\n' "$TAG" "$COUNT_A" "$COUNT_B"
printf '  no-op recompile: pycache %6.2fs  scan %6.2fs  ratio %sx (target <= 1.2x)\n' \
    "$NOOP_P" "$NOOP_S" "$(ratio "$NOOP_P" "$NOOP_S")"
printf '    no-op run said: %s\n' "$(tail -1 "$OUT/noop.txt")"
exit "$CHECK"
