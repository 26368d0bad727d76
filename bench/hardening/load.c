/* load.c - the load bench/hardening.sh puts on gpupoold (issue 16 and the long-polls of issue 11),
 * with plain sockets and epoll (one process, no thread per connection):
 *
 *   load held PORT IDLE SLOW PATH N      opens IDLE silent connections and SLOW ones that send
 *                                        their headers a byte a second, from many loopback
 *                                        addresses, then times N GETs of PATH (a new connection
 *                                        each, from 127.0.0.1); prints "p50 p99 max" in ms
 *   load longpoll PORT POOL N            holds N long-polls of POOL's plan (waitSeconds=60,
 *                                        If-None-Match: the current generation), waits until
 *                                        gpupoold holds them all, prints "held", reads a line on
 *                                        stdin (the caller records the resident size), changes the
 *                                        pool (a PUT), and prints when each waiter got the new plan:
 *                                        "answered p50 p99 max" in ms from the PUT being sent
 *   load scrape PORT RATE SECONDS        GET /metrics RATE times a second; prints "p50 p99 max"
 *   load fill DB N                       adds N ended operations to the SQLite store DB
 *   load scan DB                         times the query each /metrics ran before (a table scan)
 *                                        and the one a refresh runs now (the status index), in ms
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int connect_from(int src_index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (src_index > 0) { /* 127.0.0.(src_index+1), so that a per-address cap sees many clients */
    a.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)src_index + (uint32_t)(src_index / 254) * 2);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      close(fd);
      return -1;
    }
  }
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(0x7f000001u);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static bool send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Complete answer in buf? Its status in *status. */
static bool whole(const char *buf, size_t len, int *status) {
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  if (!end) return false;
  size_t head = (size_t)(end - buf) + 4, body = 0;
  for (const char *p = buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : NULL)
    if (strncasecmp(p, "Content-Length:", 15) == 0) body = strtoul(p + 15, NULL, 10);
  if (status) *status = atoi(buf + 9);
  return len >= head + body;
}

/* One request on a new connection from 127.0.0.1; the answer's status (0: none), body into out. */
static char last_etag[128]; /* the ETag header of the last answer of request(), "" without one */

static int request(const char *method, const char *path, const char *extra, const char *body, char *out,
                   size_t outsize) {
  char req[4096];
  static char buf[1 << 20];
  int fd = connect_from(0), status = 0;
  if (fd < 0) return 0;
  int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\n%s%sContent-Length: %zu\r\n\r\n%s", method, path,
                   extra ? extra : "", body ? "Content-Type: application/json\r\n" : "", body ? strlen(body) : 0,
                   body ? body : "");
  size_t len = 0;
  if (send_all(fd, req, (size_t)n))
    for (;;) {
      ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
      if (r <= 0) break;
      len += (size_t)r;
      buf[len] = '\0';
      if (whole(buf, len, &status)) break;
    }
  close(fd);
  const char *head_end = strstr(buf, "\r\n\r\n"), *etag = strcasestr(buf, "\r\nETag: ");
  last_etag[0] = '\0';
  if (etag && (!head_end || etag < head_end))
    snprintf(last_etag, sizeof last_etag, "%.*s", (int)strcspn(etag + 8, "\r\n"), etag + 8);
  if (out) snprintf(out, outsize, "%s", head_end ? head_end + 4 : "");
  return status;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void print_percentiles(const char *label, double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  printf("%s%.2f %.2f %.2f\n", label, n ? v[n / 2] : -1, n ? v[(size_t)((double)n * 0.99)] : -1, n ? v[n - 1] : -1);
}

