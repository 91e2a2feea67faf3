#!/usr/bin/env bash
# make-pyc-matrix.sh OUTDIR
# (pycache copy of shared/fixtures/make-pyc-matrix.sh; adds pkg/shapes.py)
#
# Builds a matrix of __pycache__ fixtures for testing a .pyc explorer.
# For every Python interpreter found (pyenv versions under $PYENV_ROOT/versions,
# default $HOME/.pyenv, plus python3.N / pypy3* executables anywhere on PATH; missing
# or broken ones are skipped) it creates a small package and compiles it:
#   OUT/<label>/timestamp/proj        default timestamp pycs       (all versions)
#   OUT/<label>/checked-hash/proj     PEP 552 checked hash pycs    (3.7+)
#   OUT/<label>/unchecked-hash/proj   PEP 552 unchecked hash pycs  (3.7+)
#   OUT/<label>/pycache-prefix/{proj,cache}  PYTHONPYCACHEPREFIX=cache (3.8+)
# each at optimization levels 0, 1, 2 (2.x and <3.5: 0 and 1 only, .pyo naming),
# then applies mutations: pkg/stale_mod.py is modified (new content, size, mtime),
# pkg/orphan_mod.py is deleted, and a legacy sourceless pkg/legacy_mod.pyc is placed
# beside the sources.  pkg/bad_syntax.py never compiles; pkg/naïve_mod.py has a
# non-ASCII name.
# Writes OUT/manifest.tsv (one row per expected pyc, with its expected status:
# fresh | stale | orphan | sourceless-legacy | missing) and OUT/interpreters.tsv,
# then self-checks every row with the interpreter that wrote it and prints
# "N passed, N failed".  No network access.  Exit status 0 only if all checks pass.
set -u -o pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT_ARG=$1

# ---- environment hygiene: these variables change where/how pycs are written
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX SOURCE_DATE_EPOCH PYTHONOPTIMIZE \
      PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONSAFEPATH PYTHONUTF8 2>/dev/null || true
export PYTHONIOENCODING=utf-8
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then export LC_ALL=C.UTF-8; fi

BASE_MTIME=1700000000      # every source gets this mtime before compiling
STALE_MTIME=1700000100     # stale_mod.py gets this one after compiling

if [ -e "$OUT_ARG" ] && [ -n "$(ls -A "$OUT_ARG" 2>/dev/null)" ]; then
  if [ -f "$OUT_ARG/.pyc-matrix" ]; then
    rm -rf -- "${OUT_ARG:?}"/* "${OUT_ARG:?}"/.pyc-matrix "${OUT_ARG:?}"/.staging
  else
    echo "error: $OUT_ARG exists, is not empty and was not made by this script" >&2; exit 2
  fi
fi
mkdir -p "$OUT_ARG" || exit 2
OUT=$(cd "$OUT_ARG" && pwd -P) || exit 2
: > "$OUT/.pyc-matrix"

# ---------------------------------------------------------------- interpreters
PROBE='import sys, os, platform
impl = getattr(sys, "implementation", None)
name = impl.name if impl else platform.python_implementation().lower()
tag = impl.cache_tag if impl else "-"
try:
    import importlib.util as u
    magic = u.MAGIC_NUMBER
except Exception:
    import imp
    magic = imp.get_magic()
m = bytearray(magic)
print("\t".join([name, "%d.%d.%d" % sys.version_info[:3], str(tag), str(m[0] | m[1] << 8),
                 os.path.realpath(sys.executable)]))'

candidates=()
PYENV_DIR=${PYENV_ROOT:-$HOME/.pyenv}
for p in "$PYENV_DIR"/versions/*/bin/python; do [ -x "$p" ] && candidates+=("$p"); done
IFS=: read -r -a path_dirs <<< "${PATH:-}"
for d in "${path_dirs[@]}"; do
  [ -d "$d" ] || continue
  for f in "$d"/python3.* "$d"/pypy3*; do
    b=${f##*/}
    [[ $b =~ ^(python3\.[0-9]+|pypy3(\.[0-9]+)?)$ ]] || continue
    [ -x "$f" ] && candidates+=("$f")
  done
done

declare -A seen_exe=() seen_label=()
labels=(); declare -A PY=() IMPL=() VER=() TAG=() MAGIC=()
probe_lines=()
for c in "${candidates[@]}"; do
  info=$(timeout 30 "$c" -c "$PROBE" 2>/dev/null) || { echo "skip: $c (does not run)"; continue; }
  case "$info" in *$'\t'*$'\t'*$'\t'*$'\t'*) ;; *) echo "skip: $c (no probe output)"; continue ;; esac
  probe_lines+=("$info"$'\t'"$c")
