# pycache compile driver: compiles the sources pycache names, one JSON line each, with the
# interpreter running it, and answers with the .pyc bytes; pycache itself writes them, through
# directory handles (never by path: a directory swapped for a symlink cannot redirect it).
# Runs on Python 2.7 and 3.6+, as the tree's owner when pycache runs as root.
#
# request:  {"id": 7, "src": HEX, "opt": 0, "mode": "checked-hash", "max": 67108864}
#           (paths are hex bytes so any file name survives JSON)
# answer:   {"id": 7, "ok": true, "len": N, "tag": "cpython-313", "st": [dev, ino, size, mtime_ns, mtime_s]}
#           followed by exactly N bytes: the .pyc, as py_compile would write it
#           {"id": 7, "ok": false, "kind": "syntax", "msg": "...", "line": 3, "col": 5}
#           {"id": 7, "ok": false, "kind": "compile" | "os" | "error" | "refused", "msg": "..."}
# "st" is the fstat of the file that was read, so pycache can tell whether it is still the
# file it names, unchanged.
import binascii
import json
import marshal
import os
import stat
import struct
import sys
import warnings

# Warnings (invalid escape sequences...) would go to stderr, which nobody reads here.
warnings.simplefilter("ignore")

PY3 = sys.version_info[0] >= 3
if PY3:
    import importlib.machinery
    import importlib.util
    from importlib import _bootstrap_external as _bx
    MAGIC = importlib.util.MAGIC_NUMBER
    TAG = sys.implementation.cache_tag
    OUT = sys.stdout.buffer
else:
    import imp
    MAGIC = imp.get_magic()
    TAG = None
    OUT = sys.stdout


def path_of(text):
    raw = binascii.unhexlify(text)
    return os.fsdecode(raw) if PY3 else raw


def position(n):
    # Encoding errors report line 0, column -1: no position.
    return n if isinstance(n, int) and n > 0 else None


def pyc_bytes(src, data, st, opt, mode):
    """The bytes py_compile.compile(src, optimize=opt, invalidation_mode=mode) writes."""
    if not PY3:
        # 2.7's py_compile reads in universal-newline mode and compiles the text.
        text = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        code = compile(text, src, "exec")
        return MAGIC + struct.pack("<I", int(st.st_mtime) & 0xFFFFFFFF) + marshal.dumps(code)
    loader = importlib.machinery.SourceFileLoader("<py_compile>", src)
    code = loader.source_to_code(data, src, _optimize=opt)
    if mode in (None, "timestamp"):
        if hasattr(_bx, "_code_to_timestamp_pyc"):
            return bytes(_bx._code_to_timestamp_pyc(code, st.st_mtime, st.st_size))
        return bytes(_bx._code_to_bytecode(code, st.st_mtime, st.st_size))
    source_hash = importlib.util.source_hash(data)
    return bytes(_bx._code_to_hash_pyc(code, source_hash, mode == "checked-hash"))


def compile_one(req):
    src = path_of(req["src"])
    try:
        f = open(src, "rb")
    except (IOError, OSError) as e:
        return {"ok": False, "kind": "os", "msg": str(e)}, None
    with f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            return {"ok": False, "kind": "refused", "msg": "the source is not a regular file"}, None
        if st.st_size > req.get("max", 1 << 26):
            return {"ok": False, "kind": "refused",
                    "msg": "the source is larger than %d MiB" % (req.get("max", 1 << 26) >> 20)}, None
        data = f.read(st.st_size + 1)
    try:
        out = pyc_bytes(src, data, st, req.get("opt", 0), req.get("mode"))
    except SyntaxError as v:
        return {"ok": False, "kind": "syntax",
                "msg": "%s: %s" % (type(v).__name__, v.msg),
                "line": position(v.lineno), "col": position(v.offset)}, None
    except (ValueError, TypeError, RecursionError if PY3 else RuntimeError, MemoryError) as v:
        # The compiler itself refused: as final as a syntax error.
        return {"ok": False, "kind": "compile", "msg": "%s: %s" % (type(v).__name__, v)}, None
    ns = getattr(st, "st_mtime_ns", None)
    ident = [st.st_dev, st.st_ino, st.st_size, ns, int(st.st_mtime)]
    return {"ok": True, "len": len(out), "tag": TAG, "st": ident}, out


def main():
    while True:
        line = sys.stdin.readline()  # not `for line in stdin`: 2.7 reads ahead and blocks
        if not line:
            break
        req = json.loads(line)
        try:
            res, payload = compile_one(req)
        except Exception as e:  # report, never die: the next file must still compile
            res, payload = {"ok": False, "kind": "error", "msg": "%s: %s" % (type(e).__name__, e)}, None
        res["id"] = req["id"]
        OUT.write((json.dumps(res) + "\n").encode("utf-8"))
        if payload is not None:
            OUT.write(payload)
        OUT.flush()


main()
