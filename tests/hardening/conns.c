/* conns.c - issue 16 item 1: idle and slow connections must not take gpupoold away from everyone.
 *
 * Part 1 (capacity, default flags): 1,500 connections that send nothing and 1,000 that send their headers a byte
 * at a time stay open (from other loopback addresses than the test's own client), and meanwhile a
 * normal GET and /healthz still answer at once (median under 100 ms, none over a second).
 * Part 2 (limits): with --header-timeout 2 and --idle-timeout 1, idle and slow-header connections
 * are closed after about 2 s however many bytes trickle in, a kept-alive connection that sends
 * nothing more too, while a held long-poll (waitSeconds=4) is not; --max-connections-per-ip 40 closes the 41st
 * connection of one address at once and leaves other addresses alone; the log says what limits are in effect. Usage:
 * hardening-conns --server BUILD/gpupoold */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hlib.h"
#include "testutil.h"

#define GPD_HEADER_TIMEOUT_DEFAULT_MS 10000 /* --header-timeout's default */
#define IDLE 1500
#define SLOW 1000
#define SUB "6d5c4b3a-2f1e-4d0c-9b8a-7f6e5d4c3b2a"
#define CLUSTER "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
#define POOL CLUSTER "/agentPools/gpu1"
#define API "?api-version=2026-08-02-preview"

static gpt_server srv;
static int slow_fds[SLOW];
static int nslow;
static atomic_bool slow_stop;

