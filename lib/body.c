/* body.c - request bytes to JSON (see body.h). */
#include "gpupool/body.h"

#include <string.h>

static json_t *load(const char *buf, size_t len, json_error_t *je) {
  memset(je, 0, sizeof *je);
  return json_loadb(buf, len, JSON_REJECT_DUPLICATES, je);
}

/* Did json_loadb fail for lack of memory rather than because of the bytes? jansson says nothing
 * when its first allocation fails, "out of memory" for some later ones, and a syntax error at the
 * spot for the ones inside its lexer: bytes that are really wrong fail the same way twice. */
static bool out_of_memory(const char *buf, size_t len, const json_error_t *je) {
  if (je->text[0] == '\0' || json_error_code(je) == json_error_out_of_memory) return true;
  json_error_t again;
  json_t *v = load(buf, len, &again);
  json_decref(v);
  return v || again.position != je->position || strcmp(again.text, je->text) != 0;
}

json_t *gp_body_parse(const char *buf, size_t len, gp_error *err) {
  json_error_t je;
  if (len > GP_BODY_MAX) {
    gp_error_add(err, "InvalidRequestContent", NULL, "The request body is %zu bytes; at most %d are accepted.", len,
                 GP_BODY_MAX);
    return NULL;
  }
  if (!buf || len == 0) {
    gp_error_add(err, "InvalidRequestContent", NULL, "The request body is empty; a JSON object is expected.");
    return NULL;
  }
  json_t *v = load(buf, len, &je);
  if (!v && out_of_memory(buf, len, &je)) {
    err->oom = true;
    return NULL;
  }
  if (!v) {
    gp_error_add(err, "InvalidRequestContent", NULL, "The request content is not valid JSON: %s (line %d, column %d).",
                 je.text, je.line, je.column);
    return NULL;
  }
  return v;
}
