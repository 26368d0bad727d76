/* arm.c - ARM conversations of the CLI (see arm.h). */
#include "arm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

void arm_init(arm_ctx *c, cli_args *a) {
  c->args = a;
  c->http.token = a->token;
  c->http.cacert = a->cacert;
  c->http.debug = a->debug;
}

void arm_url(const arm_ctx *c, char *out, size_t size, const char *path, const char *api_version) {
  const char *ep = c->args->endpoint;
  size_t n = strlen(ep);
  while (n && ep[n - 1] == '/')
    n--;
  char sub[160];
  http_escape_segment(c->args->subscription, sub, sizeof sub);
  snprintf(out, size, "%.*s/subscriptions/%s%s?api-version=%s", (int)n, ep, sub, path, api_version);
}

void arm_cluster_path(char *out, size_t size, const char *rg, const char *cluster) {
  char r[300], n[300];
  http_escape_segment(rg, r, sizeof r);
  http_escape_segment(cluster, n, sizeof n);
  snprintf(out, size, "/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s", r, n);
}

void arm_pool_path(char *out, size_t size, const char *rg, const char *cluster, const char *pool) {
  char base[700], p[300];
  arm_cluster_path(base, sizeof base, rg, cluster);
  http_escape_segment(pool, p, sizeof p);
  snprintf(out, size, "%s/agentPools/%s", base, p);
}

bool arm_call(const arm_ctx *c, const char *method, const char *url, const json_t *body, const http_conditions *cond,
              http_response *resp, json_t **json) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  bool ok = http_request(&c->http, method, url, text, cond, resp);
  free(text);
  *json = NULL;
  if (!ok) {
    fprintf(stderr, "gpupool: cannot reach %s: %s\n", c->args->endpoint,
            resp->error[0] ? resp->error : "request failed");
    return false;
  }
  if (resp->body_len) *json = json_loadb(resp->body, resp->body_len, 0, NULL);
  if (resp->warning[0]) fprintf(stderr, "Warning: %s\n", resp->warning);
  return true;
}