static double metric(const char *name) {
  static char body[1 << 20];
  if (request("GET", "/metrics", NULL, NULL, body, sizeof body) != 200) return -1;
  size_t n = strlen(name);
  for (const char *p = body; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, name, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
  return -1;
}

static void raise_nofile(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- held connections -------------------------------------------------------------------------- */

static int *slow;
static int nslow;
static atomic_bool stop_trickle;

static void *trickle(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_trickle)) {
    for (int i = 0; i < nslow; i++)
      if (slow[i] >= 0) send(slow[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    sleep_ms(1000);
  }
  return NULL;
}

static int held(int nidle, int nslow_, const char *path, int n) {
  int *idle = calloc((size_t)nidle, sizeof *idle);
  slow = calloc((size_t)nslow_, sizeof *slow);
  nslow = nslow_;
  int opened = 0;
  for (int i = 0; i < nidle; i++)
    if ((idle[i] = connect_from(1 + i / 500)) >= 0) opened++;
  for (int i = 0; i < nslow; i++)
    if ((slow[i] = connect_from(101 + i / 500)) >= 0 && send_all(slow[i], "GET /healthz HTTP/1.1\r\nX-Slow: ", 31))
      opened++;
  pthread_t t;
  pthread_create(&t, NULL, trickle, NULL);
  sleep_ms(1000);
  double counted = metric("gpupoold_connections");
  double *ms = calloc((size_t)n, sizeof *ms);
  int bad = 0;
  for (int i = 0; i < n; i++) {
    double t0 = now_ms();
    if (request("GET", path, NULL, NULL, NULL, 0) != 200) bad++;
    ms[i] = now_ms() - t0;
  }
  printf("opened %d counted %.0f\n", opened, counted);
  print_percentiles("", ms, (size_t)n);
  atomic_store(&stop_trickle, true);
  pthread_join(t, NULL);
  for (int i = 0; i < nidle; i++)
    if (idle[i] >= 0) close(idle[i]);
  for (int i = 0; i < nslow; i++)
    if (slow[i] >= 0) close(slow[i]);
  return bad ? 1 : 0;
}

/* ---- long-polls -------------------------------------------------------------------------------- */

typedef struct {
  int fd;
  size_t len;
  char buf[512];
  bool done;
} waiter;

static int longpoll(const char *pool, int n) {
  char path[1024], body[8192], req[2048];
  snprintf(path, sizeof path, "%s/plan?api-version=2026-08-02-preview", pool);
  if (request("GET", path, NULL, NULL, body, sizeof body) != 200) {
    fprintf(stderr, "load: no plan at %s\n", path);
    return 1;
  }
  const char *g = strstr(body, "\"generation\":");
  long gen = g ? strtol(g + 13, NULL, 10) : 0;
  /* the plan's ETag as the server gave it ("<generation>-<hex>"): what an agent sends back */
  int rl = snprintf(req, sizeof req, "GET %s&waitSeconds=60 HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n", path,
                    last_etag);
  waiter *w = calloc((size_t)n, sizeof *w);
  int ep = epoll_create1(0), opened = 0;
  for (int i = 0; i < n; i++) {
    w[i].fd = connect_from(1 + i / 500); /* 500 agents an address, under the default cap of 1024 */
    if (w[i].fd < 0 || !send_all(w[i].fd, req, (size_t)rl)) {
      w[i].done = true;
      continue;
    }
    fcntl(w[i].fd, F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, w[i].fd, &e);
    opened++;
  }
  double held_now = 0;
  for (int i = 0; i < 600 && held_now < opened; i++) {
    sleep_ms(100);
    held_now = metric("gpupoold_long_polls");
  }
  printf("held %.0f of %d\n", held_now, n);
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin)) return 1; /* the caller has measured what it wanted */
  char put[512];
  snprintf(put, sizeof put, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\",\"nodeLabels\":{\"bench\":\"%ld\"}}}",
           gen + 1);
  char pool_path[1024];
  snprintf(pool_path, sizeof pool_path, "%s?api-version=2026-08-02-preview", pool);
  double t0 = now_ms();
  int st = request("PUT", pool_path, NULL, put, NULL, 0);
  double acked = now_ms() - t0;
  double *ms = calloc((size_t)n, sizeof *ms);
  size_t got = 0, wrong = 0;
  struct epoll_event ev[1024];
  while (got + wrong < (size_t)opened && now_ms() - t0 < 70000) {
    int k = epoll_wait(ep, ev, 1024, 1000);
    for (int j = 0; j < k; j++) {
      waiter *x = &w[ev[j].data.u32];
      ssize_t r = recv(x->fd, x->buf + x->len, sizeof x->buf - 1 - x->len, 0);
      int status = 0;
      if (r > 0) x->len += (size_t)r;
      if (x->done) continue;
      if (r <= 0 || x->len == sizeof x->buf - 1 || whole(x->buf, x->len, &status)) {
        x->done = true;
        if (status == 200 || (x->len > 12 && atoi(x->buf + 9) == 200))
          ms[got++] = now_ms() - t0;
        else
          wrong++;
        epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
      }
    }
  }
  printf("put %d %.1f %zu %zu\n", st, acked, got,
         wrong); /* status, ms to its answer, waiters answered 200, otherwise */
  print_percentiles("answered ", ms, got);
  for (int i = 0; i < n; i++)
    if (w[i].fd >= 0) close(w[i].fd);
  return got == (size_t)opened ? 0 : 1;
}

