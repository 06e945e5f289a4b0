"""Translate a C module's AST (libclang) into Python source: one Python function per C
function, every access through a pointer a call of kmsim's checked memory access.

Values: integers are Python ints kept in their C type's range (signed ones negative),
pointers are ints (addresses), pointers to the kernel's opaque objects (struct page,
struct kmem_cache, mempool_t) are kmsim's objects ("handles"), function pointers are the
Python functions.  Locals whose address is never taken are Python locals; the others,
and every array and struct, live on a simulated kernel stack; globals and statics live
in the module's memory.  Each emitted line carries the C line it came from.
"""
from __future__ import annotations

import keyword
from typing import Any

from .clang import INCLUDE_DIR, binop, evaluate, unop
from .ctypes_ import CT, Unsupported, classify

__all__ = ["Translator", "Unsupported"]

K: Any = None   # clang.cindex.CursorKind, set on first use
RT = "_kc_"     # prefix of the runtime's names in the module namespace
SPECIAL = ("__kmsim_module_init", "__kmsim_module_exit", "__kmsim_modinfo_", "__kmsim_param_",
           "__kmsim_parmdesc_", "__kmsim_export_")
BUILTIN_CALLS = {"__builtin_expect", "__builtin_constant_p", "__builtin_unreachable",
                 "__builtin_trap"}
STR_API = {("printk", 0), ("kmem_cache_create", 0), ("sprintf", 1), ("snprintf", 2),
           ("scnprintf", 2)}


def _kinds():
    global K
    if K is None:
        from clang.cindex import CursorKind
        K = CursorKind
    return K


def _children(c) -> list:
    return list(c.get_children())


def _strip(c):
    """Through parentheses and implicit casts (for looking, not for translating)."""
    k = _kinds()
    while c.kind in (k.PAREN_EXPR, k.UNEXPOSED_EXPR) and len(_children(c)) == 1:
        c = _children(c)[0]
    return c


def c_string(spelling: str) -> bytes:
    """The bytes of a C string literal's spelling (possibly "a" "b" concatenated)."""
    out = bytearray()
    i, s = 0, spelling
    while i < len(s):
        if s[i] != '"':
            i += 1
            continue
        i += 1
        while i < len(s) and s[i] != '"':
            ch = s[i]
            if ch != "\\":
                out += ch.encode("utf-8")
                i += 1
                continue
            i += 1
            e = s[i]
            simple = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11,
                      "\\": 92, "'": 39, '"': 34, "?": 63, "e": 27}
            if e in "01234567":
                j = i
                while j < len(s) and j < i + 3 and s[j] in "01234567":
                    j += 1
                out.append(int(s[i:j], 8) & 0xff)
                i = j
            elif e == "x":
                j = i + 1
                while j < len(s) and s[j] in "0123456789abcdefABCDEF":
                    j += 1
                out.append(int(s[i + 1:j], 16) & 0xff)
                i = j
            else:
                out.append(simple.get(e, ord(e)))
                i += 1
        i += 1
    return bytes(out)


def _initializer(ct: CT, init):
    """The initializer among a declaration's children (an array's size is one too)."""
    if init is None or ct.kind != "array":
        return init
    return init if _strip(init).kind in (K.INIT_LIST_EXPR, K.STRING_LITERAL) else None


class Var:
    """Where a C variable lives: a Python name ('py'), or memory at an address ('mem')."""

    def __init__(self, where: str, name: str, ct: CT, addr: str = ""):
        self.where, self.name, self.ct, self.addr = where, name, ct, addr


class LV:
    """An lvalue: a Python variable, or memory at an address expression."""

    def __init__(self, where: str, ct: CT, name: str = "", addr: str = ""):
        self.where, self.ct, self.name, self.addr = where, ct, name, addr


class Func:
    """Translation state of one C function."""

    def __init__(self, name: str):
        self.name = name
        self.vars: dict = {}          # canonical decl -> Var
        self.used: set[str] = set()
        self.frame = 0
        self.globals: set[str] = set()
        self.tmp = 0
        self.ctx: list = []           # ("loop", continue-code) | ("switch", flag) | ("dispatch",)
        self.labels: dict[str, int] = {}
        self.has_goto = False