int arm_print_error(const http_response *resp, const json_t *json) {
  const json_t *e = json_object_get(json, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *target = json_string_value(json_object_get(e, "target"));
  if (code) {
    fprintf(stderr, "(%s) %s\n", code, msg ? msg : "");
    if (target) fprintf(stderr, "Target: %s\n", target);
    const json_t *details = json_object_get(e, "details");
    size_t i;
    json_t *d;
    if (json_array_size(details) > 1) {
      json_array_foreach(details, i, d) {
        const char *dc = json_string_value(json_object_get(d, "code"));
        const char *dm = json_string_value(json_object_get(d, "message"));
        const char *dt = json_string_value(json_object_get(d, "target"));
        fprintf(stderr, "  - (%s) %s%s%s%s\n", dc ? dc : "", dm ? dm : "", dt ? " [" : "", dt ? dt : "", dt ? "]" : "");
      }
    }
  } else {
    fprintf(stderr, "(HTTP %ld) %.500s\n", resp->status, resp->body && *resp->body ? resp->body : "no details");
  }
  return CLI_ERROR;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

int arm_finish(const arm_ctx *c, const http_response *resp, bool no_wait, const char *get_url, json_t **result) {
  *result = NULL;
  if (!no_wait && resp->async_op[0]) {
    bool tty = isatty(STDERR_FILENO);
    double start = now();
    /* Retry-After says how long to wait; 0 (a test server) still leaves 100 ms between polls */
    double delay = resp->retry_after >= 0 ? resp->retry_after : 1;
    for (;;) {
      if (tty) fprintf(stderr, "\r - Running .. (%.0fs)", now() - start);
      sleep_seconds(delay < 0.1 ? 0.1 : delay > 10 ? 10 : delay);
      http_response op;
      json_t *body;
      if (!arm_call(c, "GET", resp->async_op, NULL, NULL, &op, &body)) {
        if (tty) fputs("\r\033[K", stderr);
        http_response_free(&op);
        return CLI_ERROR;
      }
      if (op.status != 200) {
        if (tty) fputs("\r\033[K", stderr);
        int rc = arm_print_error(&op, body);
        json_decref(body);
        http_response_free(&op);
        return rc;
      }
      const char *status = json_string_value(json_object_get(body, "status"));
      if (status && (!strcmp(status, "Succeeded") || !strcmp(status, "Failed") || !strcmp(status, "Canceled"))) {
        if (tty) fputs("\r\033[K", stderr);
        int rc = CLI_OK;
        if (strcmp(status, "Succeeded") != 0) {
          if (json_object_get(body, "error"))
            rc = arm_print_error(&op, body);
          else {
            fprintf(stderr, "(OperationFailed) The operation ended %s.\n", status);
            rc = CLI_ERROR;
          }
        }
        json_decref(body);
        http_response_free(&op);
        if (rc) return rc;
        break;
      }
      if (op.retry_after >= 0) delay = op.retry_after;
      json_decref(body);
      http_response_free(&op);
    }
  }
  if (no_wait) { /* the accepted resource as the write returned it (Creating, Updating, ...) */
    *result = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    return CLI_OK;
  }
  if (!get_url) return CLI_OK; /* deletes print nothing */
  http_response g;
  json_t *body;
  if (!arm_call(c, "GET", get_url, NULL, NULL, &g, &body)) {
    http_response_free(&g);
    return CLI_ERROR;
  }
  int rc = CLI_OK;
  if (g.status != 200)
    rc = arm_print_error(&g, body);
  else
    *result = json_incref(body);
  json_decref(body);
  http_response_free(&g);
  return rc;
}

int arm_write(const arm_ctx *c, const char *method, const char *url, const json_t *body, const http_conditions *cond,
              bool no_wait, const char *get_url, int kind) {
  http_response r;
  json_t *resp_body, *result = NULL;
  if (!arm_call(c, method, url, body, cond, &r, &resp_body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc;
  if (r.status >= 400) {
    rc = arm_print_error(&r, resp_body);
  } else {
    rc = arm_finish(c, &r, no_wait, get_url, &result);
    if (rc == CLI_OK && result) rc = out_print(c->args->output, (out_kind)kind, result, 0);
  }
  json_decref(result);
  json_decref(resp_body);
  http_response_free(&r);
  return rc;
}

int arm_show(const arm_ctx *c, const char *url, int kind) {
  http_response r;
  json_t *body;
  if (!arm_call(c, "GET", url, NULL, NULL, &r, &body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc = r.status == 200 ? out_print(c->args->output, (out_kind)kind, body, 0) : arm_print_error(&r, body);
  json_decref(body);
  http_response_free(&r);
  return rc;
}

int cli_list_all(const arm_ctx *c, const char *url, json_t **out) {
  json_t *all = json_array();
  char next[4096];
  snprintf(next, sizeof next, "%s", url);
  for (int page = 0; page < 10000; page++) {
    http_response r;
    json_t *body;
    if (!arm_call(c, "GET", next, NULL, NULL, &r, &body)) {
      http_response_free(&r);
      json_decref(all);
      return CLI_ERROR;
    }
    if (r.status != 200) {
      int rc = arm_print_error(&r, body);
      json_decref(body);
      http_response_free(&r);
      json_decref(all);
      return rc;
    }
    json_array_extend(all, json_object_get(body, "value"));
    const char *nl = json_string_value(json_object_get(body, "nextLink"));
    if (nl) snprintf(next, sizeof next, "%s", nl);
    json_decref(body);
    http_response_free(&r);
    if (!nl) break;
  }
  *out = all;
  return CLI_OK;
}

int arm_list(const arm_ctx *c, const char *url, int kind) {
  json_t *all;
  int rc = cli_list_all(c, url, &all);
  if (rc != CLI_OK) return rc;
  rc = out_print(c->args->output, (out_kind)kind, all, 1);
  json_decref(all);
  return rc;
}
