/* body.c - request bytes to JSON (see body.h). */
#include "gpupool/body.h"

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
  json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!v) {
    gp_error_add(err, "InvalidRequestContent", NULL, "The request content is not valid JSON: %s (line %d, column %d).",
                 je.text, je.line, je.column);
    return NULL;
  }
  return v;
}
