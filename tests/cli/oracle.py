# The interpreter's side of tests/cli/oracle.rs (Python 2.7 and 3.6+, CPython and PyPy).
#
#   python oracle.py make DIR    builds a tree holding every case pycache's verdicts cover,
#                                written by this interpreter, and prints the module names
#   python oracle.py probe DIR NAME...
#                                for each name, what the import system does: which cache it
#                                reads and with what outcome, one JSON object per line
#
# Python 3: the import system's own code path, FileFinder(DIR, *_get_supported_file_loaders())
# .find_spec(NAME), then loader.get_code(NAME), with _compile_bytecode and source_to_code
# instrumented and sys.dont_write_bytecode set: module code is never executed.
# Python 2.7 has no Python-level loader (import.c does it in C): imp.find_module, then
# imp.load_module, whose __file__ names the .pyc when the cache was used. That runs the
# module body, which in this tree is a constant assignment the test generated.
from __future__ import print_function

import json
import marshal
import os
import shutil
import sys

sys.dont_write_bytecode = True
PY3 = sys.version_info[0] >= 3
T = 1700000000


def write(path, data):
    d = os.path.dirname(path)
    if not os.path.isdir(d):
        os.makedirs(d)
    with open(path, "wb") as f:
        f.write(data)


def set_mtime(path, sec, nsec=0):
    if PY3:
        os.utime(path, ns=(sec * 10**9 + nsec, sec * 10**9 + nsec))
    elif nsec:
        # Python 2's os.utime takes a float, which cannot hold T.999999999.
        import subprocess

        subprocess.check_call(["touch", "-d", "@%d.%09d" % (sec, nsec), path])
    else:
        os.utime(path, (sec, sec))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def make(d):
    import py_compile

    names = []
    header = 16 if sys.version_info >= (3, 7) else (12 if PY3 else 8)

    def source(name, text="x = 1\n", nsec=0):
        p = os.path.join(d, name + ".py")
        write(p, text.encode())
        set_mtime(p, T, nsec)
        return p

    def compiled(name, opt=0, mode=None, legacy=False):
        p = os.path.join(d, name + ".py")
        if not PY3 or legacy:
            cfile = os.path.join(d, name + ".pyc")
            py_compile.compile(p, cfile=cfile, doraise=True)
            if not PY3:
                shutil.copyfile(cfile, cfile[:-1] + "o")
            return [cfile]
        import importlib.util

        out = []
        for level in ([0, 1, 2] if opt is None else [opt]):
            cfile = importlib.util.cache_from_source(p, optimization=level or "")
            kw = {"cfile": cfile, "doraise": True, "optimize": level}
            if mode is not None:
                kw["invalidation_mode"] = mode
            py_compile.compile(p, **kw)
            out.append(cfile)
        return out

    def caches(name):
        return compiled(name, opt=None)

    def case(name, text="x = 1\n", nsec=0):
        names.append(name)
        source(name, text, nsec)
        return caches(name)

    def each_cache(files, change):
        for c in files:
            data = read(c)
            os.chmod(c, 0o644)
            write(c, change(data))
        # pyo copies (Python 2) get the same change
        if not PY3:
            for c in files:
                write(c[:-1] + "o", read(c))

    case("fresh")
    stale = case("stale")
    source("stale", "x = 22\n")
    set_mtime(os.path.join(d, "stale.py"), T + 5)
    each_cache(case("cut"), lambda b: b[:-9])
    each_cache(case("junk"), lambda b: b[:header] + b"?")
    each_cache(case("notcode"), lambda b: b[:header] + marshal.dumps(None))
    each_cache(case("nullobj"), lambda b: b[:header] + b"0")

    def older_magic(b):
        # The previous (pre-release) number of this version; 2.7a0's 62201 for Python 2.
        m = (b[0] + 256 * b[1] - 1) if PY3 else 62201
        return bytes(bytearray([m & 255, m >> 8])) + b[2:]

    each_cache(case("alpha"), older_magic)
    # st_mtime T.999999999: the float rounds up to T + 1 (Python 3); C's time_t is T.
    for name, recorded in (("round_up", T + 1), ("round_down", T)):
        files = case(name, nsec=999999999)

        def put(b, recorded=recorded):
            at = 8 if header == 16 else 4
            return b[:at] + bytes(bytearray(
                [(recorded >> s) & 255 for s in (0, 8, 16, 24)])) + b[at + 4:]

        each_cache(files, put)
    # Shadowing: an extension module, a package, a plain directory (which does not shadow).
    if PY3:
        import importlib.machinery

        suffixes = importlib.machinery.EXTENSION_SUFFIXES
    else:
        suffixes = [".so", "module.so"]
    case("md")
    write(os.path.join(d, "md" + suffixes[0]), b"not loaded: find_spec only")
    case("mdabi")
    write(os.path.join(d, "mdabi.abi3.so" if PY3 else "mdabimodule.so"), b"not loaded")
    case("pk")
    write(os.path.join(d, "pk", "__init__.py"), b"")
    case("nsd")
    os.mkdir(os.path.join(d, "nsd"))
    # A symlinked cache.
    for c in case("ln"):
        store = os.path.join(d, "store", os.path.basename(c))
        write(store, read(c))
        os.remove(c)
        os.symlink(store, c)
    if not PY3:
        for ext in ("pyc", "pyo"):
            c = os.path.join(d, "ln." + ext)
            if os.path.islink(c):
                continue
            store = os.path.join(d, "store", "ln." + ext)
            write(store, read(c))
            os.remove(c)
            os.symlink(store, c)
    # Sourceless: a legacy .pyc without its source (importable), whole and cut.
    for name, cut in (("sl", False), ("slcut", True)):
        names.append(name)
        source(name)
        c = compiled(name, legacy=True)[0]
        if cut:
            write(c, read(c)[:-9])
            if not PY3:
                write(c[:-1] + "o", read(c))
        os.remove(os.path.join(d, name + ".py"))
    if PY3:
        # A legacy .pyc beside its source: Python 3 never reads it.
        names.append("lg")
        source("lg")
        compiled("lg", legacy=True)
        # An interrupted write's leftover, and pytest's assertion-rewrite caches.
        c = case("left")[0]
        shutil.copyfile(c, c + ".12345")
        c = case("test_a")[0]
        tag = sys.implementation.cache_tag
        shutil.copyfile(c, os.path.join(os.path.dirname(c), "test_a.%s-pytest-8.4.2.pyc" % tag))
        shutil.copyfile(c, os.path.join(os.path.dirname(c), "test_a.%s-PYTEST.pyc" % tag))
    if sys.version_info >= (3, 7):
        from py_compile import PycInvalidationMode as M

        for name, mode, change in (
            ("hc", M.CHECKED_HASH, False),
            ("hcs", M.CHECKED_HASH, True),
            ("hu", M.UNCHECKED_HASH, False),
            ("hus", M.UNCHECKED_HASH, True),
        ):
            names.append(name)
            source(name)
            compiled(name, opt=None, mode=mode)
            if change:
                source(name, "x = 9\n")
    print(" ".join(names))


