/* bodies.c - issue 16 item 2: with --auth tokens, a request is authenticated on its headers, before
 * a byte of its body is read. 300 clients without a token each send a PUT with a 1 MiB body: each
 * gets 401 and its connection closed without gpupoold reading the body, and gpupoold's resident
 * size grows by a few MB, not by 300 MB. A refused request without a body (403) keeps its
 * connection alive; a client with a token is served as before.
 * Usage: hardening-bodies --server BUILD/gpupoold */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "hlib.h"
#include "testutil.h"

#define CLIENTS 300
#define BODY (1024 * 1024)
#define TOKEN "hardening-bodies-token-0123456789abcdef"
#define SUB "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b"
#define CLUSTER "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
#define API "?api-version=2026-08-02-preview"
#define MAX_GROWTH_KB (48 * 1024)

static gpt_server srv;

int main(int argc, char **argv) {
  gpt_test_name = "hardening-bodies";
  const char *bin = hl_setup(&argc, argv);
  hl_raise_nofile();
  char tokens[400];
  if (!gpt_dir_make(&srv)) return 1;
  snprintf(tokens, sizeof tokens, "%s/tokens", srv.dir);
  if (!hl_add_token(tokens, TOKEN, "tester", "Contributor", "/subscriptions/" SUB)) {
    fprintf(stderr, "hardening-bodies: cannot write the tokens file (sha256sum)\n");
    return 1;
  }
  const char *args[] = {"--auth", "tokens", "--tokens-file", tokens, NULL};
  if (!gpt_server_start(&srv, bin, args)) return 1;

  char *body = malloc(BODY);
  memset(body, 'a', BODY);
  memcpy(body, "{\"location\":\"", 13);
  memcpy(body + BODY - 2, "\"}", 2);
  char head[1024];
  int hn = snprintf(head, sizeof head,
                    "PUT " CLUSTER API " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n",
                    BODY);
  gpt_sleep_ms(300);
  long before = hl_rss_kb(srv.pid);
  static int fds[CLIENTS];
  int unread = 0;
  for (int i = 0; i < CLIENTS; i++) {
    fds[i] = hl_connect(i % 2 ? "127.0.0.2" : "127.0.0.3", srv.port);
    if (fds[i] < 0) {
      gpt_fail("client %d cannot connect", i);
      continue;
    }
    struct timeval tv = {2, 0}; /* a server that stops reading makes send() give up, not hang */
    setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    hl_send_all(fds[i], head, (size_t)hn);
    /* all of the body but its last byte: a server that reads bodies before authenticating holds
     * each of them, waiting for the rest */
    size_t sent = 0;
    while (sent < BODY - 1) {
      ssize_t w = send(fds[i], body + sent, BODY - 1 - sent, MSG_NOSIGNAL);
      if (w <= 0) break; /* closed by the server (or it stopped reading): what we want */
      sent += (size_t)w;
    }
    if (sent < BODY - 1) unread++;
  }
  gpt_sleep_ms(500);
  long after = hl_rss_kb(srv.pid);
  printf("hardening-bodies: %d unauthenticated 1 MiB PUTs: resident size %ld -> %ld KiB; %d bodies not taken in full\n",
         CLIENTS, before, after, unread);
  if (before < 0 || after < 0 || after - before > MAX_GROWTH_KB)
    gpt_fail("gpupoold's resident size grew from %ld to %ld KiB (more than %d KiB): unauthenticated bodies were read",
             before, after, MAX_GROWTH_KB);
  int not401 = 0, open = 0;
  for (int i = 0; i < CLIENTS; i++) {
    if (fds[i] < 0) continue;
    hl_reply r;
    int first = 0;
    hl_send_all(fds[i], "}", 1); /* the last byte, should anyone still wait for it */
    hl_read(fds[i], 3000, 5000, &r);
    hl_status_lines(&r, &first);
    if (first != 401) not401++;
    if (!r.eof) open++;
    if (i == 0 && !strstr(r.data ? r.data : "", "Connection: close"))
      gpt_fail("the 401 does not say Connection: close: %.300s", r.data ? r.data : "");
    hl_reply_free(&r);
    close(fds[i]);
  }
  if (not401) gpt_fail("%d of %d unauthenticated PUTs were not answered 401", not401, CLIENTS);
  if (open) gpt_fail("%d of %d connections stayed open after their 401", open, CLIENTS);

  /* A refusal of a request without a body keeps the connection: a 403 then the next request on it. */
  static const char twice[] =
      "GET /subscriptions/9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a/providers/Microsoft.ContainerService/managedClusters"
      "?api-version=2026-06-01 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN "\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  hl_reply two;
  int first = 0;
  hl_exchange(NULL, srv.port, twice, sizeof twice - 1, 1500, &two);
  if (hl_status_lines(&two, &first) != 2 || first != 403)
    gpt_fail("a 403 then /healthz on one kept-alive connection: want two answers, the first 403: %.400s",
             two.data ? two.data : "");
  hl_reply_free(&two);

  /* With the token, the same server takes the request as before. */
  gpt_response r;
  if (gpt_call(&srv, "PUT", CLUSTER API, "{\"location\":\"eastus\"}", "Authorization: Bearer " TOKEN, &r) != 201)
    gpt_fail("an authenticated PUT: %ld %s", r.status, r.body ? r.body : r.error);
  gpt_response_free(&r);
  free(body);
  hl_stop(&srv);
  return hl_result();
}
