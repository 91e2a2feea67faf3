# pycache doctor's measuring driver, run by the service's interpreter with -E -s -S -B.
# It never imports or runs project code: it reads sources and calls compile(), and
# unmarshals caches (a fresh one given by pycache, else one written with py_compile into a
# private temporary directory). Works on Python 2.7 and 3.x.
#
#   stdin: {"repeat": N, "optimize": L, "modules": [{"source": PATH, "cache": PATH|null}]}
#   stdout: {"modules": [{"source", "compile_ms", "load_ms", "cache_used", "error"}]}
import json
import marshal
import os
import py_compile
import shutil
import sys
import tempfile
import time

timer = getattr(time, "perf_counter", time.time)


def header_size():
    if sys.version_info >= (3, 7):
        return 16
    if sys.version_info >= (3, 3):
        return 12
    return 8


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def read(path):
    f = open(path, "rb")
    try:
        return f.read()
    finally:
        f.close()


def compile_once(path, optimize):
    data = read(path)
    if sys.version_info >= (3, 2):
        return compile(data, path, "exec", 0, True, optimize)
    return compile(data, path, "exec", 0, True)


def load_once(path, hdr):
    return marshal.loads(read(path)[hdr:])


def measure_one(i, m, req, tmp):
    src, repeat, opt = m["source"], req["repeat"], req["optimize"]
    out = {"source": src}
    try:
        times = []
        for _ in range(repeat):
            t0 = timer()
            compile_once(src, opt)
            times.append(timer() - t0)
        out["compile_ms"] = median(times) * 1000.0
        cache = m.get("cache")
        if not cache:
            cache = os.path.join(tmp, "%d.pyc" % i)
            if sys.version_info >= (3, 2):
                py_compile.compile(src, cfile=cache, doraise=True, optimize=opt)
            else:
                py_compile.compile(src, cfile=cache, doraise=True)
        out["cache_used"] = m.get("cache")
        times = []
        for _ in range(repeat):
            t0 = timer()
            load_once(cache, header_size())
            times.append(timer() - t0)
        out["load_ms"] = median(times) * 1000.0
    except Exception as e:  # a syntax error is a finding, not a crash
        out["error"] = "%s: %s" % (type(e).__name__, e)
    return out


def measure(req):
    tmp = tempfile.mkdtemp(prefix="pycache-doctor-")
    try:
        mods = [measure_one(i, m, req, tmp) for i, m in enumerate(req["modules"])]
    finally:
        shutil.rmtree(tmp, True)
    return {"modules": mods}


def main():
    sys.stdout.write(json.dumps(measure(json.loads(sys.stdin.read()))))


main()
