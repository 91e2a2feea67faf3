#!/usr/bin/env bash
# bench-imports.sh: how fast `pycache imports` parses and resolves a large tree, beside
# CPython's own ast.parse over the same files.
#
# Usage: scripts/bench-imports.sh [RUNS]
#   STDLIB=DIR  the standard library to parse (default: pyenv 3.13.0's lib/python3.13)
#   PY=FILE     the interpreter for the ast.parse baseline (default: pyenv 3.13.0)
#   VENV=DIR    a virtualenv whose site-packages is the second tree (default: the largest
#               of the corpus virtualenvs on this machine; else one is made with pip)
#
# For each tree it times, RUNS times (default 5), alternating A and B:
#   A  pycache imports --all-files TREE --entry ... --json      (release build, all cores)
#   B  python astbench.py TREE      (read + ast.parse of every .py, the same file set)
# and prints the medians and the ratio A/B (target: at most 0.1).
# pycache's time includes walking, decoding, parsing, resolving every import, following
# the entries and writing the JSON; the baseline only parses.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-5}
PY=${PY:-$HOME/.pyenv/versions/3.13.0/bin/python}
STDLIB=${STDLIB:-$HOME/.pyenv/versions/3.13.0/lib/python3.13}
OUT=bench-out/imports
mkdir -p "$OUT"

[ -x "$PY" ] || { echo "error: no interpreter at $PY; set PY=/path/to/python3" >&2; exit 2; }
[ -d "$STDLIB" ] || { echo "error: no standard library at $STDLIB; set STDLIB=DIR" >&2; exit 2; }

pick_venv() {
  local best="" best_n=0 d n
  for d in "$HOME"/.cache/pyc-corpus/src/venv-* .corpus/*/srv/*/venv; do
    [ -f "$d/pyvenv.cfg" ] || continue
    n=$(find "$d" -name '*.py' | wc -l)
    if [ "$n" -gt "$best_n" ]; then best=$d best_n=$n; fi
  done
  if [ -z "$best" ]; then
    best=$OUT/venv
    if [ ! -f "$best/pyvenv.cfg" ]; then
      echo "making a virtualenv with pip (Django, SQLAlchemy, boto3, celery, Faker) -> $best" >&2
      "$PY" -m venv "$best"
      "$best/bin/python" -m pip install -q Django SQLAlchemy boto3 celery Faker >&2
    fi
  fi
  echo "$best"
}
VENV=${VENV:-$(pick_venv)}
SITE=$(ls -d "$VENV"/lib/python3*/site-packages | head -1)

cat > "$OUT/astbench.py" <<'EOF'
# The baseline: read and ast.parse every .py under a root, like pycache --all-files does.
import ast, os, sys, warnings
warnings.simplefilter("ignore")
ok = failed = 0
for dirpath, dirnames, filenames in os.walk(sys.argv[1]):
    dirnames.sort()
    for name in sorted(filenames):
        if not name.endswith(".py"):
            continue
        try:
            with open(os.path.join(dirpath, name), "rb") as f:
                ast.parse(f.read())
            ok += 1
        except (SyntaxError, ValueError, OSError):
            failed += 1
print(f"parsed {ok}, failed {failed}", file=sys.stderr)
EOF

echo "== building (release)"
cargo build --release -q
BIN=target/release/pycache

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bench() { # name root entries...
  local name=$1 root=$2; shift 2
  local args=(imports --all-files "$root" --json)
  local e; for e in "$@"; do args+=(--entry "$e"); done
  "$BIN" "${args[@]}" > "$OUT/$name.json" || [ $? -eq 1 ]   # exit 1 = findings
  "$PY" "$OUT/astbench.py" "$root" 2> "$OUT/$name.cpython.txt"
  local files; files=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["modules"]))' "$OUT/$name.json")
  local summary; summary=$("$PY" -c '
import json, sys, collections
d = json.load(open(sys.argv[1]))
c = collections.Counter(m["reachability"] for m in d["modules"])
bad = sum(1 for m in d["modules"] if m["health"]["status"] != "ok")
n = sum(len(m["imports"]) for m in d["modules"])
print(f"{n} imports resolved; reachability {dict(c)}; {bad} files Python cannot compile")' "$OUT/$name.json")
  : > "$OUT/$name.a"; : > "$OUT/$name.b"
  local i t0 t1
  for ((i = 0; i < RUNS; i++)); do
    t0=$(now); "$BIN" "${args[@]}" > /dev/null || true; t1=$(now)
    echo "$t1 - $t0" | bc >> "$OUT/$name.a"
    t0=$(now); "$PY" "$OUT/astbench.py" "$root" 2> /dev/null; t1=$(now)
    echo "$t1 - $t0" | bc >> "$OUT/$name.b"
  done
  local a b; a=$(median < "$OUT/$name.a"); b=$(median < "$OUT/$name.b")
  echo "== $name: $root"
  echo "   files: $files .py (pycache); CPython: $(cat "$OUT/$name.cpython.txt")"
  echo "   pycache: $summary"
  printf '   median of %d: pycache %.3f s, CPython ast.parse %.3f s, ratio %.3f\n' \
    "$RUNS" "$a" "$b" "$(echo "$a / $b" | bc -l)"
}

bench stdlib "$STDLIB" json asyncio http.server email unittest
bench venv "$SITE" django sqlalchemy boto3 celery
