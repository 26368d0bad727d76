#!/usr/bin/env python3
"""mutate.py - a small mutation-testing runner for gpupool's C sources (`make mutate`).

It plants one small, realistic bug at a time (a flipped comparison, a negated condition, a removed
`else if` branch, `&&` for `||`, a constant off by one, an early return, a dropped call, the two
values of a ?: swapped) in a throwaway copy of the working tree, rebuilds only what changed (one
object, the archive, the links), runs the fastest suite that covers the file, then the slower ones
only while the mutant survives, and reports whether a test noticed:

  killed         a suite failed (or timed out): the tests caught the bug;
  survived       every suite passed: no test pins that behaviour (the diff is printed);
  equivalent     it survived, but tests/mutation/equivalent.txt explains why no test can catch it;
  not compiling  the compiler (with -Werror) refused it: reported, not counted.

score = killed / (killed + survived).

Sites are found by tokenizing the C sources (comments, strings and preprocessor lines skipped,
`#define NAME number` constants kept; function bodies and statements found by matching brackets),
never by line numbers, so the runner follows the code as it moves. Every candidate mutant is listed
in a fixed order and shuffled with the seed; mutants run in that order until --count of them have
compiled. The same seed on the same sources runs the same mutants.

The working tree is never written: the runner copies the tracked (and untracked, not ignored) files
into a temporary directory with its own build directory (seeded from ./build and ./build/asan when
they exist, timestamps kept, so nothing is built twice), mutates there, and removes the copy on
exit, error or interrupt (SIGINT/SIGTERM/SIGHUP; a suite that hangs is killed with its process group).

Scopes (--scope):
  lib     lib/*.c: the core's unit tests, vectors and disruption-class vectors (make
          mutate-suite-core: test-core and test-diff, cheapest first), then test-agent (its golden
          plans), then the core's tests again under AddressSanitizer + UBSan (leaks, reads past an array)
  agent   the agent's pure decision code (check, plan, render, manifests): test-agent, then
          test-agent under AddressSanitizer + UBSan
  server  routing and the security decisions (router, authz, throttle): the security unit tests
          and the HTTP scenarios (make mutate-suite-server)

Usage: tests/mutation/mutate.py [--scope lib|agent|server] [--seed N] [--count N] [--files F...]
                                [--grep TEXT] [--operators ROR,LCR,...] [--suites T1,T2]
                                [--min-score PCT] [--equivalents] [--list] [--report FILE] [--keep] [-v]
"""

import argparse
import difflib
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EQUIVALENT_FILE = os.path.join("tests", "mutation", "equivalent.txt")

# Scope -> (source globs, suites in order: make targets; the next runs only when the previous passed).
SCOPES = {
    "lib": (["lib/*.c"], ["mutate-suite-core", "test-agent", "asan:mutate-suite-core"]),
    "agent": (["agent/check.c", "agent/plan.c", "agent/render.c", "agent/manifests.c"],
              ["test-agent", "asan:test-agent"]),
    "server": (["server/router.c", "server/security/authz.c", "server/security/throttle.c"], ["mutate-suite-server"]),
}

OPERATORS = ("ROR", "LCR", "NEG", "ELSEIF", "CONST", "RET", "CALL", "TERN")
OPERATOR_HELP = {
    "ROR": "relational operator: < <=, > >=, == !=",
    "LCR": "logical connector: && ||",
    "NEG": "condition of an if/while negated",
    "ELSEIF": "an `else if` branch removed (its cases fall to what follows)",
    "CONST": "integer constant changed by one",
    "RET": "early return at the start of a function or before one of its top-level ifs",
    "CALL": "a call statement dropped (violations, decisions, warnings, copies, ...)",
    "TERN": "condition of a ?: negated (the two values swapped)",
}
# Calls the CALL operator leaves alone: dropping one that releases memory only leaks (valgrind's
# job, not a suite's assertions); dropping one that fills a local buffer or struct leaves it
# uninitialized, which is undefined behaviour rather than a logic bug, and flaky to judge.
CALL_SKIP = re.compile(r"^(free|json_decref|va_start|va_end|va_copy|gp_error_clear|.*_free|"
                       r"v?snprintf|memset|gpj_path|gp_k8s_version_full|gp_k8s_version_parse|gp_enum_list|"
                       r"version_string|mig_list_text|gp_catalog_k8s_range|gp_error_init|gp_policy_context_init)$")
