/* seeds.c - seed corpora for the fuzzers, taken from the test data (built and run by `make fuzz`):
 *   seeds bodies OUTDIR FILE...    every "body", "pool", "cluster" and "existing" object in the files
 *                                  (tests/vectors cases, tests/http scenarios), one seed each
 *   seeds requests OUTDIR FILE...  "METHOD PATH" of every step of the HTTP scenarios, their
 *                                  {{variables}} replaced by the runner's defaults
 * Seeds are named by content, so running it again changes nothing. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defaults.h"

static int written;

static void write_seed(const char *dir, const char *data, size_t len) {
  unsigned long h = 5381;
  for (size_t i = 0; i < len; i++)
    h = h * 33 + (unsigned char)data[i];
  char path[1024];
  snprintf(path, sizeof path, "%s/%016lx", dir, h);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "seeds: cannot write %s\n", path);
    exit(1);
  }
  written++;
}

static void bodies(const char *dir, const json_t *v) {
  const char *k;
  json_t *x;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach((json_t *)v, k, x) {
      if (json_is_object(x) &&
          (!strcmp(k, "body") || !strcmp(k, "pool") || !strcmp(k, "cluster") || !strcmp(k, "existing"))) {
        char *s = json_dumps(x, JSON_COMPACT);
        if (s) write_seed(dir, s, strlen(s));
        free(s);
      }
      bodies(dir, x);
    }
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, x) bodies(dir, x);
  }
}

/* {{rg}} as the runner makes it; the other variables are the runner's defaults (defaults.h). */
static const char rg[] =
    "/subscriptions/0b3c8a1e-5f7d-4c2a-9e61-3d8f2b7a4c10/resourceGroups/rg1/providers/Microsoft.ContainerService";

static const char *lookup(const char *name, size_t n) {
  if (n == 2 && strncmp(name, "rg", 2) == 0) return rg;
  for (size_t d = 0; d < GPT_NDEFAULT_VARS; d++)
    if (strlen(gpt_default_vars[d][0]) == n && strncmp(gpt_default_vars[d][0], name, n) == 0)
      return gpt_default_vars[d][1];
  return "x";
}

static void expand(const char *in, char *out, size_t size, int depth) {
  size_t j = 0;
  while (*in && j + 1 < size) {
    const char *close;
    if (in[0] == '{' && in[1] == '{' && (close = strstr(in, "}}"))) {
      const char *val = lookup(in + 2, (size_t)(close - in - 2));
      char sub[2048];
      if (depth < 3)
        expand(val, sub, sizeof sub, depth + 1);
      else
        snprintf(sub, sizeof sub, "%s", val);
      for (const char *p = sub; *p && j + 1 < size; p++)
        out[j++] = *p;
      in = close + 2;
    } else {
      out[j++] = *in++;
    }
  }
  out[j] = '\0';
}

static void requests(const char *dir, const json_t *doc) {
  size_t i;
  json_t *step;
  json_array_foreach(json_object_get(doc, "steps"), i, step) {
    const char *m = json_string_value(json_object_get(step, "method")),
               *p = json_string_value(json_object_get(step, "path"));
    if (!p) continue; /* captured URLs (operations, nextLinks) become "x": a 404 is a fine seed too */
    char path[4096], line[4200];
    expand(p, path, sizeof path, 0);
    snprintf(line, sizeof line, "%s %s", m ? m : "GET", path);
    write_seed(dir, line, strlen(line));
  }
}

int main(int argc, char **argv) {
  if (argc < 4 || (strcmp(argv[1], "bodies") != 0 && strcmp(argv[1], "requests") != 0)) {
    fprintf(stderr, "usage: seeds bodies|requests OUTDIR FILE...\n");
    return 2;
  }
  for (int i = 3; i < argc; i++) {
    json_error_t je;
    json_t *doc = json_load_file(argv[i], 0, &je);
    if (!doc) {
      fprintf(stderr, "seeds: %s: %s\n", argv[i], je.text);
      return 1;
    }
    if (argv[1][0] == 'b')
      bodies(argv[2], doc);
    else
      requests(argv[2], doc);
    json_decref(doc);
  }
  printf("seeds %s: %d seeds from %d files\n", argv[1], written, argc - 3);
  return 0;
}