done
printf 'label\texecutable\timplementation\tversion\tcache_tag\tmagic\n' > "$OUT/interpreters.tsv"
if [ ${#probe_lines[@]} -gt 0 ]; then
  while IFS=$'\t' read -r impl ver tag magic exe c; do
    if [ -n "${seen_exe[$exe]:-}" ]; then continue; fi
    seen_exe[$exe]=1
    label="$impl-$ver"; n=2
    while [ -n "${seen_label[$label]:-}" ]; do label="$impl-$ver-$n"; n=$((n+1)); done
    seen_label[$label]=1
    labels+=("$label"); PY[$label]=$c; IMPL[$label]=$impl; VER[$label]=$ver; TAG[$label]=$tag; MAGIC[$label]=$magic
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$c" "$impl" "$ver" "$tag" "$magic" >> "$OUT/interpreters.tsv"
  done < <(printf '%s\n' "${probe_lines[@]}" | sort -s -t $'\t' -k1,1 -k2,2V)
fi
if [ ${#labels[@]} -eq 0 ]; then echo "no usable Python interpreter found" >&2; exit 1; fi
echo "interpreters used:"
for l in "${labels[@]}"; do echo "  $l  (${PY[$l]}, cache_tag=${TAG[$l]}, magic=${MAGIC[$l]})"; done

# ---------------------------------------------------------------- source tree
STAGE="$OUT/.staging"
make_sources() {  # $1 = proj dir
  local p=$1
  mkdir -p "$p/pkg/sub"
  printf '"""Top-level module."""\nimport pkg\n\nMAIN = True\n' > "$p/toplevel.py"
  printf '"""The pkg package."""\nVERSION = "1.0"\n' > "$p/pkg/__init__.py"
  cat > "$p/pkg/alpha.py" <<'PYSRC'
"""alpha: functions and a class."""
import os

ANSWER = 42
RATIO = 0.5
NAMES = ("a", "b", "c")


def add(x, y=1, *rest, **kw):
    """Add things."""
    return x + y + sum(rest)


def make_counter():
    count = [0]

    def bump(step=1):
        count[0] += step
        return count[0]
    return bump


class Widget(object):
    """A widget."""
    size = 3

    def area(self):
        return self.size * self.size

    class Inner(object):
        def hello(self):
            return "hi"
PYSRC
  printf '"""beta: docstring is dropped at -OO."""\nassert True, "asserts are dropped at -O"\nBIG = 2 ** 70\nTEXT = "beta"\n\ndef shout(s):\n    return s.upper()\n' > "$p/pkg/beta.py"
  # pycache addition: every kind of nested code object (valid Python 2.7 and 3.x).
  cat > "$p/pkg/shapes.py" <<'PYSRC'
"""shapes: every kind of nested code object."""


def deco(f):
    return f


@deco
def decorated(n):
    squares = [i * i for i in range(n)]
    evens = {i for i in squares if i % 2 == 0}
    pairs = dict((k, v) for k, v in zip(squares, evens))
    return {k: v for k, v in pairs.items()}


def maker():
    global made

    def made():
        return "global"

    class Local(object):
        key = staticmethod(lambda item: item)
    return Local


class Shape(object):
    sides = 0
    area = lambda self: 0

    @property
    def name(self):
        return [s for s in ("a", "b")]
PYSRC
  printf 'value = 1\n' > "$p/pkg/stale_mod.py"
  printf 'def gone():\n    return "orphan"\n' > "$p/pkg/orphan_mod.py"
  printf 'def broken(:\n    pass\n' > "$p/pkg/bad_syntax.py"
  printf '# -*- coding: utf-8 -*-\nNAME = "na\xc3\xafve"\n' > "$p/pkg/na"$'\xc3\xaf'"ve_mod.py"
  printf '' > "$p/pkg/sub/__init__.py"
  printf 'def outer(n):\n    def inner(m):\n        return n * m\n    return inner\n\nsquare = lambda v: v * v\n' > "$p/pkg/sub/deep.py"
  find "$p" -name '*.py' -exec touch -d "@$BASE_MTIME" {} +
}
mkdir -p "$STAGE"
printf 'LEGACY = True\n' > "$STAGE/legacy_mod.py"
touch -d "@$BASE_MTIME" "$STAGE/legacy_mod.py"

# compile + print "relsrc<TAB>cachepath" for every .py (runs under the target interpreter;
# must work on 2.7 .. 3.15).  argv: proj mode
COMPILE='import sys, os, compileall
proj, mode = sys.argv[1], sys.argv[2]
kw = {"quiet": 1}
if mode != "timestamp":
    import py_compile
    kw["invalidation_mode"] = getattr(py_compile.PycInvalidationMode, mode.upper().replace("-", "_"))
saved, sys.stdout = sys.stdout, sys.stderr   # compileall reports errors on stdout
try:
    compileall.compile_dir(proj, **kw)
finally:
    sys.stdout = saved
try:
    from importlib.util import cache_from_source
except ImportError:
    try:
        from imp import cache_from_source
    except ImportError:
        cache_from_source = None
for root, dirs, files in os.walk(proj):
    dirs.sort()
    for f in sorted(files):
        if not f.endswith(".py"):
            continue
        src = os.path.join(root, f)
        if cache_from_source is not None:
            c = cache_from_source(src)
        else:
            c = src + ("c" if __debug__ else "o")
        line = "MAP\t%s\t%s\n" % (os.path.relpath(src, proj), c)
        if sys.version_info[0] >= 3:
            sys.stdout.buffer.write(line.encode("utf-8", "surrogateescape"))
        else:
            sys.stdout.write(line)'

LEGACY='import sys, py_compile
kw = {"doraise": True}
if sys.argv[3] != "timestamp":
    kw["invalidation_mode"] = getattr(py_compile.PycInvalidationMode, sys.argv[3].upper().replace("-", "_"))
py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile="legacy_mod.py", **kw)'

cat > "$OUT/README.txt" <<'README'
Generated by make-pyc-matrix.sh (see docs/pyc-format.md, section 8).
<label>/timestamp|checked-hash|unchecked-hash/proj   sources + __pycache__ (2.x: .pyc/.pyo beside)
<label>/pycache-prefix/{proj,cache}                  PYTHONPYCACHEPREFIX=cache (absolute paths inside)
manifest.tsv: pyc_path status implementation version cache_tag magic invalidation opt source_path note
status: fresh | stale | orphan | sourceless-legacy | missing (no pyc: syntax error)
interpreters.tsv: label executable implementation version cache_tag magic
README
MANIFEST="$OUT/manifest.tsv"
printf 'pyc_path\tstatus\timplementation\tversion\tcache_tag\tmagic\tinvalidation\topt\tsource_path\tnote\n' > "$MANIFEST"

rel() { local x=$1; printf '%s' "${x#"$OUT"/}"; }

build_tree() {  # label mode treedir use_prefix
  local l=$1 mode=$2 tree=$3 use_prefix=$4
  local py=${PY[$l]} ver=${VER[$l]} proj="$tree/proj" opts
  local major=${ver%%.*} rest=${ver#*.}; local minor=${rest%%.*}
  if [ "$major" -ge 3 ] && [ "$minor" -ge 5 ]; then opts="0 1 2"; else opts="0 1"; fi
  make_sources "$proj"
  local -a envp=()
  if [ "$use_prefix" = 1 ]; then envp=(env "PYTHONPYCACHEPREFIX=$tree/cache"); fi
  local maps="$tree/.map"; : > "$maps"
  for o in $opts; do
    local -a of=(); [ "$o" = 1 ] && of=(-O); [ "$o" = 2 ] && of=(-OO)
    if ! (cd "$tree" && "${envp[@]}" "$py" -B "${of[@]}" -c "$COMPILE" "$proj" "$mode" \
           > "$maps.$o" 2>> "$tree/compile.log"); then
      echo "  warn: $l $mode opt=$o compile step failed (see $(rel "$tree")/compile.log)"
    fi
    grep '^MAP'$'\t' "$maps.$o" | sed "s/^MAP/$o/" >> "$maps"; rm -f "$maps.$o"
  done
  # legacy sourceless pyc beside the sources (opt 0 only)
  local legacy_pyc="$proj/pkg/legacy_mod.pyc"
  (cd "$tree" && "$py" -B -c "$LEGACY" "$STAGE/legacy_mod.py" "$legacy_pyc" "$mode" 2>> "$tree/compile.log") \
    || echo "  warn: $l $mode legacy compile failed"
  # mutations
  printf 'value = 2  # modified after compiling\n' > "$proj/pkg/stale_mod.py"
  touch -d "@$STALE_MTIME" "$proj/pkg/stale_mod.py"
  rm -f "$proj/pkg/orphan_mod.py"
  # manifest rows
  local inval=$mode
  local py2=0; [ "$major" -lt 3 ] && py2=1
  while IFS=$'\t' read -r o src cpath; do
    [ -n "$src" ] || continue
    local status=fresh note=""
    case "$src" in
      pkg/stale_mod.py) status=stale
        [ "$mode" = unchecked-hash ] && note="unchecked: import still uses it by default" ;;
      pkg/orphan_mod.py)
        if [ $py2 = 1 ]; then status=sourceless-legacy; note="source deleted; 2.x imports NAME.pyc/.pyo without source"
        else status=orphan; note="source deleted; never imported"; fi ;;
      pkg/bad_syntax.py) status=missing; note="syntax error: no pyc written" ;;
    esac
    case "$cpath" in /*) ;; *) cpath="$tree/$cpath" ;; esac
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(rel "$cpath")" "$status" "${IMPL[$l]}" "$ver" \
      "${TAG[$l]}" "${MAGIC[$l]}" "$inval" "$o" "$(rel "$proj/$src")" "$note" >> "$MANIFEST"
  done < "$maps"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(rel "$legacy_pyc")" sourceless-legacy "${IMPL[$l]}" "$ver" \
    "${TAG[$l]}" "${MAGIC[$l]}" "$inval" 0 "$(rel "$proj/pkg/legacy_mod.py")" "legacy location, no source" >> "$MANIFEST"
  rm -f "$maps"
}

for l in "${labels[@]}"; do
  ver=${VER[$l]}; major=${ver%%.*}; rest=${ver#*.}; minor=${rest%%.*}
  modes="timestamp"
  if [ "$major" -ge 3 ] && [ "$minor" -ge 7 ]; then modes="timestamp checked-hash unchecked-hash"; fi
  for m in $modes; do build_tree "$l" "$m" "$OUT/$l/$m" 0; done
  if [ "$major" -ge 3 ] && [ "$minor" -ge 8 ]; then build_tree "$l" timestamp "$OUT/$l/pycache-prefix" 1; fi
  echo "built: $l ($modes$([ "$major" -ge 3 ] && [ "$minor" -ge 8 ] && echo ' +pycache-prefix'))"
done

# ---------------------------------------------------------------- self-check
# Each row is checked by the interpreter that wrote it (its own magic / hash function).
CHECK='import sys, os, struct, subprocess
out, label, magic_expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = []
f = open(os.path.join(out, "manifest.tsv"), "rb")
f.readline()
for raw in f:
    r = raw.rstrip(b"\n").split(b"\t")
    if sys.version_info[0] >= 3:
        r = [x.decode("utf-8", "surrogateescape") for x in r]
    if "%s-%s" % (r[2], r[3]) == label or r[0].startswith(label + "/"):
        rows.append(r)
try:
    from importlib.util import source_hash
except ImportError:
    source_hash = None
ok = bad = 0
def fail(r, why):
    global bad
    bad += 1
    sys.stdout.write("FAIL %s [%s]: %s\n" % (r[0], r[1], why))
for r in rows:
    pyc, status, src = os.path.join(out, r[0]), r[1], os.path.join(out, r[8])
    if status == "missing":
        if os.path.exists(pyc): fail(r, "pyc exists")
        else: ok += 1
        continue
    if not os.path.isfile(pyc):
        fail(r, "pyc not found"); continue
    data = open(pyc, "rb").read()
    m = bytearray(data[:4])
    if (m[0] | m[1] << 8) != magic_expected or bytes(m[2:4]) != b"\r\n":
        fail(r, "magic"); continue
    if status in ("orphan", "sourceless-legacy"):
        if os.path.exists(src): fail(r, "source exists"); continue
        if status == "sourceless-legacy" and r[0].endswith("legacy_mod.pyc"):
            proj = os.path.dirname(os.path.dirname(pyc))
            rc = subprocess.call([sys.executable, "-B", "-c", "import pkg.legacy_mod as m; assert m.LEGACY"], cwd=proj)
            if rc != 0: fail(r, "legacy import failed"); continue
        ok += 1; continue
    if not os.path.isfile(src):
        fail(r, "source missing"); continue
    sdata = open(src, "rb").read()
    st = os.stat(src)
    if len(data) >= 16 and sys.version_info[:2] >= (3, 7):
        flags = struct.unpack("<I", data[4:8])[0]
        if flags & 1:
            match = data[8:16] == source_hash(sdata)
        else:
            match = struct.unpack("<II", data[8:16]) == (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
        want_flags = {"timestamp": 0, "checked-hash": 3, "unchecked-hash": 1}[r[6]]
        if flags != want_flags: fail(r, "flags %d != %d" % (flags, want_flags)); continue
    elif sys.version_info[:2] >= (3, 3):
        match = struct.unpack("<II", data[4:12]) == (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
    else:
        match = struct.unpack("<I", data[4:8])[0] == (int(st.st_mtime) & 0xFFFFFFFF)
    if match != (status == "fresh"):
        fail(r, "header/source match=%s" % match); continue
    ok += 1
sys.stdout.write("%s %d %d\n" % (label, ok, bad))'

total_ok=0; total_bad=0
for l in "${labels[@]}"; do
  res=$("${PY[$l]}" -B -c "$CHECK" "$OUT" "$l" "${MAGIC[$l]}" 2>&1)
  printf '%s\n' "$res" | grep '^FAIL' || true
  last=$(printf '%s\n' "$res" | tail -n 1)
  read -r _ okc badc <<< "$last"
  if ! [[ ${okc:-x} =~ ^[0-9]+$ && ${badc:-x} =~ ^[0-9]+$ ]]; then
    echo "check crashed for $l: $res"; total_bad=$((total_bad+1)); continue
  fi
  total_ok=$((total_ok+okc)); total_bad=$((total_bad+badc))
done
# every pyc/pyo on disk must be in the manifest
extra=$(cd "$OUT" && find . -type f \( -name '*.pyc' -o -name '*.pyo' \) -printf '%P\n' | sort > .found
        cut -f1 manifest.tsv | tail -n +2 | sort > .listed
        comm -23 .found .listed; rm -f .found .listed)
if [ -n "$extra" ]; then echo "unlisted pyc files:"; printf '%s\n' "$extra"; total_bad=$((total_bad+1)); fi
rows=$(($(wc -l < "$MANIFEST") - 1))
echo "manifest: $MANIFEST ($rows rows)"
echo "$total_ok passed, $total_bad failed"
[ "$total_bad" -eq 0 ]