TYPE_WORDS = {
    "char", "int", "long", "short", "unsigned", "signed", "float", "double", "void", "bool", "size_t",
    "ssize_t", "const", "static", "struct", "enum", "union", "volatile", "extern", "inline",
}
KEYWORDS = TYPE_WORDS | {
    "if", "else", "for", "while", "do", "switch", "case", "default", "return", "break", "continue", "goto",
    "sizeof", "typedef", "register", "restrict",
}


# ---- tokenizer ------------------------------------------------------------------------------------

class Tok:
    __slots__ = ("kind", "text", "start", "end", "line")

    def __init__(self, kind, text, start, end, line):
        self.kind, self.text, self.start, self.end, self.line = kind, text, start, end, line

    def __repr__(self):
        return "%s:%r@%d" % (self.kind, self.text, self.line)


PUNCT = sorted(
    ["...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=",
     "/=", "%=", "&=", "^=", "|=", "##"] + list("{}[]();,<>+-*/%&|^!~?:=.#"),
    key=len, reverse=True)
NUMBER = re.compile(r"0[xX][0-9a-fA-F]+[uUlL]*|[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?[uUlLfF]*|\.[0-9]+")
IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def tokenize(src):
    """Tokens of C source. Comments are dropped; a preprocessor directive becomes one 'pp' token
    (its continuation lines included); strings and character constants are single tokens."""
    toks = []
    i, n, line = 0, len(src), 1
    at_line_start = True
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
            at_line_start = True
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "#" and at_line_start:
            j = i
            while True:
                k = src.find("\n", j)
                if k < 0:
                    k = n
                    break
                if src[k - 1] == "\\":
                    j = k + 1
                    continue
                break
            toks.append(Tok("pp", src[i:k], i, k, line))
            line += src.count("\n", i, k)
            i = k
            continue
        at_line_start = False
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("str" if c == '"' else "chr", src[i:j + 1], i, j + 1, line))
            i = j + 1
            continue
        m = IDENT.match(src, i)
        if m:
            toks.append(Tok("id", m.group(), i, m.end(), line))
            i = m.end()
            continue
        m = NUMBER.match(src, i)
        if m:
            toks.append(Tok("num", m.group(), i, m.end(), line))
            i = m.end()
            continue
        for p in PUNCT:
            if src.startswith(p, i):
                toks.append(Tok("p", p, i, i + len(p), line))
                i += len(p)
                break
        else:
            raise ValueError("line %d: cannot tokenize %r" % (line, src[i:i + 20]))
    return toks


# ---- structure: functions, brackets, statements ------------------------------------------------------

class Source:
    def __init__(self, path, text):
        self.path, self.text = path, text
        self.toks = tokenize(text)
        self.match = {}
        stack = []
        for k, t in enumerate(self.toks):
            if t.kind != "p":
                continue
            if t.text in "([{":
                stack.append(k)
            elif t.text in ")]}":
                if stack:
                    o = stack.pop()
                    self.match[o] = k
                    self.match[k] = o
        # functions: a '{' at depth 0 right after ')' opens a body; the name precedes the '('
        self.func_of = [None] * len(self.toks)  # (name, is_void, body_open) of each token in a body
        self.functions = []
        k, depth, boundary = 0, 0, -1
        while k < len(self.toks):
            t = self.toks[k]
            if t.kind == "p" and t.text == "{" and depth == 0:
                end = self.match.get(k)
                prev = self.toks[k - 1] if k else None
                if end is not None and prev is not None and prev.text == ")":
                    o = self.match.get(k - 1)
                    name = self.toks[o - 1].text if o and self.toks[o - 1].kind == "id" else "?"
                    rtype = [x.text for x in self.toks[boundary + 1:o - 1] if x.kind in ("id", "p")]
                    is_void = "void" in rtype and "*" not in rtype
                    info = (name, is_void, k)
                    self.functions.append(info)
                    for j in range(k, end + 1):
                        self.func_of[j] = info
                    k = end + 1
                    boundary = end
                    continue
            if t.kind == "p" and t.text in "{([":
                depth += 1
            elif t.kind == "p" and t.text in "})]":
                depth -= 1
            if depth == 0 and t.kind == "p" and t.text in ";}":
                boundary = k
            if t.kind == "pp" and depth == 0:
                boundary = k
            k += 1

    def line_text(self, line):
        lines = self.text.split("\n")
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def stmt_end(self, k):
        """Index of the last token of the statement starting at token k, or None."""
        t = self.toks
        if k >= len(t):
            return None
        if t[k].text == "{":
            return self.match.get(k)
        if t[k].text in ("if", "while", "for", "switch") and k + 1 < len(t) and t[k + 1].text == "(":
            close = self.match.get(k + 1)
            if close is None:
                return None
            e = self.stmt_end(close + 1)
            if e is not None and t[k].text == "if" and e + 1 < len(t) and t[e + 1].text == "else":
                return self.stmt_end(e + 2)
            return e
        if t[k].text == "do":
            return None
        j = k
        while j < len(t):
            if t[j].text in "([{" and t[j].kind == "p":
                j = self.match.get(j, j)
            elif t[j].kind == "p" and t[j].text == ";":
                return j
            elif t[j].kind == "p" and t[j].text == "}":
                return None
            j += 1
        return None

    def starts_statement(self, k):
        """Does token k start a statement (after ; { } else, a label, or an if/for/while head)?"""
        if k == 0:
            return False
        p = self.toks[k - 1]
        if p.kind == "p" and p.text in (";", "{", "}"):
            return True
        if p.kind == "id" and p.text == "else":
            return True
        if p.kind == "p" and p.text == ")":
            o = self.match.get(k - 1)
            head = self.toks[o - 1].text if o is not None and o > 0 else ""
            return head in ("if", "while", "for") or head.endswith("_foreach")  # jansson's loop macros
        return False


