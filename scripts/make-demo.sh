#!/usr/bin/env bash
# make-demo.sh - regenerates the bytecode of the bundled demo project (assets/demo)
#
# The demo retells the investigation pycache was made for (shared/seed): a Flask-style app
# developed under CPython 3.12, then 3.13, deployed with a PYTHONPYCACHEPREFIX mirror. Its
# caches are real .pyc files written by py_compile of real interpreters, replaying a history:
#
#   T0 1700000000  every source written; CPython 3.12 compiles the app (and ldap_sync.py
#                  as a legacy, sourceless ldap_sync.pyc)
#   T1 1701000000  models.py gains delete_inactive(): its 3.12 cache goes stale;
#                  CPython 3.13 compiles part of the app (not app.py, not utils.py)
#   T2 1702000000  config.py touched (same bytes): stale for both versions; the server
#                  (3.13, PYTHONPYCACHEPREFIX=instance/tmp) fills the prefix mirror, except
#                  utils, imported lazily by the first CSV export, which never ran there
#   then           two migrations and ldap_sync.py are deleted (orphaned caches); a crash
#                  left a half-written generate_weekly_reports.cpython-313.pyc.<id>
#
# Inputs:  assets/demo/src (the project as written by `pycache demo`), assets/demo/history
#          (earlier or deleted files). Outputs: assets/demo/cache (the .pyc files; prefix
#          caches under cache/prefix/, relative to the project), assets/demo/manifest.tsv
#          (every file the demo writes, with its mtime), assets/demo/expected.tsv (each
#          cache's verdict, computed here from headers and stats, independently of
#          pycache), assets/demo/files.rs (the include_bytes! table compiled into pycache).
# Needs:   CPython 3.12 and 3.13 ($PY312/$PY313, default ~/.pyenv/versions/3.12.1 and 3.13.0).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
DEMO=$PWD/assets/demo
PYENV=${PYENV_ROOT:-$HOME/.pyenv}/versions
PY312=${PY312:-$PYENV/3.12.1/bin/python}
PY313=${PY313:-$PYENV/3.13.0/bin/python}
for py in "$PY312" "$PY313"; do
  [[ -x $py ]] || { echo "make-demo: error: $py not found (set PY312/PY313)" >&2; exit 2; }
done
# py_compile ignores PYTHONDONTWRITEBYTECODE, but SOURCE_DATE_EPOCH would make hash pycs.
unset PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX SOURCE_DATE_EPOCH PYTHONOPTIMIZE
export LC_ALL=C

T0=1700000000 T1=1701000000 T2=1702000000
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
P=$STAGE/proj
cp -r "$DEMO/src" "$P"
cp "$DEMO/history/"*.py "$P/"          # models.py as of T0, and the files deleted later
find "$P" -type f -exec touch -d "@$T0" {} +

