/* fetch.c - `gpupool-agent fetch`: gets the pool's plan from gpupoold's plan endpoint
 * (GET {endpoint}{resource id}/plan?api-version=...) with libcurl. The ETag of the last plan is
 * remembered in a file and sent as If-None-Match, so a node that polls costs the server a 304;
 * exit 4 says "unchanged". A new plan is validated like any plan file before it replaces the old
 * one (atomically), so a broken response never leaves a node without its last good plan. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent.h"

#define DEFAULT_API_VERSION "2026-10-02-preview"

static bool resource_id_ok(const char *id) {
  if (strncasecmp(id, "/subscriptions/", 15) != 0) return false;
  for (const char *p = id; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && !strchr("/._-()", *p))
      return false;
  return true;
}

static char *read_etag(const char *path) {
  ag_err e;
  char *s = ag_read_file(path, 1024, NULL, &e);
  if (!s) return NULL;
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
    s[--n] = '\0';
  if (!n || !ag_header_safe(s)) {
    free(s);
    return NULL;
  }
  return s;
}

static const char fetch_help[] =
    "Usage: gpupool-agent fetch --endpoint URL --pool RESOURCE_ID [--token T] [--cacert FILE] [--etag-file F]\n"
    "                           [--out FILE]\n"
    "\n"
    "Gets the pool's plan from gpupoold: GET {URL}{RESOURCE_ID}/plan?api-version=" DEFAULT_API_VERSION "\n"
    "\n"
    "  --endpoint URL     gpupoold's base URL, e.g. http://127.0.0.1:8080\n"
    "  --pool ID          the agent pool's resource id, /subscriptions/{sub}/resourceGroups/{rg}/providers/\n"
    "                     Microsoft.ContainerService/managedClusters/{cluster}/agentPools/{pool}\n"
    "  --token T          bearer token (default: $GPUPOOL_TOKEN; none when unset)\n"
    "  --cacert FILE      CA certificates (PEM) to trust for an https endpoint (default: the system's)\n"
    "  --etag-file F      remembers the plan's ETag; sent as If-None-Match when F (and --out FILE) exist\n"
    "  --out FILE         where the plan goes (written atomically; default stdout)\n"
    "  --api-version V    default " DEFAULT_API_VERSION "\n"
    "  --timeout S        whole request, seconds (default 60)\n"
    "\n"
    "Exit status: 0 a new plan was written, 4 unchanged (HTTP 304: the plan has the remembered ETag),\n"
    "1 error (network, HTTP error, not a plan: the old plan is kept), 2 usage.\n";

int ag_cmd_fetch(int argc, char **argv) {
  const char *endpoint = NULL, *pool = NULL, *token = getenv("GPUPOOL_TOKEN"), *etag_file = NULL, *out = NULL,
             *api = DEFAULT_API_VERSION, *cacert = NULL;
  long timeout = 60;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(fetch_help, stdout);
      return AG_EXIT_OK;
    }
    static const char *const opts[] = {"--endpoint", "--pool",        "--token",   "--etag-file",
                                       "--out",      "--api-version", "--timeout", "--cacert"};
    size_t k = 0;
    while (k < sizeof opts / sizeof *opts && strcmp(a, opts[k]) != 0)
      k++;
    if (k == sizeof opts / sizeof *opts) return ag_usage_error("fetch", "unknown argument '%s'", a);
    if (i + 1 >= argc) return ag_usage_error("fetch", "option '%s' needs a value", a);
    const char *v = argv[++i];
    switch (k) {
    case 0: endpoint = v; break;
    case 1: pool = v; break;
    case 2: token = v; break;
    case 3: etag_file = v; break;
    case 4: out = v; break;
    case 5: api = v; break;
    case 7: cacert = v; break;
    default: {
      char *end;
      timeout = strtol(v, &end, 10);
      if (*end || timeout < 1 || timeout > 3600) return ag_usage_error("fetch", "--timeout must be 1-3600 seconds");
    }
    }
  }
  if (!endpoint || !pool) return ag_usage_error("fetch", "--endpoint and --pool are required");
  if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
    return ag_usage_error("fetch", "--endpoint must be an http:// or https:// URL");
  if (!resource_id_ok(pool))
    return ag_usage_error("fetch", "--pool must be an agent pool resource id (/subscriptions/...), plain characters");
  if (!ag_header_safe(endpoint) || strchr(endpoint, ' ') || (token && !ag_header_safe(token)) || !ag_header_safe(api))
    return ag_usage_error("fetch", "control characters in --endpoint, --token or --api-version");
  for (const char *c = api; *c; c++)
    if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz-", *c))
      return ag_usage_error("fetch", "--api-version '%s' is not an api-version", api);

  size_t elen = strlen(endpoint);
  while (elen && endpoint[elen - 1] == '/')
    elen--;
  char *url = ag_fmt("%.*s%s/plan?api-version=%s", (int)elen, endpoint, pool, api);
  char *etag = NULL, *auth = NULL, *inm = NULL;
  if (etag_file && (!out || access(out, F_OK) == 0)) etag = read_etag(etag_file);
  if (token && *token) auth = ag_fmt("Authorization: Bearer %s", token);
  if (etag) inm = ag_fmt("If-None-Match: %s", etag);
  int rc = AG_EXIT_ERROR;
  ag_http_response r;
  memset(&r, 0, sizeof r);
  CURL *h = NULL;
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  if (!url || (token && *token && !auth) || (etag && !inm)) {
    fprintf(stderr, "gpupool-agent fetch: out of memory\n");
    goto out;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h = curl_easy_init())) {
    fprintf(stderr, "gpupool-agent fetch: cannot initialise libcurl\n");
    goto out;
  }
  struct curl_slist *t;
  if (!(t = curl_slist_append(hdrs, "Accept: application/json"))) goto nomem;
  hdrs = t;
  if (auth) {
    if (!(t = curl_slist_append(hdrs, auth))) goto nomem;
    hdrs = t;
  }
  if (inm) {
    if (!(t = curl_slist_append(hdrs, inm))) goto nomem;
    hdrs = t;
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "gpupool-agent/1");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ag_http_on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ag_http_on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
  if (cacert) curl_easy_setopt(h, CURLOPT_CAINFO, cacert);
  CURLcode cc = curl_easy_perform(h);
  if (cc != CURLE_OK) {
    if (r.too_big)
      fprintf(stderr, "gpupool-agent fetch: %s: the response is larger than 1 MiB\n", url);
    else
      fprintf(stderr, "gpupool-agent fetch: %s: %s\n", url, *errbuf ? errbuf : curl_easy_strerror(cc));
    goto out;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  char *body = ag_buf_take(&r.body);
  if (!body) goto nomem;
  if (status == 304) {
    fprintf(stderr, "gpupool-agent fetch: plan unchanged (ETag %s)\n", etag ? etag : "?");
    rc = AG_EXIT_UNCHANGED;
    free(body);
    goto out;
  }
  if (status != 200) {
    json_t *e = json_loads(body, 0, NULL), *err = json_object_get(e, "error");
    const char *code = json_string_value(json_object_get(err, "code")),
               *msg = json_string_value(json_object_get(err, "message"));
    if (code)
      fprintf(stderr, "gpupool-agent fetch: HTTP %ld %s: %s\n", status, code, msg ? msg : "");
    else
      fprintf(stderr, "gpupool-agent fetch: HTTP %ld from %s\n", status, url);
    json_decref(e);
    free(body);
    goto out;
  }
  /* Validate as a plan before it replaces anything. */
  ag_err aerr;
  ag_plan plan;
  bool valid = ag_plan_parse(body, strlen(body), "the response", &plan, &aerr);
  ag_plan_free(&plan);
  if (!valid) {
    fprintf(stderr, "gpupool-agent fetch: %s is not a usable plan: %s\n", url, aerr.msg);
    free(body);
    goto out;
  }
  if (out) {
    if (!ag_write_file(out, body, strlen(body), &aerr)) {
      fprintf(stderr, "gpupool-agent fetch: %s\n", aerr.msg);
      free(body);
      goto out;
    }
  } else {
    fputs(body, stdout);
    if (!*body || body[strlen(body) - 1] != '\n') fputc('\n', stdout);
  }
  free(body);
  if (etag_file) {
    if (*r.etag && ag_header_safe(r.etag)) {
      char *line = ag_fmt("%s\n", r.etag);
      if (!line || !ag_write_file(etag_file, line, strlen(line), &aerr)) {
        fprintf(stderr, "gpupool-agent fetch: %s\n", line ? aerr.msg : "out of memory");
        free(line);
        goto out;
      }
      free(line);
    } else {
      unlink(etag_file); /* no ETag: nothing to remember */
    }
  }
  fprintf(stderr, "gpupool-agent fetch: new plan%s%s%s\n", out ? " written to " : "", out ? out : "",
          *r.etag ? "" : " (the server sent no ETag)");
  rc = AG_EXIT_OK;
  goto out;
nomem:
  fprintf(stderr, "gpupool-agent fetch: out of memory\n");
out:
  if (h) curl_easy_cleanup(h);
  curl_slist_free_all(hdrs);
  curl_global_cleanup();
  free(ag_buf_take(&r.body));
  free(url);
  free(etag);
  free(auth);
  free(inm);
  return rc;
}