# ---- mutants ------------------------------------------------------------------------------------------

class Mutant:
    def __init__(self, src, op, start, end, repl, line, desc, func):
        self.path, self.op, self.start, self.end, self.repl = src.path, op, start, end, repl
        self.line, self.desc, self.func = line, desc, func
        self.original = src.text
        self.mutated = src.text[:start] + repl + src.text[end:]
        self.orig_line = src.line_text(line)
        self.new_line = self.mutated.split("\n")[line - 1] if line <= self.mutated.count("\n") + 1 else ""
        self.result = self.stage = self.note = None
        self.seconds = 0.0
        self.why = None

    def key(self):
        return (self.path, self.start, self.op, self.repl)

    def diff(self):
        return "".join(difflib.unified_diff(self.original.splitlines(True), self.mutated.splitlines(True),
                                            "a/" + self.path, "b/" + self.path, n=2))


ROR_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}


def ternary_cond_start(src, q):
    """First token of the condition of the ?: whose '?' is token q."""
    t = src.toks
    k = q - 1
    while k >= 0:
        x = t[k]
        if x.kind == "p" and x.text in (")", "]"):
            k = src.match.get(k, k) - 1
            continue
        if x.kind == "p" and x.text in ("(", "[", "{", ",", ";", "?", ":", "=", "+=", "-=", "|=", "&=", "}"):
            return k + 1
        if x.kind == "id" and x.text == "return":
            return k + 1
        k -= 1
    return 0


def int_plus(text, delta):
    m = re.match(r"(0[xX][0-9a-fA-F]+|[0-9]+)([uUlL]*)$", text)
    if not m:
        return None
    digits, suffix = m.groups()
    if digits.startswith(("0x", "0X")):
        v = int(digits, 16) + delta
        return None if v < 0 else "0x%X%s" % (v, suffix)
    if len(digits) > 1 and digits.startswith("0"):
        return None  # octal: leave alone
    v = int(digits) + delta
    return None if v < 0 else "%d%s" % (v, suffix)


def statement_start(src, k):
    """Index of the first token of the statement (or parenthesized list) that holds token k."""
    t = src.toks
    j = k - 1
    while j >= 0:
        x = t[j]
        if x.kind == "pp" or (x.kind == "p" and x.text in (";", "{", "}", "(", "[")):
            return j + 1
        if x.kind == "p" and x.text in (")", "]"):
            j = src.match.get(j, 0) - 1
            continue
        j -= 1
    return 0


