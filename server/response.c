/* response.c - building handler responses: JSON bodies, ARM error bodies, extra headers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

void gpd_resp_clear(gpd_response *resp) {
  json_decref(resp->body);
  free(resp->text);
  for (size_t i = 0; i < resp->nheaders; i++) {
    free(resp->headers[i].name);
    free(resp->headers[i].value);
  }
  memset(resp, 0, sizeof *resp);
}

/* Replaces the status and body, keeping the headers already set. */
static void reset_body(gpd_response *resp, int status) {
  json_decref(resp->body);
  free(resp->text);
  resp->body = NULL;
  resp->text = NULL;
  resp->text_len = 0;
  resp->status = status;
}

void gpd_resp_json(gpd_response *resp, int status, json_t *body) {
  reset_body(resp, status);
  if (!body) {
    gpd_resp_oom(resp);
    return;
  }
  resp->body = body;
}

void gpd_resp_text(gpd_response *resp, int status, char *text, size_t len) {
  reset_body(resp, status);
  if (!text) {
    gpd_resp_oom(resp);
    return;
  }
  resp->text = text;
  resp->text_len = len;
}

void gpd_resp_empty(gpd_response *resp, int status) { reset_body(resp, status); }

void gpd_resp_oom(gpd_response *resp) {
  static const char body[] = "{\"error\":{\"code\":\"InternalServerError\",\"message\":\"The server ran out of memory; "
                             "retry the request.\",\"details\":[]}}";
  reset_body(resp, 500);
  resp->text = strdup(body); /* NULL leaves an empty 500, still an answer */
  resp->text_len = resp->text ? sizeof body - 1 : 0;
}

void gpd_resp_error(gpd_response *resp, int status, const char *code, const char *target, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  gpd_resp_json(resp, status, gp_error_body(code, target, msg));
}

void gpd_resp_gp_error(gpd_response *resp, const gp_error *err) {
  if (err->oom) {
    gpd_resp_oom(resp);
    return;
  }
  gpd_resp_json(resp, err->status ? err->status : 400, gp_error_to_json(err));
}

/* ARM's code for a 503: Azure clients retry it after Retry-After. When a commit's answer was lost
 * with the connection the write may have happened, so the message does not promise otherwise. */
void gpd_resp_store_error(gpd_response *resp) {
  gpd_resp_error(resp, 503, "ServiceUnavailable", NULL,
                 "The store could not complete the request. Retry in a moment; a write that was interrupted "
                 "either happened as a whole or not at all.");
  gpd_resp_header(resp, "Retry-After", "1");
}

void gpd_resp_header(gpd_response *resp, const char *name, const char *fmt, ...) {
  char value[2048];
  va_list ap;
  if (resp->nheaders >= GPD_MAX_RESP_HEADERS) return;
  va_start(ap, fmt);
  vsnprintf(value, sizeof value, fmt, ap);
  va_end(ap);
  gpd_header *h = &resp->headers[resp->nheaders];
  h->name = strdup(name);
  h->value = strdup(value);
  if (!h->name || !h->value) {
    free(h->name);
    free(h->value);
    h->name = h->value = NULL;
    return;
  }
  resp->nheaders++;
}
