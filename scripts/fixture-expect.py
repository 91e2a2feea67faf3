# fixture-expect.py FIXTURE_DIR LABEL < rows.tsv > lines.json
#
# Runs under the interpreter that wrote the fixtures (Python 2.7 .. 3.x) and records what
# that interpreter itself says about each .pyc: its MAGIC_NUMBER, the header fields,
# and, through marshal.loads, the code objects (names, qualnames, first lines, flags).
# The module docstring is what executing the module body assigns to __doc__; whether a
# nested code object is a class or a function comes from the source's AST, not from
# co_flags (the Rust side uses co_flags, so this is an independent check).
# stdin rows: pyc_path (relative to FIXTURE_DIR) TAB status TAB invalidation TAB opt
#             TAB source_path (relative, "-" if none) TAB code_filename_hint
# stdout: one JSON object per row.
import ast
import json
import marshal
import os
import struct
import sys
import types

PY2 = sys.version_info[0] == 2
fixture_dir, label = sys.argv[1], sys.argv[2]

try:
    from importlib.util import MAGIC_NUMBER, source_hash
except ImportError:
    import imp
    MAGIC_NUMBER = imp.get_magic()
    source_hash = None

impl = getattr(sys, "implementation", None)
impl_name = impl.name if impl else "cpython"
cache_tag = impl.cache_tag if impl else None
magic = bytearray(MAGIC_NUMBER)
magic_int = magic[0] | magic[1] << 8
v = sys.version_info
header_size = 16 if v[:2] >= (3, 7) else 12 if v[:2] >= (3, 3) else 8


def text(s):
    if isinstance(s, bytes):
        return s.decode("utf-8", "replace")
    return s


def ast_kinds(source_bytes):
    """(name, line) -> 'class' | 'function' for every def/class in the source."""
    kinds = {}
    if source_bytes is None:
        return kinds
    tree = ast.parse(source_bytes)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            kind = "class"
        elif isinstance(node, ast.FunctionDef) or type(node).__name__ == "AsyncFunctionDef":
            kind = "function"
        else:
            continue
        lines = [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]
        for line in lines:
            kinds[(text(node.name), line)] = kind
    return kinds


COMPREHENSIONS = ("<genexpr>", "<listcomp>", "<setcomp>", "<dictcomp>")


def kind_of(co, kinds, have_source):
    name = text(co.co_name)
    if name == "<lambda>":
        return "lambda"
    if name in COMPREHENSIONS:
        return "comprehension"
    if not have_source:
        return None
    return kinds.get((name, co.co_firstlineno))


def nested(co, kinds, have_source, counter):
    out = []
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            counter[0] += 1
            out.append({
                "co_name": text(c.co_name),
                "co_qualname": getattr(c, "co_qualname", None),
                "co_firstlineno": c.co_firstlineno,
                "co_flags": c.co_flags,
                "kind": kind_of(c, kinds, have_source),
                "children": nested(c, kinds, have_source, counter),
            })
    return out


def module_doc(co, modname):
    ns = {"__name__": modname}
    exec(co, ns)
    doc = ns.get("__doc__")
    return text(doc) if doc is not None else None


def main():
    for line in sys.stdin:
        rel, status, invalidation, opt, src_rel = line.rstrip("\n").split("\t")[:5]
        path = os.path.join(fixture_dir, rel)
        data = open(path, "rb").read()
        assert bytearray(data[:4]) == magic, "%s: magic differs from MAGIC_NUMBER" % rel
        entry = {
            "path": rel,
            "label": label,
            "implementation": impl_name,
            "version": "%d.%d.%d" % v[:3],
            "python": "%d.%d" % v[:2],
            "cache_tag": cache_tag,
            "magic": magic_int,
            "header_size": header_size,
            "flags": None,
            "invalidation": "timestamp",
            "source_mtime": None,
            "source_size": None,
            "source_hash": None,
            "status": status,
            "opt": opt,
            "source": None if src_rel == "-" else src_rel,
        }
        if header_size == 16:
            flags = struct.unpack("<I", data[4:8])[0]
            entry["flags"] = flags
            if flags & 1:
                entry["invalidation"] = "checked-hash" if flags & 2 else "unchecked-hash"
                entry["source_hash"] = "".join("%02x" % b for b in bytearray(data[8:16]))
            else:
                entry["source_mtime"], entry["source_size"] = struct.unpack("<II", data[8:16])
        elif header_size == 12:
            entry["source_mtime"], entry["source_size"] = struct.unpack("<II", data[4:12])
        else:
            entry["source_mtime"] = struct.unpack("<I", data[4:8])[0]
        assert entry["invalidation"] == invalidation, rel
        source_bytes = None
        if entry["source"] is not None:
            source_bytes = open(os.path.join(fixture_dir, entry["source"]), "rb").read()
            if source_hash is not None and entry["source_hash"] and status == "fresh":
                want = "".join("%02x" % b for b in bytearray(source_hash(source_bytes)))
                assert want == entry["source_hash"], rel
        co = marshal.loads(data[header_size:])
        counter = [1]
        have_source = source_bytes is not None and status == "fresh"
        kinds = ast_kinds(source_bytes) if have_source else {}
        modname = os.path.basename(rel).split(".")[0]
        entry["code"] = {
            "co_filename": text(co.co_filename),
            "co_name": text(co.co_name),
            "co_qualname": getattr(co, "co_qualname", None),
            "co_firstlineno": co.co_firstlineno,
            "co_flags": co.co_flags,
            "docstring": module_doc(co, modname),
            "children": nested(co, kinds, have_source, counter),
        }
        entry["code"]["code_objects"] = counter[0]
        sys.stdout.write(json.dumps(entry, sort_keys=True) + "\n")


main()