def declarator_bracket(src, o):
    """Is the '[' at token o the size of an array declarator (char buf[64], other[N + 1])?"""
    t = src.toks
    j = o - 1
    while j >= 0 and t[j].text == "]":  # char b[8][64]: walk back over earlier dimensions
        j = src.match.get(j, 0) - 1
    if j < 1 or t[j].kind != "id":
        return False
    before = t[j - 1]
    if (before.kind == "id" and before.text not in KEYWORDS - TYPE_WORDS) or before.text == "*":
        return True
    if before.text != ",":
        return False
    first = statement_start(src, j)  # a later declarator of a declaration: int a[2], b[3];
    head = t[first] if first < len(t) else None
    nxt = t[first + 1] if first + 1 < len(t) else None
    return head is not None and head.kind == "id" and (
        head.text in TYPE_WORDS or (head.text not in KEYWORDS and nxt is not None and
                                    (nxt.kind == "id" or nxt.text == "*")))


def is_array_size(src, k):
    """Is number token k part of the size of an array declarator? Changing a buffer's size is not a
    change of behaviour the tests could see (the buffers are sized with room to spare)."""
    t = src.toks
    j = k - 1
    while j >= 0:
        x = t[j]
        if x.kind == "p" and x.text in (")", "]", "}"):
            j = src.match.get(j, 0) - 1
            continue
        if x.kind == "p" and x.text in ("(", "{", ";", ","):
            return False
        if x.kind == "p" and x.text == "[":
            return declarator_bracket(src, j)
        j -= 1
    return False


def find_mutants(src):
    out = []
    t = src.toks
    for k, x in enumerate(t):
        if x.kind == "pp":
            m = re.match(r"#\s*define\s+([A-Za-z_]\w*)\s+(0[xX][0-9a-fA-F]+|[0-9]+)\s*$", x.text)
            if m:
                name, num = m.groups()
                off = x.start + m.start(2)
                for d in (1, -1):
                    new = int_plus(num, d)
                    if new is not None:
                        out.append(Mutant(src, "CONST", off, off + len(num), new, x.line,
                                          "%s %s -> %s" % (name, num, new), "#define:" + name))
            continue
        info = src.func_of[k]
        if info is None:
            continue
        func, is_void, body = info
        if x.kind == "p" and x.text in ROR_SWAP:
            new = ROR_SWAP[x.text]
            out.append(Mutant(src, "ROR", x.start, x.end, new, x.line, "'%s' -> '%s'" % (x.text, new), func))
        elif x.kind == "p" and x.text in ("&&", "||"):
            new = "||" if x.text == "&&" else "&&"
            out.append(Mutant(src, "LCR", x.start, x.end, new, x.line, "'%s' -> '%s'" % (x.text, new), func))
        elif x.kind == "id" and x.text in ("if", "while") and k + 1 < len(t) and t[k + 1].text == "(":
            close = src.match.get(k + 1)
            if close is None or (x.text == "while" and k > 0 and t[k - 1].text == "}"):
                continue  # do { } while (...): leave alone
            a, b = t[k + 1].end, t[close].start
            cond = src.text[a:b]
            out.append(Mutant(src, "NEG", a, b, "!(" + cond + ")", x.line, "%s (...) negated" % x.text, func))
            if x.text == "if" and k > 0 and t[k - 1].text == "else":
                e = src.stmt_end(close + 1)
                if e is not None:
                    out.append(Mutant(src, "ELSEIF", t[k - 1].start, t[e].end, "", t[k - 1].line,
                                      "'else if (...)' branch removed", func))
        elif x.kind == "num":
            if is_array_size(src, k):
                continue
            for d in (1, -1):
                new = int_plus(x.text, d)
                if new is not None:
                    out.append(Mutant(src, "CONST", x.start, x.end, new, x.line, "%s -> %s" % (x.text, new), func))
        elif x.kind == "p" and x.text == "?":
            a = ternary_cond_start(src, k)
            if a < k:
                s, e = t[a].start, t[k - 1].end
                out.append(Mutant(src, "TERN", s, e, "!(" + src.text[s:e] + ")", t[a].line,
                                  "?: condition negated", func))
        elif x.kind == "id" and src.starts_statement(k) and k + 1 < len(t) and t[k + 1].text == "(" \
                and x.text not in KEYWORDS and not CALL_SKIP.match(x.text):
            close = src.match.get(k + 1)
            if close is not None and close + 1 < len(t) and t[close + 1].text == ";":
                out.append(Mutant(src, "CALL", x.start, t[close + 1].end, "(void)0;", x.line,
                                  "call of %s() dropped" % x.text, func))
        # early returns: at the start of the body and before each if at its top level
        if (x.kind == "p" and k == body) or (x.kind == "id" and x.text == "if" and t[k - 1].text in (";", "{", "}")
                                             and top_level(src, k, body)):
            ret = "return;" if is_void else "return 0;"
            at = x.end if k == body else x.start
            where = "at the start" if k == body else "before an if"
            out.append(Mutant(src, "RET", at, at, " " + ret + " " if k == body else ret + " ", x.line,
                              "'%s' %s" % (ret, where), func))
    out.sort(key=Mutant.key)
    return out


