/* testtool.c - helpers for the agent's shell test suite (tests/agent/run-tests.sh), so the tests
 * need nothing beyond a shell and this tool:
 *
 *   agent-testtool yaml2json FILE          parse YAML with libyaml's parser; print the documents as a
 *                                          JSON array (plain scalars resolved: ints, true/false, null)
 *   agent-testtool jsoneq A B [--ignore K]  exit 0 when the JSON files are equal (keys K removed at any
 *                                          depth); otherwise print both and exit 1
 *   agent-testtool get FILE PATH            print the value at PATH ('|'-separated keys and array
 *                                          indexes, e.g. 0|spec|template|spec|containers|0|image: keys
 *                                          such as 1g.10gb and nvidia.com/gpu hold dots and slashes);
 *                                          strings raw, anything else as compact JSON; exit 1 if absent
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static json_t *scalar(const yaml_event_t *ev) {
  const char *v = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return json_stringn(v, len);
  if (strcmp(v, "true") == 0) return json_true();
  if (strcmp(v, "false") == 0) return json_false();
  if (strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || len == 0) return json_null();
  char *end;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (*v && *end == '\0' && errno == 0) return json_integer(n);
  return json_stringn(v, len);
}

/* Builds the value that starts with ev (already read). */
static json_t *node(yaml_parser_t *p, yaml_event_t *ev, int depth) {
  if (depth > 100) return NULL;
  if (ev->type == YAML_SCALAR_EVENT) return scalar(ev);
  if (ev->type == YAML_ALIAS_EVENT) return NULL; /* the agent never emits aliases */
  bool map = ev->type == YAML_MAPPING_START_EVENT;
  if (!map && ev->type != YAML_SEQUENCE_START_EVENT) return NULL;
  json_t *out = map ? json_object() : json_array();
  for (;;) {
    yaml_event_t e;
    if (!yaml_parser_parse(p, &e)) {
      json_decref(out);
      return NULL;
    }
    if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&e);
      return out;
    }
    if (map) {
      if (e.type != YAML_SCALAR_EVENT) {
        yaml_event_delete(&e);
        json_decref(out);
        return NULL;
      }
      char *key = strdup((const char *)e.data.scalar.value);
      yaml_event_delete(&e);
      yaml_event_t ve;
      if (!key || !yaml_parser_parse(p, &ve)) {
        free(key);
        json_decref(out);
        return NULL;
      }
      json_t *v = node(p, &ve, depth + 1);
      yaml_event_delete(&ve);
      if (!v || json_object_get(out, key) || json_object_set_new(out, key, v)) {
        fprintf(stderr, "yaml2json: bad or duplicate key '%s'\n", key);
        free(key);
        json_decref(out);
        return NULL;
      }
      free(key);
    } else {
      json_t *v = node(p, &e, depth + 1);
      yaml_event_delete(&e);
      if (!v || json_array_append_new(out, v)) {
        json_decref(out);
        return NULL;
      }
    }
  }
}

static int yaml2json(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  json_t *docs = json_array();
  int rc = 1;
  for (;;) {
    yaml_event_t e;
    if (!yaml_parser_parse(&p, &e)) {
      fprintf(stderr, "%s: YAML error: %s (line %zu)\n", path, p.problem ? p.problem : "?", p.problem_mark.line + 1);
      goto out;
    }
    yaml_event_type_t t = e.type;
    if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_SCALAR_EVENT) {
      json_t *v = node(&p, &e, 0);
      yaml_event_delete(&e);
      if (!v) {
        fprintf(stderr, "%s: cannot convert (line %zu)\n", path, p.mark.line + 1);
        goto out;
      }
      json_array_append_new(docs, v);
      continue;
    }
    yaml_event_delete(&e);
    if (t == YAML_STREAM_END_EVENT) break;
  }
  char *s = json_dumps(docs, JSON_INDENT(2));
  if (s) {
    puts(s);
    free(s);
    rc = 0;
  }
out:
  json_decref(docs);
  yaml_parser_delete(&p);
  fclose(f);
  return rc;
}

static void strip(json_t *v, const char *key) {
  if (json_is_object(v)) {
    json_object_del(v, key);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) strip(x, key);
  } else if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) strip(x, key);
  }
}

static json_t *load(const char *path) {
  json_error_t je;
  json_t *v = json_load_file(path, JSON_DECODE_ANY, &je);
  if (!v) fprintf(stderr, "%s: %s (line %d)\n", path, je.text, je.line);
  return v;
}

static int jsoneq(int argc, char **argv) {
  json_t *a = load(argv[0]), *b = load(argv[1]);
  int rc = 1;
  if (!a || !b) goto out;
  for (int i = 2; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--ignore") == 0) {
      strip(a, argv[i + 1]);
      strip(b, argv[i + 1]);
    }
  if (json_equal(a, b)) {
    rc = 0;
  } else {
    char *sa = json_dumps(a, JSON_INDENT(1)), *sb = json_dumps(b, JSON_INDENT(1));
    fprintf(stderr, "jsoneq: %s and %s differ\n--- %s\n%s\n--- %s\n%s\n", argv[0], argv[1], argv[0], sa ? sa : "",
            argv[1], sb ? sb : "");
    free(sa);
    free(sb);
  }
out:
  json_decref(a);
  json_decref(b);
  return rc;
}

static int get(const char *path, const char *where) {
  json_t *root = load(path), *v = root;
  char *copy = strdup(where);
  int rc = 1;
  if (!root || !copy) goto out;
  for (char *part = strtok(copy, "|"); v && part; part = strtok(NULL, "|")) {
    if (json_is_array(v)) {
      char *end;
      unsigned long i = strtoul(part, &end, 10);
      v = *end ? NULL : json_array_get(v, i);
    } else {
      v = json_object_get(v, part);
    }
  }
  if (!v) {
    fprintf(stderr, "get: %s has nothing at %s\n", path, where);
    goto out;
  }
  if (json_is_string(v)) {
    puts(json_string_value(v));
  } else {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    puts(s ? s : "");
    free(s);
  }
  rc = 0;
out:
  free(copy);
  json_decref(root);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "yaml2json") == 0) return yaml2json(argv[2]);
  if (argc >= 4 && strcmp(argv[1], "jsoneq") == 0) return jsoneq(argc - 2, argv + 2);
  if (argc == 4 && strcmp(argv[1], "get") == 0) return get(argv[2], argv[3]);
  fprintf(stderr, "usage: agent-testtool yaml2json FILE | jsoneq A B [--ignore KEY]... | get FILE PATH\n");
  return 2;
}
