/* arm.c - ARM conversations of the CLI (see arm.h). */
#include "arm.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* Each warning once per run: a pool's plan repeats what its PUT's Warning header already said, in
 * words that may differ after the first clause, so the first clause is what is compared. */
static char said[16][256];
static size_t nsaid;

void arm_warn(const char *text) {
  size_t n = strcspn(text, ";.");
  if (n >= sizeof said[0]) n = sizeof said[0] - 1;
  for (size_t i = 0; i < nsaid; i++)
    if (strlen(said[i]) == n && strncmp(said[i], text, n) == 0) return;
  if (nsaid < sizeof said / sizeof said[0]) snprintf(said[nsaid++], sizeof said[0], "%.*s", (int)n, text);
  fprintf(stderr, "Warning: %s\n", text);
}

/* What to do about a request that never got an answer. */
static void transport_hint(const arm_ctx *c, const http_response *r) {
  const char *ep = c->args->endpoint;
  bool https = strncasecmp(ep, "https://", 8) == 0;
  switch ((CURLcode)r->curl_code) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_OPERATION_TIMEDOUT:
    fprintf(stderr,
            "Is gpupoold running at %s? Start one ('make run' in a checkout, or gpupoold), or point the CLI at "
            "yours with --endpoint URL or GPUPOOL_ENDPOINT.\n",
            ep);
    break;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_ISSUER_ERROR:
    if (c->args->cacert)
      fprintf(stderr,
              "The server's certificate is not signed by a CA in %s, or that file cannot be read: pass the CA "
              "certificate (PEM) that signed gpupoold's certificate with --cacert FILE (or GPUPOOL_CACERT).\n",
              c->args->cacert);
    else
      fprintf(stderr, "The server's TLS certificate is not trusted here: pass the CA certificate (PEM) that signed "
                      "it with --cacert FILE (or GPUPOOL_CACERT).\n");
    break;
  case CURLE_SSL_CONNECT_ERROR:
    fprintf(stderr,
            "No TLS handshake with %s: does gpupoold serve https there? Without --tls-cert it serves "
            "plain http://.\n",
            ep);
    break;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
    if (!https)
      fprintf(stderr, "The server closed the connection without an answer: if gpupoold serves https there (it "
                      "was started with --tls-cert), use an https:// endpoint.\n");
    break;
  default: break;
  }
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
    transport_hint(c, resp);
    return false;
  }
  if (resp->body_len) *json = json_loadb(resp->body, resp->body_len, 0, NULL);
  for (char *line = resp->warnings, *nl; *line && (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    arm_warn(line);
  }
  return true;
}

int arm_print_error_body(const json_t *json) {
  const json_t *e = json_object_get(json, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));
  const char *target = json_string_value(json_object_get(e, "target"));
  if (!code) return CLI_ERROR;
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
  return CLI_ERROR;
}

int arm_print_error(const http_response *resp, const json_t *json) {
  if (json_string_value(json_object_get(json_object_get(json, "error"), "code"))) return arm_print_error_body(json);
  fprintf(stderr, "(HTTP %ld) %.500s\n", resp->status, resp->body && *resp->body ? resp->body : "no details");
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
    /* Poll soon, then back off (50 ms, doubling, up to 5 s), never sooner than the server's
     * Retry-After: an operation that ends in milliseconds costs milliseconds. */
    double backoff = 0.05, retry_after = resp->retry_after;
    for (;;) {
      if (tty) fprintf(stderr, "\r - Running .. (%.0fs)", now() - start);
      double wait = retry_after > backoff ? retry_after : backoff;
      sleep_seconds(wait > 60 ? 60 : wait);
      backoff = backoff * 2 > 5 ? 5 : backoff * 2;
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
      retry_after = op.retry_after;
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

/* The answer to a write: an error, or the operation waited for and the result printed. */
static int write_answer(const arm_ctx *c, const http_response *r, const json_t *resp_body, bool no_wait,
                        const char *get_url, int kind) {
  if (r->status >= 400) return arm_print_error(r, resp_body);
  json_t *result = NULL;
  int rc = arm_finish(c, r, no_wait, get_url, &result);
  if (rc == CLI_OK && result) rc = out_print(c->args->output, (out_kind)kind, result, 0);
  json_decref(result);
  return rc;
}

int arm_write(const arm_ctx *c, const char *method, const char *url, const json_t *body, const http_conditions *cond,
              bool no_wait, const char *get_url, int kind) {
  http_response r;
  json_t *resp_body;
  if (!arm_call(c, method, url, body, cond, &r, &resp_body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc = write_answer(c, &r, resp_body, no_wait, get_url, kind);
  json_decref(resp_body);
  http_response_free(&r);
  return rc;
}

int arm_create(const arm_ctx *c, const char *url, const json_t *body, bool no_wait, int kind, const char *what,
               const char *fix) {
  http_response r;
  json_t *resp_body;
  http_conditions cond = {NULL, "*"}; /* a create never replaces what exists */
  if (!arm_call(c, "PUT", url, body, &cond, &r, &resp_body)) {
    http_response_free(&r);
    return CLI_ERROR;
  }
  int rc;
  if (r.status == 412) {
    fprintf(stderr, "(AlreadyExists) %s already exists: nothing was changed. %s\n", what, fix);
    rc = CLI_ERROR;
  } else {
    rc = write_answer(c, &r, resp_body, no_wait, url, kind);
  }
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