def top_level(src, k, body):
    """Is token k directly in the function body that opens at token body (not in a nested block)?"""
    depth = 0
    for j in range(body + 1, k):
        x = src.toks[j]
        if x.kind == "p" and x.text == "{":
            depth += 1
        elif x.kind == "p" and x.text == "}":
            depth -= 1
    return depth == 0


# ---- equivalent mutants -----------------------------------------------------------------------------

def norm(s):
    return " ".join(s.split())


def load_equivalents(path):
    """Entries of equivalent.txt: 'FILE FUNCTION OPERATOR' (OPERATOR * for any), then 'match:' (text of
    the original line, * for any line of the function), optional 'to:' (text of the mutated line) and
    'why:' (continued on indented lines)."""
    entries = []
    if not os.path.exists(path):
        return entries
    cur = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                cur = None
                continue
            if cur is None:
                parts = line.split()
                if len(parts) != 3 or (parts[2] not in OPERATORS and parts[2] != "*"):
                    raise SystemExit("%s: expected 'FILE FUNCTION OPERATOR' (or *), got %r" % (path, line))
                cur = {"file": parts[0], "func": parts[1], "op": parts[2], "match": None, "to": None, "why": ""}
                entries.append(cur)
            elif line.startswith("match:"):
                cur["match"] = norm(line[6:])
            elif line.startswith("to:"):
                cur["to"] = norm(line[3:])
            elif line.startswith("why:"):
                cur["why"] = line[4:].strip()
            elif line.startswith((" ", "\t")) and cur["why"]:
                cur["why"] += " " + line.strip()
            else:
                raise SystemExit("%s: unexpected line %r" % (path, line))
    for e in entries:
        if not e["match"] or not e["why"]:
            raise SystemExit("%s: entry %s %s %s needs 'match:' and 'why:'" % (path, e["file"], e["func"], e["op"]))
    return entries


def equivalent_entry(m, entries):
    for e in entries:
        if e["file"] == m.path and e["func"] == m.func and e["op"] in (m.op, "*") \
                and (e["match"] == "*" or e["match"] in norm(m.orig_line)) \
                and (e["to"] is None or e["to"] in norm(m.new_line)):
            return e
    return None


def unused_entries(entries, mutants, files):
    """The entries about these files that explain none of these mutants (the code they were written
    for has changed or gone)."""
    used = {id(equivalent_entry(m, entries)) for m in mutants}
    return [e for e in entries if e["file"] in files and id(e) not in used]


def equivalent_reason(m, entries):
    e = equivalent_entry(m, entries)
    return e["why"] if e else None


# ---- running --------------------------------------------------------------------------------------

class Interrupted(Exception):
    pass


def on_signal(signum, frame):
    raise Interrupted()


def run_cmd(cmd, cwd, timeout, log):
    """Runs cmd in its own process group; returns (exit status or 'timeout', seconds)."""
    t0 = time.monotonic()
    with open(log, "wb") as out:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            rc = "timeout"
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            raise
    return rc, time.monotonic() - t0


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         check=True, stdout=subprocess.PIPE).stdout
    return sorted({f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(ROOT, f))})


def make_copy(work, build_seed):
    """The working tree's files in work/tree (timestamps kept, so make sees what is up to date), with
    the outputs of the build directory build_seed (if any) as the copy's build/."""
    tree = os.path.join(work, "tree")
    for f in tracked_files():
        dst = os.path.join(tree, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), dst, follow_symlinks=False)
    seed = os.path.join(ROOT, build_seed) if build_seed else None
    if seed and os.path.isdir(seed):
        skip = {"fuzz", "agent-bundle"}  # other outputs that live under build/ (build/asan is kept)
        shutil.copytree(seed, os.path.join(tree, "build"), symlinks=True,
                        ignore=lambda d, names: [n for n in names if os.path.samefile(d, seed) and n in skip])
    return tree