/* ---- /metrics ---------------------------------------------------------------------------------- */

static int scrape(int rate, int seconds) {
  int n = rate * seconds;
  double *ms = calloc((size_t)n, sizeof *ms), start = now_ms();
  for (int i = 0; i < n; i++) {
    double due = start + (double)i * 1000.0 / rate, t = now_ms();
    if (due > t) sleep_ms((long)(due - t));
    double t0 = now_ms();
    request("GET", "/metrics", NULL, NULL, NULL, 0);
    ms[i] = now_ms() - t0;
  }
  print_percentiles("", ms, (size_t)n);
  return 0;
}

static int fill(const char *db, long n) {
  sqlite3 *s;
  if (sqlite3_open(db, &s) != SQLITE_OK) return 1;
  sqlite3_busy_timeout(s, 10000);
  sqlite3_exec(s, "BEGIN", NULL, NULL, NULL);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(s,
                     "INSERT INTO operations(id, sub, res_kind, res_key, kind, status, start_ms, end_ms, not_before_ms,"
                     " error, api_version) VALUES(?1, 'bench', 1, 'bench/pool', 'update', ?2, 1, ?3, 1, NULL,"
                     " '2026-08-02-preview')",
                     -1, &st, NULL);
  long long now = (long long)time(NULL) * 1000;
  for (long i = 0; i < n; i++) {
    char id[64];
    snprintf(id, sizeof id, "bench-%ld-%ld", (long)getpid(), i);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, i % 50 ? "Succeeded" : "Failed", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now); /* ended now: kept the 24 h retention, not purged */
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  int rc = sqlite3_exec(s, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(s);
  return rc == SQLITE_OK ? 0 : 1;
}

/* The best of 5 runs of sql on a reader connection like gpupoold's, in ms. */
static double best_of(sqlite3 *s, const char *sql) {
  double best = 1e9;
  for (int k = 0; k < 5; k++) {
    double t0 = now_ms();
    sqlite3_exec(s, sql, NULL, NULL, NULL);
    double t = now_ms() - t0;
    if (t < best) best = t;
  }
  return best;
}

/* What each scrape ran before (a scan of the table) and what a refresh runs now (the status index). */
static int scan(const char *db) {
  sqlite3 *s;
  if (sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) return 1;
  sqlite3_exec(s, "PRAGMA cache_size=-128", NULL, NULL, NULL);
  printf("%.2f %.2f\n",
         best_of(s, "SELECT status, COUNT(*) FROM operations NOT INDEXED GROUP BY status ORDER BY status"),
         best_of(s, "SELECT status, COUNT(*) FROM operations GROUP BY status ORDER BY status"));
  sqlite3_close(s);
  return 0;
}

int main(int argc, char **argv) {
  raise_nofile();
  if (argc == 7 && strcmp(argv[1], "held") == 0) {
    port = atoi(argv[2]);
    return held(atoi(argv[3]), atoi(argv[4]), argv[5], atoi(argv[6]));
  }
  if (argc == 5 && strcmp(argv[1], "longpoll") == 0) {
    port = atoi(argv[2]);
    return longpoll(argv[3], atoi(argv[4]));
  }
  if (argc == 5 && strcmp(argv[1], "scrape") == 0) {
    port = atoi(argv[2]);
    return scrape(atoi(argv[3]), atoi(argv[4]));
  }
  if (argc == 4 && strcmp(argv[1], "fill") == 0) return fill(argv[2], atol(argv[3]));
  if (argc == 3 && strcmp(argv[1], "scan") == 0) return scan(argv[2]);
  fprintf(stderr, "usage: load held PORT IDLE SLOW PATH N | longpoll PORT POOL N | scrape PORT RATE SECONDS | "
                  "fill DB N | scan DB\n");
  return 2;
}
