/* yaml_out.c - YAML output through libyaml's emitter: manifests and the mig-parted config are built
 * as JSON values (jansson keeps key order) and emitted event by event, so quoting and escaping are
 * the library's business, not printf's. Output is byte-stable: no anchors, no timestamps, key order
 * as built, unlimited line width.
 *
 * Scalars: integers, booleans and null are plain; a string is plain only when it cannot be read
 * back as anything but that string (not a number, boolean or null look-alike, only name-like
 * characters); otherwise it is double-quoted. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "agent.h"

static bool plain_safe(const char *s) {
  static const char *const words[] = {"y",   "yes",  "n", "no",   "true", "false", "on",
                                      "off", "null", "~", ".inf", ".nan", "-.inf"};
  if (!*s) return false;
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (strcasecmp(s, words[i]) == 0) return false;
  if (!isalpha((unsigned char)s[0]) && s[0] != '/' && s[0] != '_') return false;
  for (const char *p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("._/-", *p)) return false;
  return true;
}

typedef struct {
  ag_buf out;
} sink;

static int write_handler(void *data, unsigned char *buffer, size_t size) {
  sink *s = data;
  char *tmp = malloc(size + 1);
  if (!tmp) return 0;
  memcpy(tmp, buffer, size);
  tmp[size] = '\0';
  ag_buf_add(&s->out, tmp);
  free(tmp);
  return !s->out.oom;
}

static bool scalar(yaml_emitter_t *em, const char *v, yaml_scalar_style_t style) {
  yaml_event_t ev;
  if (!yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)v, (int)strlen(v), 1, 1,
                                    style))
    return false;
  return yaml_emitter_emit(em, &ev) != 0;
}

static bool emit(yaml_emitter_t *em, json_t *v, int depth) {
  yaml_event_t ev;
  char num[64];
  if (depth > 64) return false;
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, (yaml_char_t *)YAML_MAP_TAG, 1, YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(em, &ev))
      return false;
    json_object_foreach(v, k, x) {
      if (!scalar(em, k, plain_safe(k) ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE) ||
          !emit(em, x, depth + 1))
        return false;
    }
    if (!yaml_mapping_end_event_initialize(&ev)) return false;
    return yaml_emitter_emit(em, &ev) != 0;
  }
  case JSON_ARRAY: {
    size_t i;
    json_t *x;
    if (!yaml_sequence_start_event_initialize(&ev, NULL, (yaml_char_t *)YAML_SEQ_TAG, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
        !yaml_emitter_emit(em, &ev))
      return false;
    json_array_foreach(v, i, x) if (!emit(em, x, depth + 1)) return false;
    if (!yaml_sequence_end_event_initialize(&ev)) return false;
    return yaml_emitter_emit(em, &ev) != 0;
  }
  case JSON_STRING: {
    const char *s = json_string_value(v);
    return scalar(em, s, plain_safe(s) ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
  }
  case JSON_INTEGER:
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
  case JSON_REAL:
    snprintf(num, sizeof num, "%.17g", json_real_value(v));
    return scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
  case JSON_TRUE: return scalar(em, "true", YAML_PLAIN_SCALAR_STYLE);
  case JSON_FALSE: return scalar(em, "false", YAML_PLAIN_SCALAR_STYLE);
  case JSON_NULL: return scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
  }
  return false;
}

char *ag_yaml_from_json(json_t *const *docs, size_t ndocs, ag_err *err) {
  yaml_emitter_t em;
  yaml_event_t ev;
  sink s = {{0}};
  bool ok = false;
  if (!yaml_emitter_initialize(&em)) {
    ag_seterr(err, "out of memory");
    return NULL;
  }
  yaml_emitter_set_output(&em, write_handler, &s);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_indent(&em, 2);
  yaml_emitter_set_width(&em, -1);
  yaml_emitter_set_break(&em, YAML_LN_BREAK);
  if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&em, &ev)) goto out;
  for (size_t i = 0; i < ndocs; i++) {
    /* The first document starts implicitly; later ones after an explicit "---". */
    if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, i == 0) || !yaml_emitter_emit(&em, &ev)) goto out;
    if (!emit(&em, docs[i], 0)) goto out;
    if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev)) goto out;
  }
  if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em)) goto out;
  ok = true;
out:
  if (!ok) ag_seterr(err, "YAML emitter: %s", em.problem ? em.problem : "out of memory");
  yaml_emitter_delete(&em);
  char *text = ag_buf_take(&s.out);
  if (!ok) {
    free(text);
    return NULL;
  }
  if (!text) ag_seterr(err, "out of memory");
  return text;
}