def built_since(bdir, t):
    """Did make write an object or an archive under bdir at or after time t?"""
    for d, _, names in os.walk(bdir):
        for n in names:
            if n.endswith((".o", ".a")) and os.stat(os.path.join(d, n)).st_mtime >= t - 1:
                return True
    return False


def object_of(path, bdir="build"):
    return os.path.join(bdir, "obj", os.path.splitext(path)[0] + ".o")


class Suite:
    """A make target, plain ('test-agent') or under AddressSanitizer + UBSan ('asan:mutate-suite-core', built in
    build/asan as `make asan` does), which also catches leaks and out-of-bounds accesses."""

    def __init__(self, spec):
        self.spec = spec
        self.asan = spec.startswith("asan:")
        self.target = spec[5:] if self.asan else spec
        self.bdir = "build/asan" if self.asan else "build"

    def make(self, *targets):
        cmd = ["make", "--no-print-directory", "-j2", "B=" + self.bdir]
        return cmd + (["SAN=1"] if self.asan else []) + list(targets)


def last_failure(log):
    try:
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    for line in lines:
        if line.startswith(("FAIL", "[  FAILED  ]", "[  ERROR   ]")) or " FAIL " in line:
            return line.strip()[:160]
    return (lines[-1].strip()[:160] if lines else "")