def probe(d, names):
    if not PY3:
        return probe2(d, names)
    from importlib import _bootstrap_external as be
    from importlib.machinery import FileFinder

    events = []
    compile_bytecode = be._compile_bytecode

    def instrumented_compile(data, name=None, bytecode_path=None, source_path=None):
        events.append(("bytecode", bytecode_path))
        return compile_bytecode(data, name, bytecode_path, source_path)

    be._compile_bytecode = instrumented_compile
    source_to_code = be.SourceLoader.source_to_code

    def instrumented_source(self, data, path, *args, **kwargs):
        events.append(("source", path))
        return source_to_code(self, data, path, *args, **kwargs)

    be.SourceLoader.source_to_code = instrumented_source
    for name in names:
        spec = FileFinder(d, *be._get_supported_file_loaders()).find_spec(name)
        loader = spec.loader if spec else None
        out = {"name": name, "loader": type(loader).__name__, "cache": None}
        if isinstance(loader, be.SourceFileLoader):
            out["cache"] = be.cache_from_source(spec.origin)
        elif isinstance(loader, be.SourcelessFileLoader):
            out["cache"] = spec.origin
        if out["cache"] is not None and spec.origin and os.path.basename(spec.origin).startswith("__init__"):
            out["cache"] = None
        if out["cache"] is not None:
            del events[:]
            try:
                loader.get_code(name)
            except Exception as e:
                out["outcome"] = "import-error"
                out["error"] = "%s: %s" % (type(e).__name__, e)
            else:
                used = ("bytecode", out["cache"]) in events
                out["outcome"] = "used" if used else "recompiled"
        print(json.dumps(out))


def probe2(d, names):
    import imp

    for name in names:
        out = {"name": name, "cache": None}
        try:
            f, path, desc = imp.find_module(name, [d])
        except ImportError:
            print(json.dumps(out))
            continue
        kind = desc[2]
        out["loader"] = {imp.PY_SOURCE: "source", imp.PY_COMPILED: "compiled"}.get(kind, str(kind))
        if kind == imp.PY_SOURCE:
            out["cache"] = path + ("c" if __debug__ else "o")
        elif kind == imp.PY_COMPILED:
            out["cache"] = path
        if out["cache"] is not None:
            try:
                mod = imp.load_module("oracle_" + name, f, path, desc)
            except Exception as e:
                out["outcome"] = "import-error"
                out["error"] = "%s: %s" % (type(e).__name__, e)
            else:
                used = mod.__file__ == out["cache"]
                out["outcome"] = "used" if used else "recompiled"
        if f:
            f.close()
        print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        probe(sys.argv[2], sys.argv[3:])