/* Sends one more byte of a never-ending header to every slow connection, every 300 ms. */
static void *trickle(void *arg) {
  (void)arg;
  while (!atomic_load(&slow_stop)) {
    for (int i = 0; i < nslow; i++)
      if (slow_fds[i] >= 0 && send(slow_fds[i], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) {
        close(slow_fds[i]);
        slow_fds[i] = -1;
      }
    gpt_sleep_ms(300);
  }
  return NULL;
}

/* Opens n connections from src; slow ones start a request line and a header they never finish. */
static int open_many(const char *src, int *fds, int n, bool slow) {
  int opened = 0;
  for (int i = 0; i < n; i++) {
    fds[i] = hl_connect(src, srv.port);
    if (fds[i] < 0) continue;
    opened++;
    if (slow) hl_send_all(fds[i], "GET /healthz HTTP/1.1\r\nX-Slow: ", 31);
  }
  return opened;
}

static void close_all(int *fds, int n) {
  for (int i = 0; i < n; i++)
    if (fds[i] >= 0) close(fds[i]);
}

/* Connections of fds the server has closed (or reset) by now. */
static int closed_now(const int *fds, int n) {
  int c = 0;
  for (int i = 0; i < n; i++) {
    char b;
    if (fds[i] < 0) continue;
    ssize_t got = recv(fds[i], &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) c++;
  }
  return c;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

/* Times n GETs of path from the test's own address: all must answer want; median under 100 ms. */
static void answers_at_once(const char *what, const char *path, long want) {
  long ms[10];
  for (int i = 0; i < 10; i++) {
    gpt_response r;
    int64_t t0 = gpt_now_ms();
    long st = gpt_call(&srv, "GET", path, NULL, NULL, &r);
    ms[i] = (long)(gpt_now_ms() - t0);
    if (st != want) gpt_fail("%s while connections are held: status %ld (%s), want %ld", what, st, r.error, want);
    gpt_response_free(&r);
  }
  qsort(ms, 10, sizeof ms[0], cmp_long);
  printf("hardening-conns: %s while %d idle and %d slow connections are held: median %ld ms, max %ld ms\n", what, IDLE,
         SLOW, ms[5], ms[9]);
  if (ms[5] >= 100 || ms[9] >= 1000)
    gpt_fail("%s: median %ld ms, max %ld ms (want < 100 ms, < 1 s)", what, ms[5], ms[9]);
}

static bool start(const char *bin, const char *const *args) {
  if (gpt_dir_make(&srv) && gpt_server_start(&srv, bin, args)) return true;
  gpt_fail("gpupoold did not start");
  gpt_dir_remove(&srv);
  return false;
}

static void stop(void) { hl_stop(&srv); }

static bool log_has(const char *text) {
  char line[2048];
  return hl_file_line(srv.log, text, line, sizeof line);
}

static void capacity(const char *bin) {
  static int idle[IDLE];
  if (!start(bin, NULL)) return; /* the defaults */
  gpt_response r;
  if (gpt_call(&srv, "PUT", CLUSTER API, "{\"location\":\"eastus\"}", NULL, &r) != 201)
    gpt_fail("cluster PUT: %ld %s", r.status, r.body ? r.body : r.error);
  gpt_response_free(&r);
  /* 500 per address: under the default cap of 1024 per address, as many agents would be */
  int64_t opened_at = gpt_now_ms();
  int opened = open_many("127.0.0.2", idle, 500, false) + open_many("127.0.0.3", idle + 500, 500, false) +
               open_many("127.0.0.4", idle + 1000, 500, false);
  nslow = SLOW;
  opened += open_many("127.0.0.5", slow_fds, 500, true) + open_many("127.0.0.6", slow_fds + 500, 500, true);
  if (opened != IDLE + SLOW) gpt_fail("could open only %d of %d connections", opened, IDLE + SLOW);
  pthread_t t;
  pthread_create(&t, NULL, trickle, NULL);
  gpt_sleep_ms(1000); /* accepted, and the slow ones have trickled a few bytes */
  int gone = closed_now(idle, IDLE) + closed_now(slow_fds, SLOW);
  if (gone) gpt_fail("%d of the held connections were refused or closed (the caps must fit them)", gone);
  double open_now = hl_metric(srv.base, "gpupoold_connections", NULL);
  if (open_now < IDLE + SLOW) gpt_fail("gpupoold_connections is %g, want at least %d", open_now, IDLE + SLOW);
  answers_at_once("GET /healthz", "/healthz", 200);
  answers_at_once("GET of a cluster", CLUSTER API, 200);
  if (gpt_now_ms() - opened_at >= GPD_HEADER_TIMEOUT_DEFAULT_MS - 1000)
    gpt_fail("the measurements took %lld ms: the connections may have been closed by the header timeout meanwhile",
             (long long)(gpt_now_ms() - opened_at));
  atomic_store(&slow_stop, true);
  pthread_join(t, NULL);
  close_all(idle, IDLE);
  close_all(slow_fds, SLOW);
  if (!log_has("limits: open files")) gpt_fail("the log does not say which limits are in effect");
  stop();
}

static void limits(const char *bin) {
  static const char *const args[] = {
      "--header-timeout", "2", "--idle-timeout", "1", "--max-connections-per-ip", "40", NULL};
  int idle[20], capped[45];
  if (!start(bin, args)) return;
  if (!log_has("per client address 40; request headers within 2 s; idle 1 s"))
    gpt_fail("the log does not say --max-connections-per-ip 40, --header-timeout 2 and --idle-timeout 1 are in effect");
  gpt_response r;
  gpt_call(&srv, "PUT", CLUSTER API, "{\"location\":\"eastus\"}", NULL, &r);
  gpt_response_free(&r);
  if (!gpt_wait_state(&srv, CLUSTER API, "Succeeded", 30000)) gpt_fail("the cluster did not reach Succeeded");
  if (gpt_call(&srv, "PUT", POOL API, "{\"properties\":{\"vmSize\":\"Standard_NC4as_T4_v3\"}}", NULL, &r) != 201)
    gpt_fail("pool PUT: %ld", r.status);
  gpt_response_free(&r);
  if (!gpt_wait_state(&srv, POOL API, "Succeeded", 30000)) gpt_fail("the pool did not reach Succeeded");

  /* A long-poll held longer than the header and idle timeouts is closed by neither. */
  char lp[1024], etag[96] = "";
  gpt_call(&srv, "GET", POOL "/plan" API, NULL, NULL, &r); /* the plan's ETag: the long-poll waits on it */
  if (gpt_header(&r, "ETag")) snprintf(etag, sizeof etag, "%s", gpt_header(&r, "ETag"));
  gpt_response_free(&r);
  int n = snprintf(lp, sizeof lp,
                   "GET " POOL "/plan" API "&waitSeconds=4 HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n\r\n", etag);
  int held = hl_connect("127.0.0.8", srv.port);
  hl_send_all(held, lp, (size_t)n);
  int64_t held_at = gpt_now_ms();

  /* Idle, slow and kept-alive connections are. */
  int64_t t0 = gpt_now_ms();
  open_many("127.0.0.2", idle, 20, false);
  nslow = 10;
  open_many("127.0.0.3", slow_fds, 10, true);
  int kept = hl_connect("127.0.0.4", srv.port);
  hl_send_all(kept, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 35);
  atomic_store(&slow_stop, false);
  pthread_t t;
  pthread_create(&t, NULL, trickle, NULL);

  /* The cap per address: 40 from 127.0.0.9 stay, the next ones are closed at once. */
  open_many("127.0.0.9", capped, 45, false);
  gpt_sleep_ms(500);
  int refused = closed_now(capped, 45);
  if (refused != 5)
    gpt_fail("--max-connections-per-ip 40: %d of 45 connections of one address closed, want 5", refused);
  if (gpt_call(&srv, "GET", "/healthz", NULL, NULL, &r) != 200)
    gpt_fail("another address was refused too: %ld", r.status);
  gpt_response_free(&r);

  hl_reply rep;
  hl_read_answer(held, 15000, &rep);
  long waited = (long)(gpt_now_ms() - held_at);
  int first = 0;
  if (hl_status_lines(&rep, &first) != 1 || first != 304 || waited < 3500)
    gpt_fail("a long-poll of 4 s with --header-timeout 2 --idle-timeout 1: status %d after %ld ms, want 304 after "
             "about 4 s",
             first, waited);
  hl_reply_free(&rep);

  gpt_sleep_ms(1500); /* everything above is now older than 2 s and then some */
  long took = (long)(gpt_now_ms() - t0);
  int idle_closed = closed_now(idle, 20), slow_closed = 0;
  atomic_store(&slow_stop, true);
  pthread_join(t, NULL);
  for (int i = 0; i < 10; i++)
    if (slow_fds[i] < 0) slow_closed++; /* the trickler saw it closed */
  slow_closed += closed_now(slow_fds, 10);
  hl_read(kept, 100, 2000, &rep);
  if (!rep.eof) gpt_fail("a kept-alive connection idle for %ld ms was not closed", took);
  hl_reply_free(&rep);
  if (idle_closed != 20)
    gpt_fail("%d of 20 idle connections closed after %ld ms (--header-timeout 2)", idle_closed, took);
  if (slow_closed != 10)
    gpt_fail("%d of 10 slow-header connections closed after %ld ms (--header-timeout 2)", slow_closed, took);
  /* the silent ones may go at the idle timeout first; only the header timeout ends the slow ones */
  if (hl_metric(srv.base, "gpupoold_header_timeouts_total", NULL) < 10)
    gpt_fail("gpupoold_header_timeouts_total counts fewer than the 10 slow-header connections closed");
  close_all(idle, 20);
  close_all(slow_fds, 10);
  close_all(capped, 45);
  close(kept);
  close(held);
  stop();
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-conns";
  const char *bin = hl_setup(&argc, argv);
  long files = hl_raise_nofile();
  if (files < IDLE + SLOW + 256) {
    fprintf(stderr, "hardening-conns: the open-file limit is %ld; this test needs %d (raise the hard limit)\n", files,
            IDLE + SLOW + 256);
    return 1;
  }
  capacity(bin);
  limits(bin);
  return hl_result();
}
