/* client.c - the daemon's HTTP transfers to gpupoold: the machine report (PUT) and the plan
 * long-poll (GET with If-None-Match), each a libcurl easy handle driven by the main loop's multi
 * handle, so that a report goes out while a long-poll is held and neither blocks the loop. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void release(ag_xfer *x) {
  if (x->h) curl_easy_cleanup(x->h);
  curl_slist_free_all(x->hdrs);
  free(x->upload);
  free(ag_buf_take(&x->resp.body));
  x->h = NULL;
  x->hdrs = NULL;
  x->upload = NULL;
  x->active = false;
}

/* "Name: value" (value may be "") */
static bool header(ag_xfer *x, const char *name, const char *value) {
  char *line = ag_fmt("%s%s%s", name, *value ? " " : "", value);
  struct curl_slist *t = line ? curl_slist_append(x->hdrs, line) : NULL;
  free(line);
  if (!t) return false;
  x->hdrs = t;
  return true;
}

bool ag_xfer_start(CURLM *multi, ag_xfer *x, const ag_xfer_req *r) {
  release(x);
  memset(x, 0, sizeof *x);
  x->h = curl_easy_init();
  bool ok = x->h && header(x, "Accept:", "application/json");
  if (ok && r->token && *r->token) ok = header(x, "Authorization: Bearer", r->token);
  if (ok && r->if_none_match && *r->if_none_match) ok = header(x, "If-None-Match:", r->if_none_match);
  if (ok && r->body) {
    /* no "Expect: 100-continue" round trip for a report */
    ok = header(x, "Content-Type:", "application/json") && header(x, "Expect:", "") &&
         (x->upload = strdup(r->body)) != NULL;
  }
  if (!ok) {
    release(x);
    return false;
  }
  curl_easy_setopt(x->h, CURLOPT_URL, r->url);
  curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
  char agent[64];
  snprintf(agent, sizeof agent, "gpupool-agent/%s", AG_AGENT_VERSION);
  curl_easy_setopt(x->h, CURLOPT_USERAGENT, agent); /* libcurl copies it */
  curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(x->h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(x->h, CURLOPT_TIMEOUT, r->timeout_s);
  curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, ag_http_on_body);
  curl_easy_setopt(x->h, CURLOPT_WRITEDATA, &x->resp);
  curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, ag_http_on_header);
  curl_easy_setopt(x->h, CURLOPT_HEADERDATA, &x->resp);
  curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
  if (r->cacert) curl_easy_setopt(x->h, CURLOPT_CAINFO, r->cacert);
  if (r->close_after) curl_easy_setopt(x->h, CURLOPT_FORBID_REUSE, 1L);
  if (x->upload) {
    curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->upload);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, (long)strlen(x->upload));
  }
  if (curl_multi_add_handle(multi, x->h) != CURLM_OK) {
    release(x);
    return false;
  }
  x->active = true;
  x->started = mono();
  return true;
}

ag_xfer *ag_xfer_done(CURLM *multi, CURLcode *result) {
  int left = 0;
  CURLMsg *m;
  while ((m = curl_multi_info_read(multi, &left)))
    if (m->msg == CURLMSG_DONE) {
      ag_xfer *x = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      *result = m->data.result;
      if (x) {
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        curl_multi_remove_handle(multi, x->h);
        x->active = false;
        x->elapsed = mono() - x->started;
        return x;
      }
    }
  return NULL;
}

char *ag_xfer_take_body(ag_xfer *x) {
  char *b = ag_buf_take(&x->resp.body);
  release(x);
  return b;
}

void ag_xfer_cancel(CURLM *multi, ag_xfer *x) {
  if (x->active && x->h) curl_multi_remove_handle(multi, x->h);
  release(x);
}

char *ag_xfer_error(CURLcode cc, const ag_xfer *x) {
  if (x->resp.too_big) return ag_fmt("the response is larger than 1 MiB");
  return ag_fmt("%s", *x->errbuf ? x->errbuf : curl_easy_strerror(cc));
}

char *ag_arm_error(long status, const char *body) {
  json_t *e = body ? json_loads(body, 0, NULL) : NULL, *err = json_object_get(e, "error");
  const char *code = json_string_value(json_object_get(err, "code")),
             *msg = json_string_value(json_object_get(err, "message"));
  char *s = code ? ag_fmt("HTTP %ld %s: %.300s", status, code, msg ? msg : "") : ag_fmt("HTTP %ld", status);
  json_decref(e);
  return s;
}
