/* planserver.c - a tiny HTTP server standing in for gpupoold's plan endpoint in the agent's fetch
 * tests (the real server is tested with it in tests/agent/test-fetch.sh). One request at a time,
 * Connection: close, and it exits on its own after 60 s so a failed test never leaves it behind.
 *
 *   planserver PORTFILE LOGFILE PLANFILE ETAG
 *
 * Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE), appends each request's head to
 * LOGFILE. GET .../agentPools/{pool}/plan?api-version=2026-10-02-preview answers by pool name:
 *   missing -> 404 with an ARM error body;  broken -> 200 with a body that is not a plan;
 *   big -> 200 with a 2 MiB body;  secure -> 401 unless "Authorization: Bearer s3cret";
 *   anything else -> 304 when If-None-Match is ETAG, else 200 with PLANFILE and ETag: ETAG.
 * A wrong api-version gets 400. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 20);
  *len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (buf) buf[*len] = '\0';
  return buf;
}

static void send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void reply(int fd, int status, const char *reason, const char *extra, const char *body, size_t len) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%sConnection: "
                   "close\r\n\r\n",
                   status, reason, len, extra ? extra : "");
  send_all(fd, head, (size_t)n);
  if (len) send_all(fd, body, len);
}

/* Value of a request header (case-insensitive name), copied into out. */
static int header(const char *req, const char *name, char *out, size_t size) {
  size_t n = strlen(name);
  for (const char *line = strstr(req, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
    const char *l = line + 2;
    if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
      l += n + 1;
      while (*l == ' ')
        l++;
      const char *end = strstr(l, "\r\n");
      size_t len = end ? (size_t)(end - l) : strlen(l);
      if (len >= size) len = size - 1;
      memcpy(out, l, len);
      out[len] = '\0';
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: planserver PORTFILE LOGFILE PLANFILE ETAG\n");
    return 2;
  }
  const char *etag = argv[4];
  size_t plan_len = 0;
  char *plan = slurp(argv[3], &plan_len);
  if (!plan) {
    perror(argv[3]);
    return 1;
  }
  alarm(60);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0 ||
      getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
    perror("planserver");
    return 1;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE *pf = fopen(tmp, "w");
  if (!pf) return 1;
  fprintf(pf, "%d\n", ntohs(a.sin_port));
  fclose(pf);
  rename(tmp, argv[1]); /* the test waits for the file: it appears complete */
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    char req[16384];
    size_t got = 0;
    while (got < sizeof req - 1) {
      ssize_t r = read(c, req + got, sizeof req - 1 - got);
      if (r <= 0) break;
      got += (size_t)r;
      req[got] = '\0';
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[got] = '\0';
    FILE *log = fopen(argv[2], "a");
    if (log) {
      fputs(req, log);
      fclose(log);
    }
    char method[16] = "", target[2048] = "";
    sscanf(req, "%15s %2047s", method, target);
    char inm[256] = "", auth[256] = "";
    header(req, "If-None-Match", inm, sizeof inm);
    header(req, "Authorization", auth, sizeof auth);
    const char *q = strchr(target, '?');
    static const char err404[] =
        "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The agent pool 'missing' was not found.\"}}";
    static const char err401[] = "{\"error\":{\"code\":\"AuthenticationFailed\",\"message\":\"Bearer token needed.\"}}";
    static const char err400[] =
        "{\"error\":{\"code\":\"NoRegisteredProviderFound\",\"message\":\"Unsupported api-version.\"}}";
    char extra[512];
    if (strcmp(method, "GET") != 0 || !q || !strstr(target, "/plan?")) {
      reply(c, 404, "Not Found", NULL, err404, sizeof err404 - 1);
    } else if (strcmp(q, "?api-version=2026-10-02-preview") != 0) {
      reply(c, 400, "Bad Request", NULL, err400, sizeof err400 - 1);
    } else if (strstr(target, "/agentPools/missing/")) {
      reply(c, 404, "Not Found", NULL, err404, sizeof err404 - 1);
    } else if (strstr(target, "/agentPools/broken/")) {
      reply(c, 200, "OK", NULL, "{\"generation\": 1, \"not\": \"a plan\"}", 34);
    } else if (strstr(target, "/agentPools/big/")) {
      size_t n = 2u << 20;
      char *big = malloc(n);
      if (big) {
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        reply(c, 200, "OK", NULL, big, n);
        free(big);
      }
    } else if (strstr(target, "/agentPools/secure/") && strcmp(auth, "Bearer s3cret") != 0) {
      reply(c, 401, "Unauthorized", NULL, err401, sizeof err401 - 1);
    } else if (*inm && strcmp(inm, etag) == 0) {
      snprintf(extra, sizeof extra, "ETag: %s\r\n", etag);
      reply(c, 304, "Not Modified", extra, NULL, 0);
    } else {
      snprintf(extra, sizeof extra, "ETag: %s\r\n", etag);
      reply(c, 200, "OK", extra, plan, plan_len);
    }
    close(c);
  }
}