compile() { # compile PYTHON CFILE_MODE FILE... (CFILE_MODE: cache | legacy | prefix)
  local py=$1 mode=$2; shift 2
  (cd "$P" && "$py" -I - "$mode" "$STAGE/prefix" "$@") <<'PYEOF'
import os, py_compile, sys
mode, prefix, files = sys.argv[1], sys.argv[2], sys.argv[3:]
tag = sys.implementation.cache_tag
for f in files:
    if mode == "legacy":
        cfile = f + "c"
    elif mode == "prefix":
        cfile = os.path.join(prefix, f[:-3] + "." + tag + ".pyc")
    else:
        cfile = None
    py_compile.compile(f, cfile=cfile, dfile="lernmanager/" + f, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
PYEOF
}

# T0: the 3.12 build.
compile "$PY312" cache app.py config.py models.py utils.py analytics_queue.py import_task.py \
  migrate_add_index.py migrate_drop_password_plain.py migrate_to_sqlcipher.py \
  generate_weekly_reports.py microweb/__init__.py microweb/routing.py reports/__init__.py \
  reports/weekly.py
compile "$PY312" legacy ldap_sync.py
# T1: models.py edited, then the 3.13 build.
cp "$DEMO/src/models.py" "$P/models.py"
touch -d "@$T1" "$P/models.py"
compile "$PY313" cache config.py models.py analytics_queue.py migrate_drop_password_plain.py \
  migrate_to_sqlcipher.py microweb/__init__.py microweb/routing.py reports/__init__.py \
  reports/weekly.py
# T2: config.py touched; the server fills the prefix mirror.
touch -d "@$T2" "$P/config.py"
compile "$PY313" prefix app.py config.py models.py analytics_queue.py \
  migrate_to_sqlcipher.py microweb/__init__.py microweb/routing.py
# A crash while writing a cache leaves CPython's temporary file (FINAL_PATH.<id>).
compile "$PY313" cache generate_weekly_reports.py
head -c 100 "$P/__pycache__/generate_weekly_reports.cpython-313.pyc" \
  >"$P/__pycache__/generate_weekly_reports.cpython-313.pyc.139872051"
rm "$P/__pycache__/generate_weekly_reports.cpython-313.pyc"
# Then: sources deleted.
rm "$P/migrate_drop_password_plain.py" "$P/migrate_to_sqlcipher.py" "$P/ldap_sync.py"

# The staged sources must be exactly the committed project.
diff -r -x __pycache__ -x '*.pyc' "$DEMO/src" "$P" >/dev/null ||
  { echo "make-demo: error: staged sources differ from assets/demo/src" >&2; exit 1; }

rm -rf "$DEMO/cache"
mkdir -p "$DEMO/cache"
(cd "$P" && find . \( -name '*.pyc' -o -name '*.pyc.*' \) -exec cp --parents {} "$DEMO/cache/" \;)
mkdir -p "$DEMO/cache/prefix"
(cd "$STAGE/prefix" && find . -name '*.pyc' -exec cp --parents {} "$DEMO/cache/prefix/" \;)

"$PY313" -I - "$DEMO" "$P" "$STAGE/prefix" <<'PYEOF'
import os, sys
demo, proj, prefix = sys.argv[1:]
MAGIC = {3531: "cpython-312", 3571: "cpython-313"}

def files(root):
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            yield os.path.relpath(os.path.join(d, n), root)

rows, expected = [], []
for rel in files(os.path.join(demo, "src")):
    rows.append(("source", rel, int(os.stat(os.path.join(proj, rel)).st_mtime), "src/" + rel))

def verdict(pyc, src, location, name_tag):
    data = open(pyc, "rb").read(16)
    if pyc.rsplit(".", 1)[-1].isdigit():
        return "invalid", "leftover"
    tag = MAGIC[int.from_bytes(data[:2], "little")]
    if name_tag and name_tag != tag:
        return "invalid", "magic-mismatch"
    if not os.path.exists(src):
        return ("sourceless", "no-source") if location == "legacy" else ("orphaned", "source-deleted")
    if location == "legacy":
        return "shadowed", "source-exists"
    st = os.stat(src)
    bad = [w for w, ok in (("mtime", int.from_bytes(data[8:12], "little") == int(st.st_mtime)),
                           ("size", int.from_bytes(data[12:16], "little") == st.st_size)) if not ok]
    return ("stale", "+".join(bad)) if bad else ("fresh", "-")

# Cache file mtimes: when each was written (not used by any verdict).
for rel in files(os.path.join(demo, "cache")):
    if rel.startswith("prefix/"):
        kind, dest = "prefix", rel[len("prefix/"):]
        src = os.path.join(proj, os.path.dirname(dest), dest.split("/")[-1].split(".")[0] + ".py")
        location, name_tag, mtime = "prefix", dest.split(".")[-2], 1702000300
    elif "/__pycache__/" in "/" + rel:
        kind, dest = "cache", rel
        d = os.path.dirname(os.path.dirname(rel))
        src = os.path.join(proj, d, os.path.basename(rel).split(".")[0] + ".py")
        location = "pycache"
        name_tag = os.path.basename(rel).split(".")[1]
        mtime = 1700000100 if "cpython-312" in rel else 1701000100
    else:
        kind, dest = "cache", rel
        src = os.path.join(proj, rel[:-1])
        location, name_tag, mtime = "legacy", None, 1700000100
    status, reason = verdict(os.path.join(demo, "cache", rel), src, location, name_tag)
    rows.append((kind, dest, mtime, "cache/" + rel))
    expected.append((kind, dest, location, status, reason))

with open(os.path.join(demo, "manifest.tsv"), "w") as f:
    f.write("# kind\tdest\tmtime\tasset   (generated by scripts/make-demo.sh)\n")
    for r in rows:
        f.write("\t".join(map(str, r)) + "\n")
with open(os.path.join(demo, "expected.tsv"), "w") as f:
    f.write("# kind\tdest\tlocation\tstatus\treason   (generated by scripts/make-demo.sh)\n")
    for r in expected:
        f.write("\t".join(r) + "\n")
with open(os.path.join(demo, "files.rs"), "w") as f:
    f.write("// Generated by scripts/make-demo.sh: every file `pycache demo` writes. Do not edit.\n")
    f.write("&[\n")
    for kind, dest, mtime, asset in rows:
        k = {"source": "FileKind::Source", "cache": "FileKind::Cache", "prefix": "FileKind::Prefix"}[kind]
        f.write(f'    DemoFile {{ kind: {k}, dest: "{dest}", mtime: {mtime}, '
                f'bytes: include_bytes!("{asset}") }},\n')
    f.write("]\n")
counts = {}
for r in expected:
    counts[r[3]] = counts.get(r[3], 0) + 1
print("demo: %d files, caches: %s" % (len(rows), ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))))
PYEOF
