/* framing.c - issue 16 item 4: request smuggling building blocks. Raw requests whose framing is
 * ambiguous (two Content-Lengths, Content-Length with Transfer-Encoding, an unknown
 * Transfer-Encoding, HTTP/1.1 without Host, a NUL or a folded line in a header) must be answered
 * once with 400 (501 for the transfer coding), the connection closed, and nothing behind them run:
 * each case smuggles a DELETE of a cluster after the body, and the cluster must still be there.
 * Usage: hardening-framing --server BUILD/gpupoold */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlib.h"
#include "testutil.h"

#define SUB "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define CLUSTER "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
#define API "?api-version=2026-08-02-preview"
#define SMUGGLED "DELETE " CLUSTER API " HTTP/1.1\r\nHost: x\r\n\r\n"

static gpt_server srv;

static void cluster_there(const char *after) {
  gpt_response r;
  long st = gpt_call(&srv, "GET", CLUSTER API, NULL, NULL, &r);
  const char *state = r.json ? gpt_state_of(r.json) : NULL;
  if (st != 200 || !state || strcmp(state, "Succeeded") != 0)
    gpt_fail("after %s the cluster is not there as it was (GET %ld, %s): a smuggled DELETE ran", after, st,
             state ? state : "-");
  gpt_response_free(&r);
}

/* Sends raw; the reply must be one status line `status` with ARM error code `code` (NULL: any
 * body), then the connection closed. */
