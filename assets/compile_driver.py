# pycache compile driver: compiles the files pycache sends, one JSON line each, with the
# interpreter running it, and answers one JSON line per file. Runs on Python 2.7 and 3.6+.
#
# request:  {"id": 7, "src": HEX, "cfile": HEX, "opt": 0, "mode": "checked-hash", "chown": false}
#           (paths are hex bytes so any file name survives JSON)
# answer:   {"id": 7, "ok": true}
#           {"id": 7, "ok": false, "kind": "syntax", "msg": "...", "line": 3, "col": 5}
#           {"id": 7, "ok": false, "kind": "compile" | "os" | "error" | "refused", "msg": "..."}
import binascii
import json
import os
import py_compile
import sys
import warnings

# Warnings (invalid escape sequences...) would go to stderr, which nobody reads here.
warnings.simplefilter("ignore")

PY3 = sys.version_info[0] >= 3
try:
    _M = py_compile.PycInvalidationMode
    MODES = {"timestamp": _M.TIMESTAMP, "checked-hash": _M.CHECKED_HASH,
             "unchecked-hash": _M.UNCHECKED_HASH}
except AttributeError:
    MODES = None  # 3.6 and 2.7: timestamp only


def path_of(text):
    raw = binascii.unhexlify(text)
    return os.fsdecode(raw) if PY3 else raw


def missing_dirs(d):
    out = []
    while d and not os.path.lexists(d):
        out.append(d)
        d = os.path.dirname(d)
    return out


def position(n):
    # Encoding errors report line 0, column -1: no position.
    return n if isinstance(n, int) and n > 0 else None


def give(path, st):
    os.lchown(path, st.st_uid, st.st_gid)


def compile_one(req):
    src = path_of(req["src"])
    cfile = path_of(req["cfile"])
    cdir = os.path.dirname(cfile)
    if os.path.islink(cdir):
        return {"ok": False, "kind": "refused",
                "msg": "the cache directory is a symlink: not followed"}
    chown = req.get("chown")
    created = missing_dirs(cdir) if chown else []
    old = os.lstat(cfile) if chown and os.path.lexists(cfile) else None
    kw = {}
    if PY3:
        kw["optimize"] = req.get("opt", 0)
    if MODES is not None and req.get("mode"):
        kw["invalidation_mode"] = MODES[req["mode"]]
    try:
        py_compile.compile(src, cfile=cfile, doraise=True, **kw)
    except py_compile.PyCompileError as e:
        v = e.exc_value
        if isinstance(v, SyntaxError):
            return {"ok": False, "kind": "syntax",
                    "msg": "%s: %s" % (type(v).__name__, v.msg),
                    "line": position(v.lineno), "col": position(v.offset)}
        # The compiler itself refused (ValueError, RecursionError...): as final as a syntax error.
        return {"ok": False, "kind": "compile",
                "msg": "%s: %s" % (type(v).__name__, v)}
    except (IOError, OSError) as e:
        return {"ok": False, "kind": "os", "msg": str(e)}
    if chown:
        # Running as root: a new directory or file gets the owner of the directory it was
        # created in (so the service that owns the tree can still write its caches); a
        # rewritten file keeps its owner.
        for d in reversed(created):
            give(d, os.stat(os.path.dirname(d)))
        give(cfile, old or os.stat(cdir))
    return {"ok": True}


def main():
    while True:
        line = sys.stdin.readline()  # not `for line in stdin`: 2.7 reads ahead and blocks
        if not line:
            break
        req = json.loads(line)
        try:
            res = compile_one(req)
        except Exception as e:  # report, never die: the next file must still compile
            res = {"ok": False, "kind": "error", "msg": "%s: %s" % (type(e).__name__, e)}
        res["id"] = req["id"]
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


main()