class Translator:
    """One translation unit to Python source lines [(indent, text, C line)]."""

    def __init__(self, tu, path: str, display: str, api: set[str], ptr_size: int):
        _kinds()
        self.tu, self.path, self.display, self.api, self.ps = tu, path, display, api, ptr_size
        self.mask = (1 << (8 * ptr_size)) - 1
        self.out: list[tuple[int, str, int]] = []
        self.top_alloc: list[tuple[int, str, int]] = []   # load time: statics and literals placed
        self.top: list[tuple[int, str, int]] = []     # load time: their initializers
        self.globals: dict = {}       # canonical decl -> Var
        self.funcs: dict = {}         # canonical decl -> python name
        self.defined: set = set()
        self.lits: dict[bytes, str] = {}
        self.names: set[str] = set()
        self.meta: list = []          # (kind, values...) in source order
        self.f: Func | None = None
        self.ind = 0
        self.line = 0
        self.warnings: list[str] = []
        self.fn_lines: dict[str, tuple[int, int]] = {}

    # -- output --------------------------------------------------------------------
    def emit(self, text: str, line: int | None = None) -> None:
        """One Python line at the current indentation, mapped to a C line."""
        self.out.append((self.ind, text, line or self.line))

    def emit_top(self, text: str, line: int) -> None:
        """One line of the module's load-time code that places a static or a literal."""
        self.top_alloc.append((0, text, line))

    def err(self, c, msg: str):
        """Stop: an unsupported construct at a cursor."""
        raise Unsupported(c, msg)

    def tmp(self) -> str:
        """A fresh temporary's name."""
        f = self.f
        assert f is not None
        f.tmp += 1
        return f"{RT}t{f.tmp}"

    def pyname(self, name: str) -> str:
        """A Python identifier for a C name (keywords and runtime prefixes avoided)."""
        if keyword.iskeyword(name) or name.startswith(RT) or name in ("None", "True", "False"):
            return name + "_"
        return name

    # -- the translation unit -----------------------------------------------------
    def run(self) -> None:
        """Translate every declaration of the main file."""
        k = K
        decls = [c for c in self.tu.cursor.get_children()
                 if c.location.file is not None and not c.location.file.name.startswith(str(INCLUDE_DIR))]
        for c in decls:          # first the names of functions (calls may come first)
            if c.kind == k.FUNCTION_DECL:
                self.funcs.setdefault(c.canonical, self.pyname(c.spelling))
                if c.is_definition():
                    self.defined.add(c.canonical)
                    self.names.add(c.spelling)
        for c in self.tu.cursor.get_children():      # static inline functions of headers
            if c.kind == k.FUNCTION_DECL and c.is_definition() and c.canonical not in self.defined:
                loc = c.location.file
                if loc is not None and loc.name.startswith(str(INCLUDE_DIR)):
                    self.funcs.setdefault(c.canonical, self.pyname(c.spelling))
                    self.defined.add(c.canonical)
                    decls.insert(0, c)
        for c in decls:
            self.line = c.location.line
            if c.kind == k.VAR_DECL:
                self.global_var(c)
            elif c.kind == k.FUNCTION_DECL and c.is_definition():
                self.function(c)
            elif c.kind in (k.STRUCT_DECL, k.UNION_DECL, k.ENUM_DECL, k.TYPEDEF_DECL,
                            k.FUNCTION_DECL):
                self.check_record(c)
            elif c.kind.name in ("ASM_STMT", "FILE_SCOPE_ASM", "UNEXPOSED_DECL") and \
                    "asm" in " ".join(t.spelling for t in c.get_tokens())[:40]:
                self.err(c, "inline assembly is not supported by kmsim")

    def check_record(self, c) -> None:
        """Bit-fields are refused where they are declared."""
        k = K
        if c.kind in (k.STRUCT_DECL, k.UNION_DECL):
            for f in c.get_children():
                if f.kind == k.FIELD_DECL and f.is_bitfield():
                    self.err(f, "bit-fields are not supported by kmsim")
                elif f.kind in (k.STRUCT_DECL, k.UNION_DECL):
                    self.check_record(f)

    # -- globals --------------------------------------------------------------------
    def global_var(self, c, static_in: str | None = None) -> None:
        """A file-scope or static local variable: module memory, or a metadata record."""
        name = c.spelling
        if name.startswith(SPECIAL):
            self.special(c)
            return
        key = c.canonical
        kids = [x for x in _children(c) if x.kind not in (K.TYPE_REF, K.ANNOTATE_ATTR)
                and not x.kind.is_attribute()]
        init = kids[-1] if kids and kids[-1].kind.is_expression() else None
        ct = classify(c.type, c)
        init = _initializer(ct, init)
        if c.storage_class.name == "EXTERN" and init is None:
            if key not in self.globals:
                self.err(c, f"'{name}' is declared extern but kmsim has no such kernel symbol")
            return
        var = self.globals.get(key)
        if var is None:
            pyn = f"{RT}g_{static_in}_{name}" if static_in else f"{RT}g_{name}"
            while pyn in self.names:
                pyn += "_"
            self.names.add(pyn)
            if ct.kind == "array" and ct.n == 0 and init is not None:
                ct = classify(init.type, init)
            var = Var("mem", name, ct, pyn)
            self.globals[key] = var
            size = max(ct.size, 1)
            section = "rodata" if c.type.is_const_qualified() else "data"
            self.emit_top(f"{pyn} = {RT}static({size}, {ct.align}, {name!r}, {section!r})", c.location.line)
        if init is not None:
            saved_f, self.f = self.f, Func("__static_init")
            saved, self.out = self.out, []
            ind, self.ind = self.ind, 0
            self.init_mem(pyn_addr(var), var.ct, init)
            for _i, text, line in self.out:
                self.top.append((0, text, line))
            self.out, self.f, self.ind = saved, saved_f, ind

    def special(self, c) -> None:
        """The records kmsim's headers make of module_init, MODULE_*, module_param ..."""
        name = c.spelling
        kids = [x for x in _children(c) if x.kind.is_expression()]
        init = kids[-1] if kids else None
        line = c.location.line
        if name in ("__kmsim_module_init", "__kmsim_module_exit"):
            fn = _strip(init) if init is not None else None
            if fn is None or fn.kind != K.DECL_REF_EXPR or fn.referenced.canonical not in self.funcs:
                self.err(c, f"{name[8:]}() needs the name of a function of this file")
            assert fn is not None
            self.meta.append(("call", f"{name[8:]}({self.funcs[fn.referenced.canonical]})", line))
        elif name.startswith(("__kmsim_modinfo_", "__kmsim_parmdesc_")):
            text = c_string(_strip(init).spelling).decode("utf-8", "replace")
            if name.startswith("__kmsim_modinfo_"):
                tag, _, val = text.partition("=")
                fn = {"license": "MODULE_LICENSE", "author": "MODULE_AUTHOR",
                      "description": "MODULE_DESCRIPTION", "version": "MODULE_VERSION",
                      "alias": "MODULE_ALIAS"}.get(tag)
                self.meta.append(("call", f"{fn}({val!r})" if fn else f"MODULE_INFO({tag!r}, {val!r})", line))
            else:
                pname, _, desc = text.partition(":")
                self.meta.append(("call", f"MODULE_PARM_DESC({pname!r}, {desc!r})", line))
        elif name.startswith("__kmsim_param_"):
            fields = _children(_strip(init))
            pname = c_string(_strip(fields[0]).spelling).decode()
            ptype = c_string(_strip(fields[1]).spelling).decode()
            perm = evaluate(fields[2]) or 0
            target = _strip(fields[3])
            if evaluate(fields[5]):
                self.err(c, "module_param_array() is not supported by kmsim yet")
            if target.kind == K.UNARY_OPERATOR:
                target = _strip(_children(target)[0])
            if target.kind != K.DECL_REF_EXPR or target.referenced.canonical not in self.globals:
                self.err(c, "module_param() needs a variable of this file")
            var = self.globals[target.referenced.canonical]
            self.meta.append(("call", f"{RT}param({pname!r}, {ptype!r}, {perm}, {var.addr}, "
                                      f"{var.ct.size}, {int(var.ct.signed)})", line))
        elif name.startswith("__kmsim_export_"):
            fn = _strip(init)
            while fn.kind in (K.UNARY_OPERATOR, K.CSTYLE_CAST_EXPR):
                fn = _strip(_children(fn)[-1])
            if fn.kind == K.DECL_REF_EXPR and fn.referenced.canonical in self.funcs:
                self.meta.append(("call", f"EXPORT_SYMBOL({self.funcs[fn.referenced.canonical]})", line))

    # -- functions --------------------------------------------------------------------
    def function(self, c) -> None:
        """def NAME(params): the body, with a stack frame when a local needs memory."""
        pyn = self.funcs[c.canonical]
        if c.type.kind.name == "FUNCTIONPROTO" and c.type.is_function_variadic():
            self.err(c, "variadic functions (...) defined in a module are not supported by kmsim")
        f = Func(pyn)
        self.f = f
        body = [x for x in _children(c) if x.kind == K.COMPOUND_STMT][0]
        params = [x for x in _children(c) if x.kind == K.PARM_DECL]
        taken = self.address_taken(body)
        f.taken = taken     # type: ignore[attr-defined]  # noted on libclang's cursor
        self.scan_labels(body, f)
        pnames = []
        for i, p in enumerate(params):
            nm = self.local_name(p.spelling or f"arg{i}")
            pnames.append(nm)
            ct = classify(p.type, p)
            if p.canonical in taken or ct.kind in ("record", "array"):
                off = self.slot(ct)
                f.vars[p.canonical] = Var("mem", p.spelling, ct, f"({RT}fp + {off})")
            else:
                f.vars[p.canonical] = Var("py", nm, ct)
        saved, self.out = self.out, []
        base_ind = self.ind
        self.ind = base_ind + 1
        self.line = c.location.line
        for i, p in enumerate(params):
            v = f.vars[p.canonical]
            if v.where == "mem":
                if v.ct.kind == "record":
                    self.emit(f"{RT}CP({v.addr}, {pnames[i]}, {v.ct.size})")
                else:
                    self.emit(self.store_stmt(v.addr, v.ct, pnames[i]))
        self.ctx_body(body)
        body_lines, self.out = self.out, saved
        end = body.extent.end.line
        self.fn_lines[pyn] = (c.location.line, end)
        self.ind = base_ind
        self.emit(f"def {pyn}({', '.join(pnames)}):", c.location.line)
        self.ind += 1
        if f.globals:
            self.emit(f"global {', '.join(sorted(f.globals))}", c.location.line)
        if f.frame:
            frame = (f.frame + 15) & ~15
            self.emit(f"{RT}fp = {RT}enter({frame})", c.location.line)
            self.emit("try:", c.location.line)
            self.out += [(i + 1, t, ln) for i, t, ln in body_lines]
            self.emit("finally:", end)
            self.emit(f"    {RT}S.sp = {RT}fp + {frame}", end)
        else:
            self.out += body_lines
            self.emit("pass", end)
        self.ind -= 1
        self.f = None

    def ctx_body(self, body) -> None:
        """The function body; with goto, a dispatch loop over its labelled segments."""
        f = self.f
        assert f is not None
        if not f.has_goto:
            self.stmt(body)
            return
        self.emit(f"{RT}L = 0")
        self.emit(f"{RT}G = -1")
        self.emit("while True:")
        self.ind += 1
        f.ctx.append(("dispatch",))
        seg = 0
        self.emit(f"if {RT}L <= 0:")
        self.ind += 1
        self.emit("pass")
        for s in _children(body):
            while s.kind == K.LABEL_STMT:
                seg = f.labels[s.spelling]
                self.ind -= 1
                self.line = s.location.line
                self.emit(f"if {RT}L <= {seg}:")
                self.ind += 1
                self.emit("pass")
                kids = _children(s)
                if not kids:
                    break
                s = kids[0]
            if s.kind != K.LABEL_STMT:
                self.stmt(s)
        self.ind -= 1
        self.emit("break")
        f.ctx.pop()
        self.ind -= 1

    def scan_labels(self, body, f: Func) -> None:
        """Labels must sit at the function's top level (goto's dispatch segments)."""
        n = 0
        for s in _children(body):
            while s.kind == K.LABEL_STMT:
                n += 1
                f.labels[s.spelling] = n
                kids = _children(s)
                s = kids[0] if kids else s
                if not kids:
                    break
        for node in body.walk_preorder():
            if node.kind == K.GOTO_STMT:
                f.has_goto = True
            elif node.kind == K.LABEL_STMT and node.spelling not in f.labels:
                self.err(node, f"label '{node.spelling}' inside a block: kmsim supports goto to "
                               f"labels at a function's top level only")
            elif node.kind == K.INDIRECT_GOTO_STMT:
                self.err(node, "computed goto is not supported by kmsim")

    def address_taken(self, body) -> set:
        """Locals whose address is taken (&x): they live on the stack."""
        out = set()
        for node in body.walk_preorder():
            if node.kind == K.UNARY_OPERATOR and unop(node) == "&":
                kids = _children(node)
                if kids:
                    t = _strip(kids[0])
                    if t.kind == K.DECL_REF_EXPR and t.referenced is not None:
                        out.add(t.referenced.canonical)
        return out

    def local_name(self, name: str) -> str:
        """A Python local for a C local: unique in the function, clear of globals."""
        f = self.f
        assert f is not None
        nm = self.pyname(name)
        if nm in self.api or nm in self.names or nm in f.used:
            i = 1
            while f"{nm}_{i}" in f.used:
                i += 1
            nm = f"{nm}_{i}"
        f.used.add(nm)
        return nm

    def slot(self, ct: CT) -> int:
        """Room for a local on the stack frame: its offset from the frame pointer."""
        f = self.f
        assert f is not None
        a = max(1, ct.align)
        off = (f.frame + a - 1) & ~(a - 1)
        f.frame = off + max(ct.size, 1)
        return off

    # -- statements -------------------------------------------------------------------
    def stmt(self, s) -> None:
        """One statement (an error without a place gets the statement's)."""
        try:
            self._stmt(s)
        except Unsupported as e:
            if e.cursor is None:
                e.cursor = s
            raise

    def _stmt(self, s) -> None:  # noqa: C901 - one branch per statement kind
        k = K
        self.line = s.location.line or self.line
        kind = s.kind
        if kind == k.COMPOUND_STMT:
            for x in _children(s):
                self.stmt(x)
        elif kind == k.DECL_STMT:
            for d in _children(s):
                if d.kind == k.VAR_DECL:
                    self.local_var(d)
                elif d.kind in (k.STRUCT_DECL, k.UNION_DECL):
                    self.check_record(d)
        elif kind == k.IF_STMT:
            kids = _children(s)
            self.emit(f"if {self.cond(kids[0])}:")
            self.block(kids[1])
            if len(kids) > 2:
                els = kids[2]
                self.line = els.location.line
                self.emit("else:")
                self.block(els)
        elif kind == k.WHILE_STMT:
            cond, body = _children(s)
            self.loop(f"while {self.cond(cond)}:", body, [])
        elif kind == k.DO_STMT:
            body, cond = _children(s)
            c = self.cond(cond)
            self.loop("while True:", body, [], tail=f"if not ({c}): break", cont_cond=c)
        elif kind == k.FOR_STMT:
            self.for_stmt(s)
        elif kind == k.SWITCH_STMT:
            self.switch(s)
        elif kind == k.BREAK_STMT:
            self.emit("break")
        elif kind == k.CONTINUE_STMT:
            self.do_continue()
        elif kind == k.RETURN_STMT:
            kids = _children(s)
            if kids:
                self.emit(f"return {self.rv(kids[0])}")
            else:
                self.emit("return")
        elif kind == k.GOTO_STMT:
            label = [x for x in _children(s) if x.kind == k.LABEL_REF][0].spelling
            assert self.f is not None
            self.do_goto(self.f.labels[label])
        elif kind == k.LABEL_STMT:
            for x in _children(s):
                self.stmt(x)
        elif kind == k.NULL_STMT:
            pass
        elif kind in (k.CASE_STMT, k.DEFAULT_STMT):
            self.err(s, "a case label outside a switch's own block is not supported by kmsim")
        elif kind in (k.ASM_STMT, k.MS_ASM_STMT):
            self.err(s, "inline assembly is not supported by kmsim")
        elif kind.is_expression():
            self.expr_stmt(s)
        else:
            self.err(s, f"this statement ({kind.name.lower()}) is not supported by kmsim")

    def block(self, s) -> None:
        """An indented block (at least 'pass')."""
        self.ind += 1
        n = len(self.out)
        self.stmt(s)
        if len(self.out) == n:
            self.emit("pass")
        self.ind -= 1

    def loop(self, head: str, body, cont: list[str], tail: str | None = None,
             cont_cond: str | None = None) -> None:
        """A Python while loop; `cont` runs before each continue (a for's increment)."""
        f = self.f
        assert f is not None
        self.emit(head)
        if cont_cond is not None:
            cont = [f"if not ({cont_cond}): break"]
        f.ctx.append(("loop", cont))
        self.ind += 1
        n = len(self.out)
        self.stmt(body)
        for line in cont if tail is None else [tail]:
            self.emit(line)
        if len(self.out) == n:
            self.emit("pass")
        self.ind -= 1
        f.ctx.pop()
        self.after_loop()

    def after_loop(self) -> None:
        """In a function with goto, a goto out of a loop breaks out level by level."""
        f = self.f
        if f is None or not f.has_goto:
            return
        self.emit(f"if {RT}G >= 0:")
        self.ind += 1
        outer = f.ctx[-1] if f.ctx else ("dispatch",)
        if outer[0] == "dispatch":
            self.emit(f"{RT}L = {RT}G")
            self.emit(f"{RT}G = -1")
            self.emit("continue")
        else:
            self.emit("break")
        self.ind -= 1

    def do_goto(self, seg: int) -> None:
        """goto: set the segment and go back to the dispatch loop."""
        f = self.f
        assert f is not None
        if f.ctx and f.ctx[-1][0] == "dispatch":
            self.emit(f"{RT}L = {seg}")
            self.emit("continue")
        else:
            self.emit(f"{RT}G = {seg}")
            self.emit("break")

    def do_continue(self) -> None:
        """continue: the increment first; out of a switch, through its flag."""
        f = self.f
        assert f is not None
        for c in reversed(f.ctx):
            if c[0] == "loop":
                break
        else:
            return
        if f.ctx[-1][0] == "switch":
            self.emit(f"{f.ctx[-1][1]} = 1")
            self.emit("break")
            return
        for line in f.ctx[-1][1]:
            self.emit(line)
        self.emit("continue")

    def for_stmt(self, s) -> None:
        """for (init; cond; inc) body -> init; while cond: body; inc."""
        kids = _children(s)
        body = kids[-1]
        parts = self.for_parts(s, kids[:-1])
        init, cond, inc = parts
        if init is not None:
            if init.kind == K.DECL_STMT:
                self.stmt(init)
            else:
                self.expr_stmt(init)
        inc_lines: list[str] = []
        if inc is not None:
            saved, self.out = self.out, []
            ind, self.ind = self.ind, 0
            self.expr_stmt(inc)
            inc_lines = [t for _i, t, _ln in self.out]
            self.out, self.ind = saved, ind
        head = f"while {self.cond(cond)}:" if cond is not None else "while True:"
        self.loop(head, body, inc_lines)

    def for_parts(self, s, parts: list) -> tuple:
        """Which of a for's three parts are present (libclang lists only those)."""
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if not parts:
            return None, None, None
        toks = [t for t in s.get_tokens()]
        if toks and toks[0].spelling == "for":
            depth, semis = 0, []
            for t in toks[1:]:
                if t.spelling == "(":
                    depth += 1
                elif t.spelling == ")":
                    depth -= 1
                    if depth == 0:
                        break
                elif t.spelling == ";" and depth == 1:
                    semis.append(t.extent.start.offset)
            if len(semis) == 2:
                out = [None, None, None]
                for p in parts:
                    off = p.extent.start.offset
                    out[0 if off < semis[0] else 1 if off < semis[1] else 2] = p
                return out[0], out[1], out[2]
        if len(parts) == 2:       # a macro's for: (cond; inc) as list_for_each_entry_from
            if parts[0].kind == K.DECL_STMT:
                return parts[0], parts[1], None
            return None, parts[0], parts[1]
        return None, parts[0], None

    def switch(self, s) -> None:
        """switch: a one-shot loop whose segments run from the matching label on."""
        f = self.f
        assert f is not None
        cond, body = _children(s)
        v = self.tmp()
        flag = self.tmp()
        self.emit(f"{v} = {self.rv(cond)}")
        self.emit(f"{flag} = 0")
        stmts = _children(body) if body.kind == K.COMPOUND_STMT else [body]
        segs: list = []         # [(labels, statements)]
        labels: list
        for st in stmts:
            labels = []
            while st.kind in (K.CASE_STMT, K.DEFAULT_STMT):
                kids = _children(st)
                if st.kind == K.CASE_STMT:
                    if len(kids) > 2:
                        self.err(st, "case ranges (a ... b) are not supported by kmsim")
                    val = evaluate(kids[0])
                    if val is None:
                        self.err(st, "a case label must be an integer constant")
                    labels.append(val)
                else:
                    labels.append("default")
                st = kids[-1]
            if labels:
                segs.append((labels, [st]))
            elif segs:
                segs[-1][1].append(st)
            else:
                segs.append(([], [st]))
        sel = self.tmp()
        cases = [(lab, i) for i, (labs, _s) in enumerate(segs) for lab in labs if lab != "default"]
        default = next((i for i, (labs, _s) in enumerate(segs) if "default" in labs), len(segs))
        if cases:
            expr = " else ".join(f"{i} if {v} == {val}" for val, i in cases) + f" else {default}"
        else:
            expr = str(default)
        self.emit(f"{sel} = {expr}")
        self.emit("while True:")
        f.ctx.append(("switch", flag))
        self.ind += 1
        for i, (_labs, sts) in enumerate(segs):
            self.emit(f"if {sel} <= {i}:")
            self.ind += 1
            n = len(self.out)
            for st in sts:
                self.stmt(st)
            if len(self.out) == n:
                self.emit("pass")
            self.ind -= 1
        self.emit("break")
        self.ind -= 1
        f.ctx.pop()
        self.after_loop()
        if any(c[0] == "loop" for c in f.ctx):
            self.emit(f"if {flag}:")
            self.ind += 1
            self.do_continue()
            self.ind -= 1

    def local_var(self, d) -> None:
        """A local variable: a Python local, a stack slot, or (static) module memory."""
        f = self.f
        assert f is not None
        if d.storage_class.name == "STATIC":
            self.global_var(d, static_in=f.name)
            return
        if d.storage_class.name == "EXTERN":
            self.err(d, "extern declarations inside a function are not supported by kmsim")
        ct = classify(d.type, d)
        kids = [x for x in _children(d) if x.kind.is_expression()]
        init = _initializer(ct, kids[-1] if kids else None)
        if ct.kind == "array" and ct.n == 0 and init is not None:
            ct = classify(init.type, init)
        if ct.kind == "array" and d.type.get_canonical().kind.name == "VARIABLE_ARRAY":
            self.err(d, "variable-length arrays are not supported by kmsim")
        if ct.kind in ("array", "record") or d.canonical in self.address_taken_cache():
            off = self.slot(ct)
            var = Var("mem", d.spelling, ct, f"({RT}fp + {off})")
            f.vars[d.canonical] = var
            if init is not None:
                self.init_mem(var.addr, ct, init)
            return
        nm = self.local_name(d.spelling)
        f.vars[d.canonical] = Var("py", nm, ct)
        if init is not None:
            if init.kind == K.INIT_LIST_EXPR:
                kids = _children(init)
                init = kids[0] if kids else None
            self.emit(f"{nm} = {self.rv(init) if init is not None else self.zero(ct)}")
        else:
            self.emit(f"{nm} = {self.zero(ct)}")

    def address_taken_cache(self) -> set:
        """The current function's address-taken locals (computed once)."""
        f = self.f
        assert f is not None
        got = getattr(f, "taken", None)
        if got is None:
            got = set()
            f.taken = got   # type: ignore[attr-defined]  # noted on libclang's cursor
        return got

    def zero(self, ct: CT) -> str:
        """The value of a zeroed scalar of a type."""
        return "None" if ct.kind in ("handle", "fptr") else "0"

    def init_mem(self, addr: str, ct: CT, init) -> None:
        """Initialise an object in memory from an initializer expression."""
        if init.kind == K.INIT_LIST_EXPR:
            self.emit(f"{RT}fill({addr}, 0, {ct.size})")
            self.init_list(addr, ct, init)
            return
        s = _strip(init)
        if ct.kind == "array" and s.kind == K.STRING_LITERAL:
            data = c_string(s.spelling)[:ct.size]
            data += b"\0" * (ct.size - len(data))
            self.emit(f"{RT}W({addr}, {data!r})")
            return
        if ct.kind == "record":
            self.emit(f"{RT}CP({addr}, {self.rv(init)}, {ct.size})")
            return
        self.emit(self.store_stmt(addr, ct, self.rv(init)))

    def init_list(self, addr: str, ct: CT, init) -> None:
        """{ ... } for an array or a struct, designated initialisers included."""
        kids = _children(init)
        if ct.kind == "array":
            el = ct.pointee
            assert el is not None
            pos = 0
            for x in kids:
                des, x = self.designator(x)
                if des is not None:
                    v = evaluate(des)
                    if v is None:
                        self.err(des, "an array designator must be an integer constant")
                    pos = v or 0
                if not (x.kind == K.UNEXPOSED_EXPR and not _children(x)):   # an implicit zero
                    self.init_mem(f"({addr} + {pos * el.size})", el, x)
                pos += 1
            return
        if ct.kind == "record":
            rec = ct.clang
            fields = list(rec.get_fields())
            pos = 0
            for x in kids:
                des, x = self.designator(x)
                if des is not None:
                    names = [f.spelling for f in fields]
                    if des.spelling not in names:
                        self.err(des, "this designator is not supported by kmsim")
                    pos = names.index(des.spelling)
                if pos >= len(fields):
                    break
                fld = fields[pos]
                if not (x.kind == K.UNEXPOSED_EXPR and not _children(x)):
                    off = rec.get_offset(fld.spelling) // 8
                    self.init_mem(f"({addr} + {off})", classify(fld.type, fld), x)
                pos += 1
                if rec.get_declaration().kind == K.UNION_DECL:
                    break
            return
        if kids:
            self.init_mem(addr, ct, kids[0])

    def designator(self, x):
        """(designator cursor or None, value) of one initializer (.f = v, [i] = v)."""
        if x.kind == K.UNEXPOSED_EXPR and x.type.kind.name == "VOID":
            kids = _children(x)
            if len(kids) > 2:
                self.err(x, "nested designators (.a.b = ...) are not supported by kmsim")
            if len(kids) == 2:
                return kids[0], kids[1]
        return None, x

    # -- expression statements ---------------------------------------------------
    def expr_stmt(self, e) -> None:
        """An expression evaluated for its effect, as plain Python statements."""
        k = K
        while e.kind == k.PAREN_EXPR or (e.kind == k.CSTYLE_CAST_EXPR and e.type.kind.name == "VOID"):
            e = _children(e)[-1]
        if e.kind == k.BINARY_OPERATOR:
            op = binop(e)
            a, b = _children(e)
            if op == "=":
                self.emit(self.assign_stmt(a, b))
                return
            if op == ",":
                self.expr_stmt(a)
                self.expr_stmt(b)
                return
        if e.kind == k.COMPOUND_ASSIGNMENT_OPERATOR:
            a, b = _children(e)
            self.emit(self.compound_stmt(a, binop(e)[:-1], b))
            return
        if e.kind == k.UNARY_OPERATOR and unop(e) in ("++", "--", "post++", "post--"):
            a = _children(e)[0]
            self.emit(self.compound_stmt(a, "+" if "++" in unop(e) else "-", None))
            return
        self.emit(self.rv(e))

    def compound_literal(self, c) -> tuple[CT, str]:
        """A compound literal's type and address: a stack slot initialised in place."""
        ct = classify(c.type, c)
        addr = f"({RT}fp + {self.slot(ct)})"
        init = [x for x in _children(c) if x.kind.is_expression()][-1]
        self.init_mem(addr, ct, init)
        return ct, addr

    def assign_stmt(self, a, b) -> str:
        """lhs = rhs as a statement."""
        return self.assignment(a, b, as_expr=False)

    def assignment(self, a, b, as_expr: bool) -> str:
        """lhs = rhs: a statement, or an expression whose value is rhs (C's a = b inside one)."""
        lv = self.lv(a)
        val = self.rv(b)
        if lv.where == "py":
            return f"({lv.name} := {val})" if as_expr else f"{lv.name} = {val}"
        if lv.ct.kind == "record":
            return f"{RT}CP({lv.addr}, {val}, {lv.ct.size})"
        if not as_expr:
            return self.store_stmt(lv.addr, lv.ct, val)
        t = self.tmp()
        return f"(({t} := {val}), {self.store_stmt(lv.addr, lv.ct, t)}, {t})[2]"

    def compound_stmt(self, a, op: str, b) -> str:
        """lhs op= rhs (and ++/--) as a statement."""
        lv = self.lv(a)
        if lv.where == "py":
            return f"{lv.name} = {self.combine(lv.name, lv.ct, op, b, a)}"
        if self.pure(a):
            cur = self.load(lv.addr, lv.ct)
            return self.store_stmt(lv.addr, lv.ct, self.combine(cur, lv.ct, op, b, a))
        t = self.tmp()
        cur = self.load(t, lv.ct)
        return f"{t} = {lv.addr}; " + self.store_stmt(t, lv.ct, self.combine(cur, lv.ct, op, b, a))

    def combine(self, cur: str, ct: CT, op: str, b, a) -> str:
        """The new value of `cur op b` converted to the lvalue's type (b None: 1)."""
        if ct.kind == "ptr":
            step = f"({self.rv(b)}) * {ct.esize}" if b is not None else str(ct.esize)
            return f"(({cur} {op} {step}) & {self.mask})"
        if ct.kind not in ("int", "bool"):
            self.err(a, "this compound assignment is not supported by kmsim")
        rhs = self.rv(b) if b is not None else "1"
        bt = classify(b.type, b) if b is not None else ct
        if op in ("/", "%", ">>"):
            common = self.common(ct, bt) if op != ">>" else self.promote(ct)
            lhs = self.convert(cur, ct, common)
            if op != ">>":
                rhs = self.convert(rhs, bt, common)
            val = self.arith(op, lhs, rhs, common)
        else:
            val = f"({cur} {op} {rhs})"
        return self.convert(val, CT("int", 16, True), ct)

    def promote(self, ct: CT) -> CT:
        """Integer promotion: anything narrower than int becomes int."""
        if ct.kind in ("int", "bool") and ct.size < 4:
            return CT("int", 4, True, 4)
        return ct

    def common(self, a: CT, b: CT) -> CT:
        """The usual arithmetic conversions of two integer types."""
        a, b = self.promote(a), self.promote(b)
        if a.signed == b.signed:
            return a if a.size >= b.size else b
        u, s = (a, b) if not a.signed else (b, a)
        return u if u.size >= s.size else s

    def pure(self, c) -> bool:
        """No side effects: the expression can be evaluated twice."""
        for n in c.walk_preorder():
            if n.kind in (K.CALL_EXPR, K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR) and \
                    (n.kind == K.CALL_EXPR or binop(n).endswith("=") and
                     binop(n) not in ("==", "!=", "<=", ">=")):
                return False
            if n.kind == K.UNARY_OPERATOR and unop(n) in ("++", "--", "post++", "post--"):
                return False
        return True

    # -- memory -------------------------------------------------------------------------
    def load(self, addr: str, ct: CT) -> str:
        """Read a value of a type at an address (aggregates: their address)."""
        if ct.kind in ("array", "record", "func"):
            return addr
        if ct.kind == "int":
            return f"{RT}RI({addr}, {ct.size}, {int(ct.signed)})"
        if ct.kind == "bool":
            return f"{RT}RI({addr}, 1, 0)"
        if ct.kind == "ptr":
            return f"{RT}RI({addr}, {ct.size}, 0)"
        if ct.kind == "handle":
            return f"{RT}i2h({RT}RI({addr}, {ct.size}, 0))"
        if ct.kind == "fptr":
            return f"{RT}i2f({RT}RI({addr}, {ct.size}, 0))"
        raise Unsupported(None, f"cannot read a {ct.name}")

    def store_stmt(self, addr: str, ct: CT, val: str) -> str:
        """Write a value of a type at an address."""
        if ct.kind in ("int", "bool") or ct.kind == "ptr" and ct.pointee is not None and \
                ct.pointee.kind != "void":
            return f"{RT}WI({addr}, {ct.size}, {val})"
        if ct.kind in ("ptr", "handle", "fptr"):
            return f"{RT}WP({addr}, {val})"
        if ct.kind == "record":
            return f"{RT}CP({addr}, {val}, {ct.size})"
        raise Unsupported(None, f"cannot assign a {ct.name}")

    # -- expressions ---------------------------------------------------------------------
    def cond(self, c) -> str:
        """A condition as a Python boolean expression."""
        k = K
        while c.kind == k.PAREN_EXPR:
            c = _children(c)[0]
        s = c
        if s.kind == k.UNEXPOSED_EXPR and len(_children(s)) == 1:
            inner = _children(s)[0]
            if classify(inner.type, inner).kind in ("int", "bool", "ptr", "handle", "fptr"):
                return self.cond(inner) if inner.kind in (k.BINARY_OPERATOR, k.UNARY_OPERATOR, k.PAREN_EXPR) \
                    else self.rv(inner)
        if s.kind == k.BINARY_OPERATOR:
            op = binop(s)
            a, b = _children(s)
            if op in ("<", ">", "<=", ">=", "==", "!="):
                return f"({self.rv(a)} {op} {self.rv(b)})"
            if op == "&&":
                return f"({self.cond(a)} and {self.cond(b)})"
            if op == "||":
                return f"({self.cond(a)} or {self.cond(b)})"
        if s.kind == k.UNARY_OPERATOR and unop(s) == "!":
            return f"(not {self.cond(_children(s)[0])})"
        if s.kind == k.CALL_EXPR and s.spelling == "__builtin_expect":
            return self.cond(_children(s)[1])
        return self.rv(s)

    def wrap(self, val: str, ct: CT) -> str:
        """Reduce an exact value to a type's range (C's conversion)."""
        if ct.kind == "bool":
            return f"(1 if {val} else 0)"
        if ct.kind == "ptr":
            return f"(({val}) & {self.mask})"
        if ct.kind != "int":
            return val
        bits = ct.size * 8
        m = (1 << bits) - 1
        try:
            v = int(val.replace("(", "").replace(")", "").replace(" ", ""))
        except ValueError:
            v = None
        if v is not None:          # a constant: converted now
            v &= m
            if ct.signed and v >> (bits - 1):
                v -= 1 << bits
            return str(v) if v >= 0 else f"({v})"
        if not ct.signed:
            return f"(({val}) & {m:#x})"
        h = 1 << (bits - 1)
        return f"(((({val}) + {h:#x}) & {m:#x}) - {h:#x})"

    def convert(self, val: str, src: CT, dst: CT, c=None) -> str:  # noqa: C901 - C's conversion table
        """C's conversion of a value from one type to another."""
        if dst.kind == "void":
            return val
        if dst.kind == "bool":
            return val if src.kind == "bool" else f"(1 if {val} else 0)"
        sk, dk = src.kind, dst.kind
        if dk == "int":
            if sk in ("int", "bool"):
                if sk == "bool" or (src.signed == dst.signed and dst.size >= src.size) or \
                        (not src.signed and dst.signed and dst.size > src.size):
                    return val
                return self.wrap(val, dst)
            if sk in ("handle", "fptr") or sk == "ptr" and (src.pointee is None or
                                                            src.pointee.kind == "void"):
                v = f"{RT}h2i({val})"
                return v if dst.size >= src.size and not dst.signed else self.wrap(v, dst)
            if sk == "ptr":
                return val if dst.size >= src.size and not dst.signed else self.wrap(val, dst)
            return val
        if dk == "ptr":
            if sk in ("int", "bool"):
                if val.strip("() ") == "0":
                    return "0"
                return self.wrap(val, dst)
            if sk == "handle":
                return val if dst.pointee is None or dst.pointee.kind == "void" else f"{RT}h2i({val})"
            if sk == "fptr":
                return val if dst.pointee is None or dst.pointee.kind == "void" else f"{RT}h2i({val})"
            return val
        if dk == "handle":
            if sk in ("int", "bool"):
                return "None" if val.strip("() ") == "0" else f"{RT}i2h({val})"
            if sk == "ptr":
                return f"{RT}i2h({val})"
            return val
        if dk == "fptr":
            if sk in ("int", "bool", "ptr"):
                return "None" if val.strip("() ") == "0" else f"{RT}i2f({val})"
            return val
        return val

    def rv(self, c) -> str:  # noqa: C901 - one branch per expression kind
        """The value of an expression, in its type's representation."""
        k = K
        kind = c.kind
        if kind == k.PAREN_EXPR:
            return self.rv(_children(c)[0])
        if kind in (k.INTEGER_LITERAL, k.CHARACTER_LITERAL):
            v = evaluate(c)
            if v is None:
                self.err(c, "cannot evaluate this constant")
                return ""
            return str(v) if v >= 0 else f"({v})"
        if kind == k.UNEXPOSED_EXPR or kind == k.CSTYLE_CAST_EXPR:
            kids = [x for x in _children(c) if x.kind != k.TYPE_REF and x.kind.is_expression()]
            if not kids:          # offsetof(struct t, m) (a constant), or an implicit zero
                v = evaluate(c) if c.type.get_canonical().kind.name not in ("POINTER", "RECORD") else None
                return (str(v) if v >= 0 else f"({v})") if v is not None else self.zero(classify(c.type, c))
            if kind == k.UNEXPOSED_EXPR and \
                    c.type.get_canonical().kind.name in ("ULONG", "UINT", "ULONGLONG") \
                    and kids[-1].type.get_canonical().kind.name in ("POINTER", "RECORD", "CONSTANTARRAY"):
                v = evaluate(c)             # __builtin_offsetof(type, member)
                if v is not None:
                    return str(v)
            return self.cast(c, kids[-1])
        if kind == k.DECL_REF_EXPR:
            return self.ref(c)
        if kind in (k.MEMBER_REF_EXPR, k.ARRAY_SUBSCRIPT_EXPR):
            lv = self.lv(c)
            if lv.where == "attr":
                return lv.name
            return self.load(lv.addr, lv.ct)
        if kind == k.UNARY_OPERATOR:
            return self.unary(c)
        if kind in (k.BINARY_OPERATOR, k.COMPOUND_ASSIGNMENT_OPERATOR):
            return self.binary(c)
        if kind == k.CONDITIONAL_OPERATOR:
            kids = _children(c)
            if len(kids) == 2:         # GNU a ?: b
                t = self.tmp()
                return f"(({t} := {self.rv(kids[0])}) if {t} else {self.rv(kids[1])})"
            return f"({self.rv(kids[1])} if {self.cond(kids[0])} else {self.rv(kids[2])})"
        if kind == k.CALL_EXPR:
            return self.call(c)
        if kind == k.STRING_LITERAL:
            return self.literal(c)
        if kind == k.COMPOUND_LITERAL_EXPR:
            ct, addr = self.compound_literal(c)
            return self.load(addr, ct)
        if kind == k.StmtExpr:
            self.err(c, "statement expressions ({ ... }) are not supported by kmsim")
        if kind in (k.ASM_STMT,):
            self.err(c, "inline assembly is not supported by kmsim")
        v = evaluate(c)
        if v is not None:
            return str(v) if v >= 0 else f"({v})"
        self.err(c, f"this expression ({kind.name.lower()}) is not supported by kmsim")
        return ""

    def literal(self, c) -> str:
        """A string literal's address in the module's .rodata."""
        data = c_string(c.spelling) + b"\0"
        name = self.lits.get(data)
        if name is None:
            name = f"{RT}s{len(self.lits)}"
            self.lits[data] = name
            self.emit_top(f"{name} = {RT}rodata({data!r})", c.location.line)
        return name

    def cast(self, c, inner) -> str:
        """An implicit or explicit conversion (array decay, lvalue loads, integer widths)."""
        dst = classify(c.type, c)
        st = inner.type.get_canonical().kind.name
        if st in ("CONSTANTARRAY", "INCOMPLETEARRAY") and dst.kind in ("ptr", "handle", "fptr", "int"):
            s = _strip(inner)
            if s.kind == K.STRING_LITERAL:
                return self.literal(s)
            lv = self.lv(inner)
            return lv.addr
        if st in ("FUNCTIONPROTO", "FUNCTIONNOPROTO"):
            return self.rv(inner)
        src = classify(inner.type, inner)
        if dst.kind == "void":
            return self.rv(inner)
        return self.convert(self.rv(inner), src, dst, c)

    def ref(self, c) -> str:
        """A variable, an enumerator or a function named in an expression."""
        d = c.referenced
        if d is None:
            self.err(c, f"'{c.spelling}' is undeclared")
        if d.kind == K.ENUM_CONSTANT_DECL:
            return str(d.enum_value)
        if d.kind == K.FUNCTION_DECL:
            return self.func_name(c, d)
        if d.spelling == "jiffies" and d.storage_class.name == "EXTERN":
            return f"{RT}jiffies()"           # the kernel's volatile jiffies, read each time
        var = self.lookup(c, d)
        if var.where == "py":
            return var.name
        return self.load(pyn_addr(var), var.ct)

    def lookup(self, c, d) -> Var:
        """The Var of a declaration."""
        if d.spelling == "__this_module":
            return Var("py", "THIS_MODULE", classify(d.type, d))
        key = d.canonical
        f = self.f
        if f is not None and key in f.vars:
            return f.vars[key]
        if key in self.globals:
            return self.globals[key]
        self.err(c, f"'{d.spelling}' is not a variable kmsim can reach (an extern kernel variable?)")
        raise AssertionError

    def func_name(self, c, d) -> str:
        """The Python callable of a C function: this file's, or kmsim's API."""
        key = d.canonical
        if key in self.defined:
            return self.funcs[key]
        name = d.spelling
        short = name[8:] if name.startswith("__kmsim_") else name
        if short in self.api:
            return short
        if f"{RT}{short}" in RUNTIME_CALLS:
            return f"{RT}{short}"
        loc = d.location.file
        if loc is not None and loc.name.startswith(str(INCLUDE_DIR)):
            self.err(c, f"'{name}' is declared by kmsim's headers but not simulated yet")
        self.err(c, f"modpost: \"{name}\" undefined! (no such kernel function, and this file "
                    f"does not define it)")
        return ""

    def lv(self, c) -> LV:  # noqa: C901 - one branch per lvalue kind
        """An lvalue: where an expression designates."""
        k = K
        kind = c.kind
        if kind == k.PAREN_EXPR:
            return self.lv(_children(c)[0])
        if kind == k.UNEXPOSED_EXPR and len(_children(c)) == 1:
            return self.lv(_children(c)[0])
        if kind == k.DECL_REF_EXPR:
            d = c.referenced
            if d is not None and d.kind == K.FUNCTION_DECL:
                return LV("func", classify(d.type, d), name=self.func_name(c, d))
            var = self.lookup(c, d)
            if var.where == "py":
                return LV("py", var.ct, name=var.name)
            return LV("mem", var.ct, addr=pyn_addr(var))
        if kind == k.MEMBER_REF_EXPR:
            base = _children(c)[0]
            bt = base.type.get_canonical()
            fld = c.referenced
            if fld is not None and fld.kind == K.FIELD_DECL and fld.is_bitfield():
                self.err(c, "bit-fields are not supported by kmsim")
            if bt.kind.name == "POINTER":
                rec = bt.get_pointee().get_canonical()
                if classify(bt, base).kind == "handle":      # mempool_t's curr_nr, a zone's name
                    return LV("attr", classify(c.type, c), name=f"{self.rv(base)}.{c.spelling}")
                addr = self.rv(base)
            else:
                rec = bt
                addr = self.lv(base).addr
            off = rec.get_offset(c.spelling)
            if off < 0:
                off = self.anon_offset(rec, c.spelling)
            ct = classify(c.type, c)
            return LV("mem", ct, addr=f"({addr} + {off // 8})" if off else addr)
        if kind == k.ARRAY_SUBSCRIPT_EXPR:
            base, idx = _children(c)
            ct = classify(c.type, c)
            bt = classify(base.type, base)
            if bt.kind not in ("ptr", "array"):
                base, idx = idx, base
            size = ct.size if ct.size > 0 else 1
            i = _strip(idx)
            iv = evaluate(i) if i.kind == K.INTEGER_LITERAL else None
            b = self.rv(base)
            if iv is not None:
                return LV("mem", ct, addr=f"({b} + {iv * size})" if iv else b)
            return LV("mem", ct, addr=f"({b} + ({self.rv(idx)}) * {size})")
        if kind == k.UNARY_OPERATOR and unop(c) == "*":
            inner = _children(c)[0]
            ct = classify(c.type, c)
            if ct.kind == "func":
                return LV("func", ct, name=self.rv(inner))
            return LV("mem", ct, addr=self.rv(inner))
        if kind == k.COMPOUND_LITERAL_EXPR:
            ct, addr = self.compound_literal(c)
            return LV("mem", ct, addr=addr)
        if kind == k.STRING_LITERAL:
            return LV("mem", classify(c.type, c), addr=self.literal(c))
        if kind == k.CALL_EXPR and classify(c.type, c).kind == "record":
            return LV("mem", classify(c.type, c), addr=self.call(c))
        self.err(c, "this expression is not an lvalue kmsim can translate")
        raise AssertionError

    def anon_offset(self, rec, name: str) -> int:
        """The offset of a member of an anonymous struct or union member."""
        for f in rec.get_fields():
            if f.is_anonymous():
                sub = f.type.get_canonical()
                o = sub.get_offset(name)
                if o >= 0:
                    return rec.get_offset(f.spelling) + o if f.spelling else o
        return 0

    def unary(self, c) -> str:
        """Unary operators."""
        op = unop(c)
        kids = _children(c)
        if not kids:
            v = evaluate(c)
            return str(v)
        a = kids[0]
        ct = classify(c.type, c)
        if op == "&":
            lv = self.lv(a)
            if lv.where == "func" or lv.name == "THIS_MODULE":
                return lv.name
            if lv.where != "mem":
                self.err(c, "cannot take the address of this")
            return lv.addr
        if op == "*":
            lv = self.lv(c)
            if lv.where == "func":
                return lv.name
            return self.load(lv.addr, lv.ct)
        if op in ("+", "__extension__"):
            return self.rv(a)
        if op == "-":
            return self.wrap(f"-{self.rv(a)}", ct)
        if op == "~":
            return self.wrap(f"~{self.rv(a)}", ct)
        if op == "!":
            return f"(0 if {self.cond(a)} else 1)"
        if op in ("++", "--", "post++", "post--"):
            return self.incdec(c, a, op)
        v = evaluate(c)
        if v is not None:
            return str(v)
        self.err(c, f"the operator {op} is not supported by kmsim")
        return ""

    def incdec(self, c, a, op: str) -> str:
        """++x, x++ ... inside an expression: the value, with the store as a side effect."""
        lv = self.lv(a)
        sign = "+" if "++" in op else "-"
        post = op.startswith("post")
        if lv.where == "py":
            new = self.combine(lv.name, lv.ct, sign, None, a)
            if not post:
                return f"({lv.name} := {new})"
            t = self.tmp()
            return f"(({t} := {lv.name}), ({lv.name} := {self.combine(t, lv.ct, sign, None, a)}))[0]"
        t = self.tmp()
        cur = self.tmp()
        new = self.combine(cur, lv.ct, sign, None, a)
        store = self.store_stmt(t, lv.ct, new)
        return (f"(({t} := {lv.addr}), ({cur} := {self.load(t, lv.ct)}), {store}, "
                f"{self.load(t, lv.ct)})[{1 if post else 3}]")

    def arith(self, op: str, a: str, b: str, ct: CT) -> str:
        """a op b for integers of type ct (already converted to it)."""
        if op in ("+", "-", "*", "<<"):
            return self.wrap(f"{a} {op} {b}", ct)
        if op == "/":
            return f"{RT}DIV({a}, {b})" if ct.signed else f"({a} // {b})"
        if op == "%":
            return f"{RT}MOD({a}, {b})" if ct.signed else f"({a} % {b})"
        if op in ("&", "|", "^", ">>"):
            return f"({a} {op} {b})"
        raise Unsupported(None, f"operator {op}")

    def binary(self, c) -> str:
        """Binary operators, assignments inside expressions, pointer arithmetic."""
        op = binop(c)
        a, b = _children(c)
        ct = classify(c.type, c)
        if op == "=":
            return self.assignment(a, b, as_expr=True)
        if c.kind == K.COMPOUND_ASSIGNMENT_OPERATOR:
            lv = self.lv(a)
            if lv.where == "py":
                return f"({lv.name} := {self.combine(lv.name, lv.ct, op[:-1], b, a)})"
            t, v = self.tmp(), self.tmp()
            new = self.combine(self.load(t, lv.ct), lv.ct, op[:-1], b, a)
            return f"(({t} := {lv.addr}), ({v} := {new}), {self.store_stmt(t, lv.ct, v)}, {v})[3]"
        if op == ",":
            return f"({self.rv(a)}, {self.rv(b)})[1]"
        if op in ("&&", "||", "<", ">", "<=", ">=", "==", "!="):
            return f"(1 if {self.cond(c)} else 0)"
        at, bt = classify(a.type, a), classify(b.type, b)
        if at.kind == "ptr" and bt.kind == "ptr" and op == "-":
            return f"(({self.rv(a)} - {self.rv(b)}) // {at.esize})"
        if at.kind == "ptr" and op in ("+", "-"):
            return f"(({self.rv(a)} {op} ({self.rv(b)}) * {at.esize}) & {self.mask})"
        if bt.kind == "ptr" and op == "+":
            return f"((({self.rv(a)}) * {bt.esize} + {self.rv(b)}) & {self.mask})"
        if ct.kind not in ("int", "bool"):
            self.err(c, f"the operator {op} on {ct.name} is not supported by kmsim")
        return self.arith(op, self.rv(a), self.rv(b), ct)

    def call(self, c) -> str:
        """A call: this file's function, kmsim's API, a builtin, or a function pointer."""
        kids = _children(c)
        callee, args = kids[0], kids[1:]
        s = _strip(callee)
        name = None
        decl = None
        if s.kind == K.DECL_REF_EXPR and s.referenced is not None and s.referenced.kind == K.FUNCTION_DECL:
            decl = s.referenced
            name = decl.spelling
        if name in BUILTIN_CALLS:
            if name == "__builtin_expect":
                return self.rv(args[0])
            if name == "__builtin_constant_p":
                return "0"
            return f"{RT}bug(0, 0)"
        if name is not None and name.startswith("__builtin_"):
            v = evaluate(c)
            if v is not None:
                return str(v)
            self.err(c, f"the builtin {name}() is not supported by kmsim")
        fn = self.func_name(s, decl) if decl is not None else self.rv(callee)
        api = decl is not None and decl.canonical not in self.defined
        out = []
        for i, arg in enumerate(args):
            if api:
                lit = _strip(arg)
                if lit.kind == K.STRING_LITERAL and (self.str_param(decl, i) or (name, i) in STR_API):
                    out.append(repr(c_string(lit.spelling).decode("latin-1")))
                    continue
                if (name, i) in STR_API:
                    out.append(f"{RT}cstr({self.rv(arg)})")
                    continue
            out.append(self.rv(arg))
        fmt_i = {"printk": 0, "sprintf": 1, "snprintf": 2, "scnprintf": 2}.get(name or "")
        if fmt_i is not None and api and fmt_i < len(args):
            lit = _strip(args[fmt_i])
            if lit.kind == K.STRING_LITERAL:      # %pa takes a pointer to the phys_addr_t
                for j in pa_args(c_string(lit.spelling).decode("latin-1")):
                    if fmt_i + 1 + j < len(out):
                        out[fmt_i + 1 + j] = f"{RT}RI({out[fmt_i + 1 + j]}, {self.ps}, 0)"
        return f"{fn}({', '.join(out)})"

    def str_param(self, decl, i: int) -> bool:
        """A `const char *` parameter of an API function: a literal goes as a Python str."""
        try:
            args = list(decl.type.argument_types())
        except Exception:
            return False
        if i >= len(args):
            return False
        t = args[i].get_canonical()
        return t.kind.name == "POINTER" and t.get_pointee().kind.name in ("CHAR_S", "CHAR_U") and \
            t.get_pointee().is_const_qualified()


def pa_args(fmt: str) -> list[int]:
    """Indexes of the arguments a format prints with %pa (%pap, %pad)."""
    out: list[int] = []
    i = n = 0
    while True:
        i = fmt.find("%", i)
        if i < 0 or i + 1 >= len(fmt):
            return out
        j = i + 1
        if fmt[j] == "%":
            i = j + 1
            continue
        while j < len(fmt) and fmt[j] in "-+ #0":
            j += 1
        while j < len(fmt) and (fmt[j].isdigit() or fmt[j] in "*."):
            if fmt[j] == "*":
                n += 1
            j += 1
        while j < len(fmt) and fmt[j] in "hlzjtL":
            j += 1
        if j < len(fmt) and fmt[j] == "p" and fmt[j + 1:j + 2] == "a":
            out.append(n)
        n += 1
        i = j + 1


RUNTIME_CALLS = {f"{RT}{n}" for n in ("bug", "warn", "dump_stack", "sprintf", "snprintf",
                                     "scnprintf", "vmalloc_start", "vmalloc_end", "page_offset")}


def pyn_addr(var: Var) -> str:
    """The Python expression of a memory variable's address."""
    return var.addr
