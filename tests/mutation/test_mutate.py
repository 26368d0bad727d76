#!/usr/bin/env python3
"""test_mutate.py - unit tests of the mutation runner's parsing (tests/mutation/mutate.py): which
sites each operator finds in a small C file, that comments, strings, preprocessor lines and array
sizes are left alone, that statements and functions are found by brackets, that every mutant of the
snippet still compiles, and that equivalent.txt entries match by text. Run by `make test-mutation`."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutate  # noqa: E402

SNIPPET = r'''/* a comment with if (a < b) and x && y */
#include <stdio.h>
#define LIMIT 7
#define NAME(x) (x + 1)

typedef struct { int a; } pair;
static const struct { int v; } table[] = {{1}, {2}};

static void note(int *n) { (*n)++; }

int pick(int a, int b, int *out) {
  char buf[16] = "", other[17], third[LIMIT + 18]; /* array sizes: never CONST sites */
  other[0] = (char)buf[1];
  const char *s = "a < b && c"; // a string and a comment: no sites
  int n = 0;
  if (a < b && b != 3)
    note(&n);
  else if (a >= LIMIT)
    n = 2;
  else
    n = a ? 4 : 5;
  snprintf(buf, sizeof buf, "%s", s);
  while (n > 10) n--;
  *out = buf[0] == 'a';
  return n;
}

void nothing(void) {}
'''


def mutants_of(text, op=None):
    ms = mutate.find_mutants(mutate.Source("x.c", text))
    return [m for m in ms if op is None or m.op == op]


class Sites(unittest.TestCase):
    def test_ror_and_lcr_only_in_code(self):
        ror = mutants_of(SNIPPET, "ROR")
        self.assertEqual(sorted(m.desc for m in ror),
                         sorted(["'<' -> '<='", "'!=' -> '=='", "'>=' -> '>'", "'>' -> '>='", "'==' -> '!='"]))
        lcr = mutants_of(SNIPPET, "LCR")
        self.assertEqual([m.desc for m in lcr], ["'&&' -> '||'"])
        self.assertTrue(all(m.func == "pick" for m in ror + lcr))

    def test_neg_and_elseif(self):
        neg = mutants_of(SNIPPET, "NEG")
        self.assertEqual(len(neg), 3)  # if, else if, while
        self.assertIn("if (!(a < b && b != 3))", neg[0].mutated)
        elseif = mutants_of(SNIPPET, "ELSEIF")
        self.assertEqual(len(elseif), 1)
        self.assertNotIn("LIMIT)", elseif[0].mutated.split("int pick")[1])
        self.assertIn("note(&n);\n  \n  else\n    n = a ? 4 : 5;", elseif[0].mutated)

    def test_constants(self):
        const = mutants_of(SNIPPET, "CONST")
        descs = sorted(m.desc for m in const)
        self.assertIn("LIMIT 7 -> 8", descs)
        self.assertIn("LIMIT 7 -> 6", descs)
        self.assertNotIn("16 -> 17", descs)  # char buf[16]
        self.assertNotIn("17 -> 18", descs)  # other[17], a second declarator
        self.assertNotIn("18 -> 19", descs)  # third[LIMIT + 18], an expression
        self.assertIn("1 -> 2", descs)  # buf[1] is an index, not a size
        self.assertIn("10 -> 11", descs)
        self.assertIn("0 -> 1", descs)
        self.assertNotIn("0 -> -1", descs)
        self.assertEqual([m.func for m in const if m.desc.startswith("LIMIT")], ["#define:LIMIT"] * 2)

    def test_tern_ret_call(self):
        tern = mutants_of(SNIPPET, "TERN")
        self.assertEqual(len(tern), 1)
        self.assertIn("n = !(a) ? 4 : 5;", tern[0].mutated)
        ret = mutants_of(SNIPPET, "RET")
        self.assertEqual(sorted((m.func, m.desc) for m in ret),
                         [("note", "'return;' at the start"), ("nothing", "'return;' at the start"),
                          ("pick", "'return 0;' at the start"), ("pick", "'return 0;' before an if")])
        call = mutants_of(SNIPPET, "CALL")
        self.assertEqual([m.desc for m in call], ["call of note() dropped"])  # snprintf is never dropped
        self.assertIn("if (a < b && b != 3)\n    (void)0;\n  else if", call[0].mutated)

    def test_every_mutant_compiles(self):
        cc = shutil.which("cc")
        if not cc:
            self.fail("no C compiler")
        with tempfile.TemporaryDirectory() as d:
            for m in mutants_of(SNIPPET):
                path = os.path.join(d, "x.c")
                with open(path, "w") as f:
                    f.write(m.mutated)
                r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-variable",
                                    "-Wno-unused-but-set-variable", "-Wno-unused-function", "-c", path, "-o", os.path.join(d, "x.o")],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                self.assertEqual(r.returncode, 0, "%s %s:\n%s\n%s" % (m.op, m.desc, m.diff(), r.stdout.decode()))

    def test_same_mutants_for_same_seed(self):
        import random
        a = random.Random(5).sample(mutants_of(SNIPPET), 6)
        b = random.Random(5).sample(mutants_of(SNIPPET), 6)
        self.assertEqual([m.key() for m in a], [m.key() for m in b])


class Equivalents(unittest.TestCase):
    def test_match_by_text_function_and_operator(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("# comment\nx.c pick ROR\nmatch: while (n > 10)\nto: n >= 10\nwhy: because\n  it is.\n\n"
                    "x.c #define:LIMIT CONST\nmatch: LIMIT 7\nwhy: a limit\n")
        try:
            entries = mutate.load_equivalents(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(len(entries), 2)
        ms = mutants_of(SNIPPET)
        hit = [m for m in ms if mutate.equivalent_reason(m, entries)]
        self.assertEqual(sorted(m.desc for m in hit), ["'>' -> '>='", "LIMIT 7 -> 6", "LIMIT 7 -> 8"])
        ror = [m for m in hit if m.op == "ROR"][0]
        # * for the operator and the line: every mutant of a function
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("x.c note *\nmatch: *\nwhy: nothing calls it\n")
        try:
            anything = mutate.load_equivalents(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(sorted(m.op for m in ms if mutate.equivalent_reason(m, anything)), ["RET"])
        self.assertFalse([m for m in ms if m.func != "note" and mutate.equivalent_reason(m, anything)])
        self.assertEqual(mutate.equivalent_reason(ror, entries), "because it is.")
        # the same text in another function is not the same mutant
        other = mutate.Source("x.c", SNIPPET.replace("int pick(", "int choose("))
        self.assertFalse([m for m in mutate.find_mutants(other) if m.op == "ROR" and
                          mutate.equivalent_reason(m, entries)])

    def test_unused_entries(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("x.c pick ROR\nmatch: while (n > 10)\nwhy: used\n\n"
                    "x.c pick ROR\nmatch: while (n > 99)\nwhy: the code changed\n\n"
                    "y.c other CONST\nmatch: 1\nwhy: another file\n")
        try:
            entries = mutate.load_equivalents(f.name)
        finally:
            os.unlink(f.name)
        stale = mutate.unused_entries(entries, mutants_of(SNIPPET), ["x.c"])
        self.assertEqual([e["match"] for e in stale], ["while (n > 99)"])  # y.c is not looked at

    def test_the_project_file_parses(self):
        mutate.load_equivalents(os.path.join(mutate.ROOT, mutate.EQUIVALENT_FILE))


class Runner(unittest.TestCase):
    def test_built_since(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "obj", "lib"))
            for name in ("obj/lib/a.o", "libx.a", "log.txt"):
                with open(os.path.join(d, name), "w") as f:
                    f.write("x")
                os.utime(os.path.join(d, name), (1000, 1000))
            self.assertFalse(mutate.built_since(d, 5000))
            os.utime(os.path.join(d, "log.txt"), (6000, 6000))  # not an object or an archive
            self.assertFalse(mutate.built_since(d, 5000))
            os.utime(os.path.join(d, "obj/lib/a.o"), (6000, 6000))
            self.assertTrue(mutate.built_since(d, 5000))

    def test_grep_and_list_run_nothing(self):
        r = subprocess.run([sys.executable, os.path.join(mutate.ROOT, "tests", "mutation", "mutate.py"), "--scope",
                            "server", "--files", "server/router.c", "--grep", "p[len - 1] = '\\0'", "--operators",
                            "CONST", "--list", "--count", "0"], cwd=mutate.ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        lines = [x for x in r.stdout.splitlines() if x.startswith("server/router.c:")]
        self.assertTrue(lines, r.stdout)
        self.assertTrue(all(" split_path CONST: " in x for x in lines), r.stdout)


if __name__ == "__main__":
    unittest.main()