def main():
    ap = argparse.ArgumentParser(description="Mutation testing of gpupool's C sources (see the file's header).")
    ap.add_argument("--scope", choices=sorted(SCOPES), default="lib")
    ap.add_argument("--files", nargs="+", help="only these source files (within the scope's suites)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--count", type=int, default=None, help="mutants that compile to run (0: all; default 100, "
                    "or all with --equivalents)")
    ap.add_argument("--operators", default=",".join(OPERATORS), help="comma-separated subset of " +
                    " ".join(OPERATORS))
    ap.add_argument("--min-score", type=float, default=None, help="exit 1 when the score (percent) is lower")
    ap.add_argument("--suites", help="comma-separated make targets instead of the scope's")
    ap.add_argument("--grep", help="only mutants of source lines that contain this text (whitespace-insensitive)")
    ap.add_argument("--equivalents", action="store_true",
                    help="run every mutant of the scope that %s explains (all of them unless --count) and fail "
                         "when a suite kills one (its entry no longer holds) or an entry explains none" % EQUIVALENT_FILE)
    ap.add_argument("--list", action="store_true", help="list the chosen mutants and exit (nothing is run)")
    ap.add_argument("--report", help="also write the results as Markdown to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    ap.add_argument("--build", default="build", help="build directory whose outputs seed the copy's (default build)")
    ap.add_argument("--no-build-seed", action="store_true", help="build the copy from scratch")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the diff of every mutant")
    a = ap.parse_args()

    globs, suites = SCOPES[a.scope]
    if a.suites:
        suites = a.suites.split(",")
    ops = set(a.operators.split(","))
    if not ops <= set(OPERATORS):
        ap.error("unknown operator in --operators")
    files = a.files or sorted({f for g in globs for f in glob.glob(g, root_dir=ROOT)})
    if not files:
        ap.error("no source files")
    everything = []
    for f in files:
        with open(os.path.join(ROOT, f), encoding="utf-8") as fh:
            everything += find_mutants(Source(f, fh.read()))
    candidates = [m for m in everything if m.op in ops and (not a.grep or norm(a.grep) in norm(m.orig_line))]
    equivalents = load_equivalents(os.path.join(ROOT, EQUIVALENT_FILE))
    unused = []
    if a.equivalents:
        candidates = [m for m in candidates if equivalent_entry(m, equivalents)]
        unused = unused_entries(equivalents, everything, files)
    if a.count is None:
        a.count = 0 if a.equivalents else 100
    # A seeded permutation of every candidate: mutants run in that order until --count of them
    # compiled (those that do not compile are reported but do not count), so the same seed on the
    # same sources always runs the same mutants.
    order = list(candidates)
    random.Random(a.seed).shuffle(order)
    per_op = {}
    for m in candidates:
        per_op[m.op] = per_op.get(m.op, 0) + 1
    print("mutate: scope %s, %d files, %d candidate mutants (%s); seed %d, %s; suites: %s" % (
        a.scope, len(files), len(candidates), ", ".join("%s %d" % (o, per_op[o]) for o in OPERATORS if o in per_op),
        a.seed, "%d that compile" % a.count if a.count > 0 else "all", " then ".join(suites)), flush=True)
    for e in unused:
        print("mutate: the entry '%s %s %s' (match: %s) of %s explains no mutant of today's sources" % (
            e["file"], e["func"], e["op"], e["match"], EQUIVALENT_FILE))
    if a.list:
        for m in (order[:a.count] if a.count > 0 else order):
            print("%s:%d %s %s: %s" % (m.path, m.line, m.func, m.op, m.desc))
            if a.verbose:
                print(m.diff())
        return 1 if unused else 0

    originals = {f: open(os.path.join(ROOT, f), "rb").read() for f in files}
    work = tempfile.mkdtemp(prefix="gpupool-mutate.")
    # Ctrl-C, kill, and the end of the terminal or session that started it (SIGHUP): each removes the
    # copy and stops the suite that was running (its process group), rather than leaving them behind.
    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old_handlers = {sig: signal.signal(sig, on_signal) for sig in caught}
    status = 0
    try:
        status = run(a, work, files, suites, order, equivalents)
        if a.equivalents and status == 0 and unused:
            status = 1
    except Interrupted:
        print("\nmutate: interrupted; removing the temporary copy", flush=True)
        status = 130
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
        if a.keep:
            print("mutate: the copy is kept in %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        for f, data in originals.items():  # belt and braces: the working tree was never written
            if open(os.path.join(ROOT, f), "rb").read() != data:
                print("mutate: %s changed while the runner ran (not by it: it only writes its copy)" % f)
    return status


def run(a, work, files, suites, order, equivalents):
    tree = make_copy(work, None if a.no_build_seed else a.build)
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    suites = [Suite(x) for x in suites]
    bdirs = sorted({x.bdir for x in suites})
    # baseline: build everything the suites need and check that they pass unmutated
    t0 = time.monotonic()
    base = {}
    for x in suites:
        log = os.path.join(logs, "baseline-%s.log" % x.spec.replace(":", "-"))
        started_at = time.time()
        rc, base[x.spec] = run_cmd(x.make(x.target), tree, 3600, log)
        if rc != 0:
            print("mutate: the unmutated tree fails `%s` (%s):" % (" ".join(x.make(x.target)), rc))
            print(open(log, errors="replace").read()[-3000:])
            return 2
        # The mutants' timeouts follow from the suite's own time: when that run had to build something
        # (the copy's build directory was not seeded, or not up to date), a second run gives it.
        if built_since(os.path.join(tree, x.bdir), started_at):
            rc, base[x.spec] = run_cmd(x.make(x.target), tree, 3600, log)
    saved = {}
    for f in files:
        for bd in bdirs:
            obj = os.path.join(tree, object_of(f, bd))
            if os.path.exists(obj):
                saved[(f, bd)] = os.path.join(work, "saved", bd, f + ".o")
                os.makedirs(os.path.dirname(saved[(f, bd)]), exist_ok=True)
                shutil.copy2(obj, saved[(f, bd)])
    print("mutate: baseline passes (%s) in %.0f s" % (", ".join("%s %.1f s" % (x.spec, base[x.spec]) for x in suites),
                                                       time.monotonic() - t0), flush=True)

    counts = {"killed": 0, "survived": 0, "equivalent": 0, "not compiling": 0}
    done = []
    started = time.monotonic()
    for m in order:
        if a.count > 0 and len(done) - counts["not compiling"] >= a.count:
            break
        done.append(m)
        i = len(done)
        src = os.path.join(tree, m.path)
        t1 = time.monotonic()
        with open(src, "w", encoding="utf-8") as fh:
            fh.write(m.mutated)
        try:
            log = os.path.join(logs, "mutant-%03d.log" % i)
            rc, _ = run_cmd(suites[0].make(object_of(m.path, suites[0].bdir)), tree, 300, log)
            if rc != 0:
                m.result = "not compiling"
                m.note = last_failure(log)
            else:
                m.result = "survived"
                for x in suites:
                    rc, _ = run_cmd(x.make(x.target), tree, max(120, 10 * base[x.spec]), log)
                    if rc != 0:
                        m.result, m.stage = "killed", x.spec
                        m.note = "timed out" if rc == "timeout" else last_failure(log)
                        break
        finally:
            with open(src, "wb") as fh:
                fh.write(m.original.encode("utf-8"))
            for bd in bdirs:
                obj = os.path.join(tree, object_of(m.path, bd))
                if (m.path, bd) in saved:
                    shutil.copy2(saved[(m.path, bd)], obj)
                    os.utime(obj)  # newer than the restored source: not rebuilt, but the archive is remade
                elif os.path.exists(obj):
                    os.remove(obj)
        if m.result == "survived":
            m.why = equivalent_reason(m, equivalents)
            if m.why:
                m.result = "equivalent"
        m.seconds = time.monotonic() - t1
        counts[m.result] += 1
        extra = " by %s" % m.stage if m.result == "killed" else ""
        print("[%d] %-13s %s:%d %s %s: %s%s (%.1f s)" % (i, m.result.upper(), m.path, m.line, m.func, m.op, m.desc,
                                                        extra, m.seconds), flush=True)
        if m.result == "survived" or a.verbose:
            print(m.diff(), end="", flush=True)
        if m.result == "equivalent":
            print("    equivalent: %s" % m.why, flush=True)
        if m.result == "not compiling" and a.verbose:
            print("    %s" % m.note)
    elapsed = time.monotonic() - started
    done.sort(key=Mutant.key)
    scored = counts["killed"] + counts["survived"]
    score = 100.0 * counts["killed"] / scored if scored else 100.0
    print("\nmutate: scope %s, seed %d: %d mutants run: %d killed, %d survived, %d equivalent, %d not compiling" % (
        a.scope, a.seed, len(done), counts["killed"], counts["survived"], counts["equivalent"],
        counts["not compiling"]))
    print("mutate: score %.1f%% (killed / (killed + survived)); %.0f s, %.1f s per mutant" % (
        score, elapsed, elapsed / max(1, len(done))))
    survivors = [m for m in done if m.result == "survived"]
    if survivors:
        print("mutate: survivors (add a test that kills each, or explain it in %s):" % EQUIVALENT_FILE)
        for m in survivors:
            print("  %s:%d %s %s: %s" % (m.path, m.line, m.func, m.op, m.desc))
    if a.report:
        write_report(a, done, counts, score, elapsed, [x.spec for x in suites])
    if a.equivalents:
        stale = [m for m in done if m.result == "killed"]
        for m in stale:
            print("mutate: %s:%d %s %s is explained in %s but %s kills it: the entry no longer holds "
                  "(narrow it with 'to:' or remove it)" % (m.path, m.line, m.func, m.op, EQUIVALENT_FILE, m.stage))
        return 1 if stale else 0
    if a.min_score is not None and score < a.min_score:
        print("mutate: score %.1f%% is below the threshold %.1f%%" % (score, a.min_score))
        return 1
    return 0


def write_report(a, chosen, counts, score, elapsed, suites):
    with open(a.report, "w", encoding="utf-8") as f:
        f.write("# mutate.py --scope %s --seed %d --count %d\n\n" % (a.scope, a.seed, len(chosen)))
        f.write("suites: %s; %d killed, %d survived, %d equivalent, %d not compiling; score %.1f%%; %.0f s\n\n" % (
            " then ".join(suites), counts["killed"], counts["survived"], counts["equivalent"],
            counts["not compiling"], score, elapsed))
        f.write("| # | result | where | operator | change | caught by |\n|---|---|---|---|---|---|\n")
        for i, m in enumerate(chosen, 1):
            f.write("| %d | %s | %s:%d `%s` | %s | %s | %s |\n" % (
                i, m.result, m.path, m.line, m.func, m.op, m.desc.replace("|", "\\|"),
                (m.stage or "") + ((": " + m.note.replace("|", "\\|")) if m.result == "killed" and m.note else "")))
        for m in chosen:
            if m.result in ("survived", "equivalent"):
                f.write("\n## %s %s:%d `%s` %s\n\n```diff\n%s```\n" % (m.result, m.path, m.line, m.func, m.op,
                                                                      m.diff()))
                if m.why:
                    f.write("\n%s\n" % m.why)


if __name__ == "__main__":
    sys.exit(main())