static void refused(const char *what, const char *raw, size_t len, int status, const char *code) {
  hl_reply r;
  int first = 0;
  if (!hl_exchange(NULL, srv.port, raw, len, 3000, &r)) {
    gpt_fail("%s: cannot connect", what);
    return;
  }
  int lines = hl_status_lines(&r, &first);
  if (lines != 1 || first != status)
    gpt_fail("%s: want one %d answer, got %d status lines (first %d): %.400s", what, status, lines, first,
             r.data ? r.data : "");
  else if (code && !strstr(r.data, code))
    gpt_fail("%s: the answer has no error code %s: %.400s", what, code, r.data);
  if (!r.eof) gpt_fail("%s: the connection stayed open after the answer (%s)", what, r.timed_out ? "timeout" : "?");
  hl_reply_free(&r);
  cluster_there(what);
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-framing";
  const char *bin = hl_setup(&argc, argv);
  if (!gpt_dir_make(&srv) || !gpt_server_start(&srv, bin, NULL)) return 1;

  gpt_response r;
  if (gpt_call(&srv, "PUT", CLUSTER API, "{\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"1.35\"}}",
               NULL, &r) != 201)
    gpt_fail("cluster PUT: %ld %s", r.status, r.body ? r.body : "");
  gpt_response_free(&r);
  if (!gpt_wait_state(&srv, CLUSTER API, "Succeeded", 30000)) gpt_fail("the cluster did not reach Succeeded");

  static const char body[] = "{\"tags\":{\"a\":\"b\"}}";
  char raw[4096];
  int n;

  /* Two Content-Lengths: libmicrohttpd takes the first, a proxy may take the other. */
  n = snprintf(raw, sizeof raw,
               "PATCH " CLUSTER API " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s" SMUGGLED,
               strlen(body), strlen(body) + strlen(SMUGGLED), body);
  refused("two different Content-Length headers", raw, (size_t)n, 400, "InvalidRequestFraming");
  n = snprintf(raw, sizeof raw,
               "PATCH " CLUSTER API " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s",
               strlen(body), strlen(body), body);
  refused("two equal Content-Length headers", raw, (size_t)n, 400, "InvalidRequestFraming");

  /* Content-Length and chunked: the bytes after the chunked body were run as a new request. */
  n = snprintf(raw, sizeof raw,
               "PATCH " CLUSTER API " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n" SMUGGLED,
               strlen(body) + 60, strlen(body), body);
  refused("Content-Length with Transfer-Encoding: chunked", raw, (size_t)n, 400, "InvalidRequestFraming");

  /* A transfer coding other than chunked: was no answer for 120 s. */
  n = snprintf(raw, sizeof raw,
               "PATCH " CLUSTER API " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" SMUGGLED);
  int64_t t0 = gpt_now_ms();
  refused("Transfer-Encoding: gzip", raw, (size_t)n, 501, "NotImplemented");
  if (gpt_now_ms() - t0 > 10000)
    gpt_fail("Transfer-Encoding: gzip was answered only after %lld ms", (long long)(gpt_now_ms() - t0));
  n = snprintf(raw, sizeof raw,
               "PATCH " CLUSTER API
               " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" SMUGGLED);
  refused("Transfer-Encoding: gzip, chunked", raw, (size_t)n, 501, "NotImplemented");

  /* HTTP/1.1 needs exactly one Host (RFC 9112 §3.2). */
  n = snprintf(raw, sizeof raw, "DELETE " CLUSTER API " HTTP/1.1\r\n\r\n");
  refused("HTTP/1.1 without Host", raw, (size_t)n, 400, "InvalidRequestFraming");
  n = snprintf(raw, sizeof raw, "DELETE " CLUSTER API " HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  refused("two Host headers", raw, (size_t)n, 400, "InvalidRequestFraming");

  /* A NUL inside a header value truncated it; a folded line (obs-fold) was glued to the one before. */
  static const char nul[] = "DELETE " CLUSTER API " HTTP/1.1\r\nHost: x\r\nIf-Match: \"a\x00\"*\r\n\r\n";
  refused("a NUL inside a header value", nul, sizeof nul - 1, 400, "InvalidRequestFraming");
  static const char nul_name[] = "DELETE " CLUSTER API " HTTP/1.1\r\nHost: x\r\nX-A\x00: b\r\n\r\n";
  refused("a NUL inside a header name", nul_name, sizeof nul_name - 1, 400, NULL); /* libmicrohttpd's own 400 */
  n = snprintf(raw, sizeof raw, "DELETE " CLUSTER API " HTTP/1.1\r\nHost: x\r\nIf-Match: \"nothing\"\r\n *\r\n\r\n");
  refused("a folded header line", raw, (size_t)n, 400, "InvalidRequestFraming");
  static const char nul_uri[] = "DELETE " CLUSTER API "\x00/x HTTP/1.1\r\nHost: x\r\n\r\n";
  refused("a NUL inside the request target", nul_uri, sizeof nul_uri - 1, 400, "InvalidRequestFraming");

  /* A malformed Content-Length is answered by libmicrohttpd itself before gpupoold sees the request
   * (its 0.9.75 writes that status block twice; docs/decisions.md, Hardening): what matters here is
   * that the connection ends there and nothing behind it runs. */
  n = snprintf(raw, sizeof raw, "PATCH " CLUSTER API " HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n" SMUGGLED);
  hl_reply rep;
  int first = 0;
  hl_exchange(NULL, srv.port, raw, (size_t)n, 3000, &rep);
  hl_status_lines(&rep, &first);
  if (first != 400 || !rep.eof) gpt_fail("a malformed Content-Length: first status %d, closed %d", first, rep.eof);
  hl_reply_free(&rep);
  cluster_there("a malformed Content-Length");

  /* What is fine stays fine: a chunked body alone, and keep-alive after a normal answer. */
  n = snprintf(raw, sizeof raw,
               "PATCH " CLUSTER API " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
               strlen(body), body);
  hl_exchange(NULL, srv.port, raw, (size_t)n, 1500, &rep);
  int answers = hl_status_lines(&rep, &first);
  if (answers != 2 || first != 200)
    gpt_fail("a chunked PATCH followed by a GET on one connection: want two answers, the first 200; got %d: %s",
             answers, rep.data ? rep.data : "");
  hl_reply_free(&rep);
  cluster_there("a chunked PATCH");

  hl_stop(&srv);
  return hl_result();
}
