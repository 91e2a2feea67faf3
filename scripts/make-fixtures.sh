#!/usr/bin/env bash
# scripts/make-fixtures.sh: regenerates tests/fixtures/pyc/ from the real interpreters.
#
# 1. scripts/make-pyc-matrix.sh (a copy of shared/fixtures/make-pyc-matrix.sh) compiles a
#    small package with every interpreter it finds (pyenv 2.7 .. 3.13, python3.N on PATH),
#    in timestamp / checked-hash / unchecked-hash modes and under PYTHONPYCACHEPREFIX, and
#    self-checks every file with the interpreter that wrote it (~40 s).
# 2. A small subset is copied here (layout: LABEL/MODE/<project tree>, the prefix case as
#    LABEL/pycache-prefix/{proj,cache}), with the sources it was compiled from.
# 3. scripts/fixture-expect.py runs under each writing interpreter and records, from the
#    interpreter itself, the header fields and the code summary (marshal.loads) of every
#    kept file into expected.jsonl (one JSON object per .pyc).
#
# The matrix is built in a fixed directory so that co_filename (an absolute path) and so
# the bytes are the same on every run. Git does not keep mtimes: tests set every source's
# mtime to 1700000000 (pkg/stale_mod.py: 1700000100) before judging verdicts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PYCACHE_FIXTURE_BUILD:-/tmp/pycache-fixture-matrix}
DEST=$ROOT/tests/fixtures/pyc
export PYTHONHASHSEED=0 PYTHONIOENCODING=utf-8
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX SOURCE_DATE_EPOCH

bash "$ROOT/scripts/make-pyc-matrix.sh" "$BUILD"

rm -rf "$DEST"
mkdir -p "$DEST"
# Select and copy; writes BUILD/.rows.LABEL (input of fixture-expect.py) per interpreter.
python3 - "$BUILD" "$DEST" <<'PY'
import os, shutil, sys
build, dest = sys.argv[1], sys.argv[2]
STATUS = {"fresh": "fresh", "stale": "stale", "orphan": "orphaned",
          "sourceless-legacy": "sourceless"}
EVERY_MODE = {"pkg/alpha.py", "pkg/stale_mod.py", "pkg/legacy_mod.py"}
TIMESTAMP_ONLY = {"pkg/beta.py", "pkg/shapes.py", "pkg/orphan_mod.py", "pkg/sub/deep.py",
                  u"pkg/na\u00efve_mod.py"}
PREFIX = {"pkg/alpha.py", "pkg/stale_mod.py"}
interp = [l.rstrip("\n").split("\t") for l in open(os.path.join(build, "interpreters.tsv"), encoding="utf-8")][1:]
labels = {row[0] for row in interp}
rows = {l: [] for l in labels}
top_opt = {}
manifest = [l.rstrip("\n").split("\t") for l in open(os.path.join(build, "manifest.tsv"), encoding="utf-8")][1:]
for r in manifest:
    label, mode = r[0].split("/")[:2]
    top_opt[(label, mode)] = max(top_opt.get((label, mode), "0"), r[7])

def relocate(path):
    """Matrix path -> fixture path (drops proj/, and the absolute prefix mirror)."""
    parts = path.split("/")
    label, mode = parts[0], parts[1]
    if mode == "pycache-prefix":
        if parts[2] == "cache":
            marker = "/%s/pycache-prefix/proj/" % label
            tail = path.split(marker, 1)[1]
            return "%s/pycache-prefix/cache/%s" % (label, tail)
        return path
    assert parts[2] == "proj", path
    return "/".join([label, mode] + parts[3:])

for r in manifest:
    pyc, status, _, _, _, _, inval, opt, src, _ = r
    if status not in STATUS:
        continue
    label, mode = pyc.split("/")[:2]
    module = src.split("/proj/", 1)[1]
    if mode == "pycache-prefix":
        keep = module in PREFIX and opt == "0"
    elif opt == "0":
        keep = module in EVERY_MODE or (mode == "timestamp" and module in TIMESTAMP_ONLY)
    else:
        keep = mode == "timestamp" and module == "pkg/beta.py" and opt == top_opt[(label, mode)]
    if not keep:
        continue
    out = relocate(pyc)
    os.makedirs(os.path.dirname(os.path.join(dest, out)), exist_ok=True)
    shutil.copy2(os.path.join(build, pyc), os.path.join(dest, out))
    src_out = "-"
    if os.path.exists(os.path.join(build, src)):
        src_out = relocate(src)
        os.makedirs(os.path.dirname(os.path.join(dest, src_out)), exist_ok=True)
        shutil.copy2(os.path.join(build, src), os.path.join(dest, src_out))
        # the package's __init__.py files, so module names read pkg.alpha
        d = os.path.dirname(src)
        while not d.endswith("/proj"):
            init = os.path.join(d, "__init__.py")
            if os.path.exists(os.path.join(build, init)):
                shutil.copy2(os.path.join(build, init), os.path.join(dest, relocate(init)))
            d = os.path.dirname(d)
    rows[label].append("\t".join([out, STATUS[status], inval, opt, src_out]))
for label, lines in rows.items():
    with open(os.path.join(build, ".rows." + label), "w", encoding="utf-8") as f:
        f.write("".join(l + "\n" for l in lines))
PY

: > "$DEST/expected.jsonl"
tail -n +2 "$BUILD/interpreters.tsv" | while IFS=$'\t' read -r label exe _rest; do
  "$exe" -B "$ROOT/scripts/fixture-expect.py" "$DEST" "$label" < "$BUILD/.rows.$label" >> "$DEST/expected.jsonl"
  echo "recorded: $label ($(wc -l < "$BUILD/.rows.$label") files)"
done
LC_ALL=C sort -o "$DEST/expected.jsonl" "$DEST/expected.jsonl"
echo "fixtures: $(grep -c . "$DEST/expected.jsonl") .pyc files, $(du -sk "$DEST" | cut -f1) KiB in $DEST"
