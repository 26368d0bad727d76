/* fleetsim.c - a fleet of simulated node agents for gpupoold (issue 11's scale benchmark), in one
 * process: plain non-blocking sockets and one epoll loop, no thread per machine.
 *
 * Each of N machines behaves as `gpupool-agent run` does on the wire:
 *   - registers (PUT …/machines/{m}), then reports every T seconds: the same report (a heartbeat,
 *     which gpupoold coalesces), or with --change-percent X, X% of them say something new (the
 *     kubelet version toggles: a durable write). As the agent does for reports further apart than
 *     gpupoold's header timeout, the connection is closed after the answer (--report-keepalive
 *     keeps it, as the agent did before: gpupoold then holds it idle for 10 s);
 *   - long-polls its plan (GET …/machines/{m}/plan?waitSeconds=W, If-None-Match: the ETag it has) on a
 *     connection of its own, kept alive, asking again at once after each answer (304 at the
 *     deadline, or 200); --poll-machines M: only the first M machines do (an open-file limit caps
 *     how many connections one process holds; M machines waiting W s renew as often as N waiting
 *     W * N / M s); --poll-close: a new connection for every long-poll.
 * Reports are spread evenly over T and the first long-polls over W, so deadlines do not bunch up.
 * Machine i talks to the replica --port (i mod the number of ports) and connects from the loopback
 * address 127.1.(i/250).(i%250+1), so gpupoold's per-address connection cap (1024) does not bite.
 *
 * Phases: register all machines (--concurrency at a time); warm up for --warmup s; measure for
 * --duration s: report latency from the moment the report was due to its whole answer (p50, p99,
 * max), reports, failures, long-poll answers, and the CPU (utime + stime from /proc) and resident
 * size of the processes --watch-pid names (with --watch-comm NAME, also the CPU of every process so
 * named: PostgreSQL's). With --wake-body FILE, then one pool change: the file is PUT to --pool
 * (through the first port) and every machine whose long-poll was held at that moment is timed
 * until it gets the new plan (p50, p99, last, from the PUT being sent).
 * With --rollout-body FILE, then one rollout (issue 12): every machine applies a plan the moment it
 * gets it (--apply: it reports at once that generation applied, a Conformant node), the file is PUT
 * to --pool and the pool is read every 50 ms until its status.rollout says Completed (or Halted,
 * Aborted): the time from the PUT being sent, the machines moved per batch, gpupoold's CPU.
 *
 * Output: human lines, then one "RESULT key=value ..." line for bench/fleet.sh.
 * Usage: fleetsim --port P [--port P2]... --pool POOL_ID --machines N [--interval T] [--wait W]
 *                 [--change-percent X] [--warmup S] [--duration S] [--no-longpoll] [--poll-machines M]
 *                 [--concurrency C] [--poll-close] [--report-keepalive] [--watch-pid PID]...
 *                 [--watch-comm NAME] [--measure-hook CMD] [--wake-body FILE] [--apply]
 *                 [--rollout-body FILE] [--api-version V] */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 8
#define MAX_WATCH 8
#define HEAD_MAX 16384

/* ---- options ---------------------------------------------------------------------------------- */

static int ports[MAX_PORTS], nports;
static const char *pool_id, *api = "2026-10-02-preview", *wake_file, *watch_comm, *measure_hook, *rollout_file;
static long machines = 1000, concurrency = 256, poll_machines = -1;
static double interval_s = 60, warmup_s = 70, duration_s = 60, change_pct = 0;
static int wait_s = 60;
static bool longpoll = true, report_keepalive = false, poll_close = false, apply_plans = false;
static int watch_pids[MAX_WATCH], nwatch;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "fleetsim: %s\n", what);
  exit(1);
}

/* ---- latency histograms: 10 µs buckets to 100 ms, then 1 ms to 100 s ---------------------------- */

#define HB 109900
typedef struct {
  uint32_t b[HB];
  uint64_t n;
  double max_ms;
} hist;

static void hist_add(hist *h, double ms) {
  long us = (long)(ms * 1000);
  long i = us < 100000 ? us / 10 : 10000 + (us - 100000) / 1000;
  if (i >= HB) i = HB - 1;
  if (i < 0) i = 0;
  h->b[i]++;
  h->n++;
  if (ms > h->max_ms) h->max_ms = ms;
}

static double hist_pct(const hist *h, double p) {
  if (!h->n) return 0;
  uint64_t want = (uint64_t)(p * (double)h->n + 0.999999), seen = 0;
  for (long i = 0; i < HB; i++) {
    seen += h->b[i];
    if (seen >= want && seen) return i < 10000 ? (double)(i + 1) * 0.01 : 100.0 + (double)(i - 10000 + 1);
  }
  return h->max_ms;
}

/* ---- machines and connections ------------------------------------------------------------------ */

enum { C_REPORT, C_POLL, C_ADMIN };
enum { S_CONNECTING, S_SENDING, S_READING, S_IDLE };

typedef struct conn {
  int fd;
  int kind, state;
  long machine;
  char *out; /* request being sent */
  size_t out_len, out_sent;
  char *in; /* response head (and body start) */
  size_t in_len, in_cap;
  long body_left; /* -1: head not complete */
  int status;
  bool close_after;
  double started; /* when the request was due */
  double sent_at; /* when its first byte was sent (wake: held before the change?) */
  bool keep_body; /* the body is kept in body (--apply's plans, the rollout's pool reads) */
  char *body;
  size_t body_len, body_cap;
} conn;

typedef struct {
  conn *report, *poll;
  char etag[64];
  uint32_t changes; /* reports that said something new (the kubeletVersion toggles) */
  bool registered, report_busy;
  bool wake_pending; /* its long-poll was held when the pool changed: waiting for the new plan */
  bool report_again; /* --apply: a generation was applied while a report was running */
  long long applied; /* the generation it reports applied (--apply: the last plan it got) */
  uint32_t src;      /* loopback source address, host order */
} machine;

static machine *ms;
static int epfd;

/* The report as gpupool-agent run sends it for a 4 x T4 node (~1.2 KB): name, kubeletVersion. */
#define REPORT_FMT                                                                                                     \
  "{\"properties\":{\"hardware\":{\"vmSize\":\"Standard_NC64as_T4_v3\"},\"operatingSystem\":{\"osType\":\"Linux\","    \
  "\"osSKU\":\"Ubuntu\"},\"kubernetes\":{\"nodeName\":\"%s\",\"kubeletVersion\":\"%s\",\"ready\":true,"                \
  "\"unschedulable\":false},\"status\":{\"agentVersion\":\"0.1.0\",\"reportIntervalSeconds\":60,"                      \
  "\"appliedGeneration\":%lld,\"gpus\":["                                                                              \
  "{\"index\":0,\"uuid\":\"GPU-7e4a1c20-0b5d-4f3e-8a11-000000000000\",\"model\":\"T4-16GB\",\"migMode\":null,"         \
  "\"instances\":[],\"health\":\"Healthy\",\"reasons\":[]},"                                                           \
  "{\"index\":1,\"uuid\":\"GPU-7e4a1c20-0b5d-4f3e-8a11-000000000001\",\"model\":\"T4-16GB\",\"migMode\":null,"         \
  "\"instances\":[],\"health\":\"Healthy\",\"reasons\":[]},"                                                           \
  "{\"index\":2,\"uuid\":\"GPU-7e4a1c20-0b5d-4f3e-8a11-000000000002\",\"model\":\"T4-16GB\",\"migMode\":null,"         \
  "\"instances\":[],\"health\":\"Healthy\",\"reasons\":[]},"                                                           \
  "{\"index\":3,\"uuid\":\"GPU-7e4a1c20-0b5d-4f3e-8a11-000000000003\",\"model\":\"T4-16GB\",\"migMode\":null,"         \
  "\"instances\":[],\"health\":\"Healthy\",\"reasons\":[]}],"                                                          \
  "\"findings\":[],\"health\":{\"state\":\"Healthy\",\"events\":[]}}}}"

/* counters of the phase being measured */
static hist h_report, h_wake;
static uint64_t reports_ok, reports_err, reports_late, polls_200, polls_304, polls_err, changes_sent;
static uint64_t registered_n, register_err, conn_errors;
static bool measuring;
static double wake_t0;
static bool waking;
static uint64_t wake_held, wake_answered;
static char *wake_body;
static conn *admin;
static int admin_status;

static void machine_name(long i, char *out, size_t size) { snprintf(out, size, "sim-%06ld", i); }

static uint32_t source_of(long i) {
  return (127u << 24) | (1u << 16) | ((uint32_t)(i / 250) << 8) | (uint32_t)(i % 250 + 1);
}

static void ep_set(conn *c, uint32_t events, int op) {
  struct epoll_event e = {.events = events, .data.ptr = c};
  if (epoll_ctl(epfd, op, c->fd, &e) != 0 && op == EPOLL_CTL_MOD) epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e);
}

static void conn_close(conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  free(c->out);
  free(c->in);
  c->out = c->in = NULL;
  c->in_len = c->in_cap = 0;
}

static void body_add(conn *c, const char *p, size_t n) {
  if (!c->keep_body || !n) return;
  if (c->body_cap - c->body_len < n + 1) {
    size_t cap = c->body_cap ? c->body_cap : 4096;
    while (cap - c->body_len < n + 1)
      cap *= 2;
    char *b = realloc(c->body, cap);
    if (!b) die("out of memory");
    c->body = b;
    c->body_cap = cap;
  }
  memcpy(c->body + c->body_len, p, n);
  c->body_len += n;
  c->body[c->body_len] = '\0';
}

static bool conn_open(conn *c, int port, uint32_t src) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (src) {
    setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    a.sin_addr.s_addr = htonl(src);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      close(fd);
      return false;
    }
  }
  a.sin_addr.s_addr = htonl(0x7f000001u);
  a.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
    close(fd);
    return false;
  }
  c->fd = fd;
  c->state = S_CONNECTING;
  ep_set(c, EPOLLOUT, EPOLL_CTL_ADD);
  return true;
}

/* Sends (or queues, while connecting) a request on c, opening a connection when it has none. */
static void conn_request(conn *c, char *req, size_t len, double due, int port, uint32_t src) {
  free(c->out);
  c->out = req;
  c->out_len = len;
  c->out_sent = 0;
  c->in_len = 0;
  c->body_left = -1;
  c->status = 0;
  c->close_after = false;
  c->body_len = 0;
  c->started = due;
  c->sent_at = 0;
  if (c->fd < 0) {
    if (!conn_open(c, port, src)) {
      conn_errors++;
      c->state = S_IDLE;
      return;
    }
    return; /* sent once connected */
  }
  c->state = S_SENDING;
  ep_set(c, EPOLLOUT, EPOLL_CTL_MOD);
}

static int port_of(long i) { return ports[i % nports]; }

static char *fmt(size_t *len, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(size_t *len, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = NULL;
  int n = vasprintf(&s, f, ap);
  va_end(ap);
  if (n < 0) die("out of memory");
  *len = (size_t)n;
  return s;
}

static void start_report(long i, double due) {
  machine *m = &ms[i];
  char name[32], body[4096];
  machine_name(i, name, sizeof name);
  /* a report that says something new toggles the kubelet version (a durable write); the others
   * repeat the last one (a heartbeat) */
  if (m->registered && change_pct > 0) {
    uint64_t h = (uint64_t)i * 0x9e3779b97f4a7c15ull ^ (uint64_t)(due * 1000) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    if ((double)(h % 10000) < change_pct * 100) {
      m->changes++;
      if (measuring) changes_sent++;
    }
  }
  int blen = snprintf(body, sizeof body, REPORT_FMT, name, (m->changes & 1) ? "v1.35.1" : "v1.35.0", m->applied);
  size_t len;
  char *req = fmt(&len,
                  "PUT %s/machines/%s?api-version=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fleetsim\r\n"
                  "Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s",
                  pool_id, name, api, blen, report_keepalive ? "" : "Connection: close\r\n", body);
  m->report_busy = true;
  conn_request(m->report, req, len, due, port_of(i), m->src);
}

static void start_poll(long i, double due) {
  machine *m = &ms[i];
  char name[32];
  machine_name(i, name, sizeof name);
  size_t len;
  char *req;
  if (m->etag[0])
    req = fmt(&len,
              "GET %s/machines/%s/plan?api-version=%s&waitSeconds=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "User-Agent: fleetsim\r\nIf-None-Match: %s\r\n%s\r\n",
              pool_id, name, api, wait_s, m->etag, poll_close ? "Connection: close\r\n" : "");
  else
    req = fmt(&len,
              "GET %s/machines/%s/plan?api-version=%s&waitSeconds=%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "User-Agent: fleetsim\r\n%s\r\n",
              pool_id, name, api, wait_s, poll_close ? "Connection: close\r\n" : "");
  conn_request(m->poll, req, len, due, port_of(i), m->src);
}

/* ---- answers ------------------------------------------------------------------------------------ */

static bool head_value(const char *head, const char *name, char *out, size_t size) {
  size_t n = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2;
    if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ')
        v++;
      size_t len = strcspn(v, "\r\n");
      if (len >= size) len = size - 1;
      memcpy(out, v, len);
      out[len] = '\0';
      return true;
    }
  }
  return false;
}

static void answered(conn *c, double now);

/* Reads what is there; a complete answer calls answered(). EOF or an error closes the connection. */
static void conn_read(conn *c, double now) {
  for (;;) {
    if (c->in_cap - c->in_len < 4096) {
      size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
      char *p = realloc(c->in, cap);
      if (!p) die("out of memory");
      c->in = p;
      c->in_cap = cap;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { /* closed: an idle kept-alive connection the server ended, or a failure */
      bool idle = c->state == S_IDLE;
      conn_close(c);
      if (!idle) {
        c->status = 0;
        answered(c, now);
      }
      return;
    }
    if (c->state == S_IDLE) { /* bytes on an idle connection: nothing is expected; drop them */
      c->in_len = 0;
      continue;
    }
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    if (c->body_left < 0) {
      char *end = strstr(c->in, "\r\n\r\n");
      if (!end) {
        if (c->in_len > HEAD_MAX) {
          conn_close(c);
          c->status = 0;
          answered(c, now);
          return;
        }
        continue;
      }
      *end = '\0';
      c->status = (int)strtol(c->in + 9, NULL, 10);
      char v[64];
      long cl = head_value(c->in, "Content-Length", v, sizeof v) ? strtol(v, NULL, 10) : 0;
      c->close_after = head_value(c->in, "Connection", v, sizeof v) && strcasecmp(v, "close") == 0;
      if (c->kind == C_POLL && head_value(c->in, "ETag", v, sizeof v) && (c->status == 200 || c->status == 304))
        snprintf(ms[c->machine].etag, sizeof ms[c->machine].etag, "%s", v);
      size_t head = (size_t)(end - c->in) + 4;
      c->body_left = cl - (long)(c->in_len - head);
      body_add(c, c->in + head, c->in_len - head);
      c->in_len = 0;
    } else {
      body_add(c, c->in, (size_t)n);
      c->body_left -= n;
      c->in_len = 0;
    }
    if (c->body_left <= 0) {
      c->state = S_IDLE;
      free(c->in);
      c->in = NULL;
      c->in_cap = 0;
      if (c->close_after) conn_close(c);
      answered(c, now);
      return;
    }
  }
}

/* The number after "KEY": in a JSON text (-1 when absent): enough for the plan's generation and the
 * rollout's counts, without a JSON library in the simulator. */
static const char *json_value(const char *text, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = text ? strstr(text, pat) : NULL;
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ' || *p == ':')
    p++;
  return p;
}
static long long json_number(const char *text, const char *key) {
  const char *p = json_value(text, key);
  return p && (isdigit((unsigned char)*p) || *p == '-') ? strtoll(p, NULL, 10) : -1;
}
/* The string value of KEY into out ("" when absent). */
static void json_text(const char *text, const char *key, char *out, size_t size) {
  const char *p = json_value(text, key);
  out[0] = '\0';
  if (!p || *p != '"') return;
  size_t n = strcspn(p + 1, "\"");
  if (n >= size) n = size - 1;
  memcpy(out, p + 1, n);
  out[n] = '\0';
}

static void answered(conn *c, double now) {
  if (c->kind == C_ADMIN) {
    admin_status = c->status;
    conn_close(c);
    return;
  }
  machine *m = &ms[c->machine];
  double ms_taken = (now - c->started) * 1000;
  if (c->kind == C_REPORT) {
    m->report_busy = false;
    if (m->report_again) { /* the generation applied meanwhile, said at once */
      m->report_again = false;
      start_report(c->machine, now);
    }
    bool ok = c->status == 200 || c->status == 201;
    if (!m->registered) {
      if (ok) {
        m->registered = true;
        registered_n++;
      } else {
        register_err++;
      }
      return;
    }
    if (!measuring) return;
    if (ok) {
      reports_ok++;
      hist_add(&h_report, ms_taken);
    } else {
      reports_err++;
    }
    return;
  }
  /* a long-poll: ask again at once (after a failure, a second later) */
  bool ok = c->status == 200 || c->status == 304;
  if (measuring) {
    if (c->status == 200) polls_200++;
    if (c->status == 304) polls_304++;
    if (!ok) polls_err++;
  }
  /* the new plan, for a machine held at the change (its answer, or that of the long-poll it sent
   * after a 304 that crossed the change) */
  if (waking && c->status == 200 && m->wake_pending) {
    m->wake_pending = false;
    wake_answered++;
    hist_add(&h_wake, (now - wake_t0) * 1000);
  }
  /* --apply: the node applies what it gets at once and says so (a Conformant node at the plan's
   * generation), as a fleet of agents with nothing to change would */
  long long g = apply_plans && c->status == 200 ? json_number(c->body, "generation") : -1;
  if (g > 0 && g != m->applied) {
    m->applied = g;
    if (m->report_busy)
      m->report_again = true;
    else if (m->registered)
      start_report(c->machine, now);
  }
  c->state = S_IDLE;
  if (ok)
    start_poll(c->machine, now);
  else
    c->started = -(now + 1.0); /* retried by the loop */
}

static void conn_write(conn *c, double now) {
  if (c->state == S_CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      conn_errors++;
      conn_close(c);
      c->status = 0;
      answered(c, now);
      return;
    }
    c->state = S_SENDING;
  }
  while (c->out_sent < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      conn_close(c);
      c->status = 0;
      answered(c, now);
      return;
    }
    if (!c->sent_at) c->sent_at = now;
    c->out_sent += (size_t)n;
  }
  free(c->out);
  c->out = NULL;
  c->state = S_READING;
  ep_set(c, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

/* ---- /proc --------------------------------------------------------------------------------------- */

typedef struct {
  double cpu_s; /* utime + stime */
  double rss_mb;
} proc_use;

static bool proc_read(int pid, proc_use *u) {
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p) return false;
  unsigned long ut = 0, st = 0;
  long rss = 0;
  /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ... rss is field 24 */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld", &ut, &st,
             &rss) != 3)
    return false;
  double tick = (double)sysconf(_SC_CLK_TCK);
  u->cpu_s = (double)(ut + st) / tick;
  u->rss_mb = (double)rss * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
  return true;
}

static bool comm_is(int pid, const char *name) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  bool same = fgets(buf, sizeof buf, f) && strncmp(buf, name, strlen(name)) == 0 && buf[strlen(name)] == '\n';
  fclose(f);
  return same;
}

/* CPU seconds and resident MB of every watched pid, and the sum over processes named watch_comm. */
static void sample(proc_use *per, proc_use *comm_total, int *ncomm) {
  for (int i = 0; i < nwatch; i++)
    if (!proc_read(watch_pids[i], &per[i])) per[i] = (proc_use){0, 0};
  *comm_total = (proc_use){0, 0};
  *ncomm = 0;
  if (!watch_comm) return;
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    int pid = atoi(e->d_name);
    proc_use u;
    if (comm_is(pid, watch_comm) && proc_read(pid, &u)) {
      comm_total->cpu_s += u.cpu_s;
      comm_total->rss_mb += u.rss_mb;
      (*ncomm)++;
    }
  }
  if (d) closedir(d);
}

/* ---- the loop ------------------------------------------------------------------------------------- */

static bool poll_held(long i) {
  return ms[i].poll->fd >= 0 && ms[i].poll->state == S_READING && ms[i].poll->sent_at > 0;
}

static size_t held_polls(void) {
  size_t n = 0;
  for (long i = 0; i < machines; i++)
    n += poll_held(i);
  return n;
}

static void loop_until(double until, void (*tick)(double now)) {
  struct epoll_event ev[1024];
  for (;;) {
    double now = now_s();
    if (now >= until) return;
    tick(now);
    double wait = until - now;
    if (wait > 0.005) wait = 0.005;
    int n = epoll_wait(epfd, ev, 1024, (int)(wait * 1000));
    now = now_s();
    for (int k = 0; k < n; k++) {
      conn *c = ev[k].data.ptr;
      if (c->fd < 0) continue;
      if (ev[k].events & EPOLLOUT)
        conn_write(c, now);
      else
        conn_read(c, now);
    }
  }
}

/* registration: every machine PUTs its first report, at most `concurrency` at a time */
static long reg_next, reg_inflight_cap;
static void tick_register(double now) {
  long inflight = 0;
  (void)inflight;
  while (reg_next < machines && (long)(reg_next - (long)(registered_n + register_err)) < reg_inflight_cap) {
    start_report(reg_next, now);
    reg_next++;
  }
}

/* steady state: the report schedule (machine s % N due at t0 + (s / N + (s % N) / N) * T) and the
 * first long-polls (machine i at t0 + i * W / N); failed polls retried a second later */
static double t0;
static uint64_t rep_seq;
static long poll_next;
static void tick_steady(double now) {
  for (;;) {
    long i = (long)(rep_seq % (uint64_t)machines);
    double due = t0 + ((double)(rep_seq / (uint64_t)machines) + (double)i / (double)machines) * interval_s;
    if (due > now) break;
    if (ms[i].report_busy) {
      if (measuring) reports_late++;
    } else {
      start_report(i, due);
    }
    rep_seq++;
  }
  while (longpoll && poll_next < poll_machines && t0 + (double)poll_next * wait_s / (double)poll_machines <= now) {
    start_poll(poll_next, now);
    poll_next++;
  }
  static double next_retry;
  if (longpoll && now >= next_retry) {
    next_retry = now + 0.2;
    for (long i = 0; i < poll_next; i++) {
      conn *c = ms[i].poll;
      if (c->state == S_IDLE && c->started < 0 && -c->started <= now) start_poll(i, now);
    }
  }
  if (admin && admin->fd < 0 && admin_status == 0 && admin->out) {
    /* the wake PUT failed to connect */
  }
}

static const char usage_text[] =
    "usage: fleetsim --port P [--port P2]... --pool POOL_ID --machines N [--interval T] [--wait W]\n"
    "                [--change-percent X] [--warmup S] [--duration S] [--no-longpoll] [--poll-machines M]\n"
    "                [--concurrency C] [--poll-close] [--report-keepalive]\n"
    "                [--watch-pid PID]... [--watch-comm NAME] [--measure-hook CMD] [--wake-body FILE]\n"
    "                [--apply] [--rollout-body FILE] [--api-version V]\n"
    "Simulated node agents against gpupoold; what each option does is said at the top of\n"
    "bench/fleet/fleetsim.c, and bench/fleet.sh shows it used.\n";

static void print_usage(const char *what) {
  fprintf(stderr, "fleetsim: %s\n%s", what, usage_text);
  exit(2);
}

/* --measure-hook CMD: runs "CMD start" right before the measured window and "CMD end" right after
 * (bench/fleet.sh reads PostgreSQL's transaction counters there). */
static void run_hook(const char *when) {
  if (!measure_hook) return;
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s %s", measure_hook, when);
  if (system(cmd) != 0) fprintf(stderr, "fleetsim: '%s' failed\n", cmd);
}

/* One request of the benchmark itself (the pool PUT, the pool reads) on the admin connection, the
 * fleet going on meanwhile. Returns the HTTP status (0: no answer within timeout s); the body is in
 * admin->body. */
static int admin_request(const char *method, const char *body, double timeout) {
  if (!admin) {
    admin = calloc(1, sizeof *admin);
    if (!admin) die("out of memory");
    admin->fd = -1;
    admin->kind = C_ADMIN;
  }
  admin->keep_body = true;
  admin_status = -1;
  size_t len;
  char *req = body ? fmt(&len,
                         "%s %s?api-version=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         method, pool_id, api, strlen(body), body)
                   : fmt(&len, "%s %s?api-version=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", method,
                         pool_id, api);
  double deadline = now_s() + timeout;
  conn_request(admin, req, len, now_s(), ports[0], 0);
  while (admin_status < 0 && now_s() < deadline)
    loop_until(now_s() + 0.01, tick_steady);
  if (admin_status < 0) {
    conn_close(admin);
    admin_status = 0;
  }
  return admin_status;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *s = malloc(1 << 20);
  size_t n = s ? fread(s, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (s) s[n] = '\0';
  return s;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (strcmp(a, "--no-longpoll") == 0) {
      longpoll = false;
      continue;
    }
    if (strcmp(a, "--poll-close") == 0) {
      poll_close = true;
      continue;
    }
    if (strcmp(a, "--report-keepalive") == 0) {
      report_keepalive = true;
      continue;
    }
    if (strcmp(a, "--apply") == 0) {
      apply_plans = true;
      continue;
    }
    if (!v) print_usage("an option needs a value");
    i++;
    if (strcmp(a, "--port") == 0 && nports < MAX_PORTS)
      ports[nports++] = atoi(v);
    else if (strcmp(a, "--pool") == 0)
      pool_id = v;
    else if (strcmp(a, "--machines") == 0)
      machines = atol(v);
    else if (strcmp(a, "--poll-machines") == 0)
      poll_machines = atol(v);
    else if (strcmp(a, "--interval") == 0)
      interval_s = atof(v);
    else if (strcmp(a, "--wait") == 0)
      wait_s = atoi(v);
    else if (strcmp(a, "--change-percent") == 0)
      change_pct = atof(v);
    else if (strcmp(a, "--warmup") == 0)
      warmup_s = atof(v);
    else if (strcmp(a, "--duration") == 0)
      duration_s = atof(v);
    else if (strcmp(a, "--concurrency") == 0)
      concurrency = atol(v);
    else if (strcmp(a, "--watch-pid") == 0 && nwatch < MAX_WATCH)
      watch_pids[nwatch++] = atoi(v);
    else if (strcmp(a, "--watch-comm") == 0)
      watch_comm = v;
    else if (strcmp(a, "--measure-hook") == 0)
      measure_hook = v;
    else if (strcmp(a, "--wake-body") == 0)
      wake_file = v;
    else if (strcmp(a, "--api-version") == 0)
      api = v;
    else if (strcmp(a, "--rollout-body") == 0)
      rollout_file = v, apply_plans = true;
    else
      print_usage(a);
  }
  if (!nports || !pool_id || machines < 1 || machines > 1000000 || interval_s <= 0 || wait_s < 1 || wait_s > 60)
    print_usage("--port, --pool and --machines (1-1000000) are needed; --wait is 1-60");
  if (wake_file && !(wake_body = read_file(wake_file))) die("cannot read --wake-body");
  char *rollout_body = NULL;
  if (rollout_file && !(rollout_body = read_file(rollout_file))) die("cannot read --rollout-body");
  if (poll_machines < 0 || poll_machines > machines) poll_machines = machines;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if ((double)rl.rlim_cur < 2.2 * (double)machines + 64)
    fprintf(stderr, "fleetsim: warning: %llu open files allowed for %ld machines (2 each)\n",
            (unsigned long long)rl.rlim_cur, machines);
  if (!(epfd = epoll_create1(EPOLL_CLOEXEC))) die("epoll");
  ms = calloc((size_t)machines, sizeof *ms);
  conn *conns = calloc((size_t)machines * 2 + 1, sizeof *conns);
  if (!ms || !conns) die("out of memory");
  for (long i = 0; i < machines; i++) {
    ms[i].report = &conns[2 * i];
    ms[i].poll = &conns[2 * i + 1];
    ms[i].report->fd = ms[i].poll->fd = -1;
    ms[i].report->kind = C_REPORT;
    ms[i].poll->kind = C_POLL;
    ms[i].report->machine = ms[i].poll->machine = i;
    ms[i].poll->keep_body = apply_plans;
    ms[i].applied = 1; /* the pool's first generation, as bench/fleet.sh makes it */
    ms[i].report->state = ms[i].poll->state = S_IDLE;
    ms[i].src = source_of(i);
  }

  /* 1. registration */
  double t = now_s();
  reg_inflight_cap = concurrency;
  while (registered_n + register_err < (uint64_t)machines) {
    loop_until(now_s() + 1, tick_register);
    if (now_s() - t > 3600) die("registration takes over an hour");
  }
  double reg_s = now_s() - t;
  printf("register: %ld machines in %.1f s (%.0f/s), %llu refused\n", machines, reg_s, (double)machines / reg_s,
         (unsigned long long)register_err);
  fflush(stdout);

  /* 2. warm-up: reports on their schedule, long-polls started over the first W seconds */
  t0 = now_s();
  loop_until(t0 + warmup_s, tick_steady);
  printf("warm-up: %.0f s, %zu long-polls held\n", warmup_s, held_polls());
  fflush(stdout);

  /* 3. measure */
  proc_use before[MAX_WATCH], after[MAX_WATCH], cb, ca;
  int nb, na;
  run_hook("start");
  sample(before, &cb, &nb);
  double m0 = now_s();
  measuring = true;
  loop_until(m0 + duration_s, tick_steady);
  measuring = false;
  double m1 = now_s();
  sample(after, &ca, &na);
  run_hook("end");
  double span = m1 - m0;
  printf("measured %.1f s: %llu reports (%.0f/s; %llu said something new), p50 %.2f ms, p99 %.2f ms, max %.2f ms; "
         "%llu failed, %llu still running when due again\n",
         span, (unsigned long long)reports_ok, (double)reports_ok / span, (unsigned long long)changes_sent,
         hist_pct(&h_report, 0.5), hist_pct(&h_report, 0.99), h_report.max_ms, (unsigned long long)reports_err,
         (unsigned long long)reports_late);
  printf("long-polls: %llu answered 304 at their deadline, %llu 200, %llu failed; %zu held now\n",
         (unsigned long long)polls_304, (unsigned long long)polls_200, (unsigned long long)polls_err, held_polls());
  char res[4096];
  int rl_ =
      snprintf(res, sizeof res,
               "RESULT machines=%ld interval=%.0f seconds=%.1f reports=%llu rate=%.1f changed=%llu p50=%.2f "
               "p99=%.2f max=%.2f failed=%llu late=%llu polls304=%llu polls200=%llu pollsfailed=%llu "
               "connerrors=%llu",
               machines, interval_s, span, (unsigned long long)reports_ok, (double)reports_ok / span,
               (unsigned long long)changes_sent, hist_pct(&h_report, 0.5), hist_pct(&h_report, 0.99), h_report.max_ms,
               (unsigned long long)reports_err, (unsigned long long)reports_late, (unsigned long long)polls_304,
               (unsigned long long)polls_200, (unsigned long long)polls_err, (unsigned long long)conn_errors);
  for (int i = 0; i < nwatch; i++) {
    double cores = (after[i].cpu_s - before[i].cpu_s) / span;
    printf("pid %d: %.3f cores (%.0f µs of CPU per report), resident %.1f MB\n", watch_pids[i], cores,
           reports_ok ? cores * span * 1e6 / (double)reports_ok : 0, after[i].rss_mb);
    rl_ += snprintf(res + rl_, sizeof res - (size_t)rl_, " cores%d=%.3f rss%d=%.1f", i, cores, i, after[i].rss_mb);
  }
  if (watch_comm) {
    double cores = (ca.cpu_s - cb.cpu_s) / span;
    printf("%s (%d processes): %.3f cores\n", watch_comm, na, cores);
    rl_ += snprintf(res + rl_, sizeof res - (size_t)rl_, " commcores=%.3f commprocs=%d", cores, na);
  }
  fflush(stdout);

  /* 4. one pool change wakes every held long-poll */
  if (wake_body) {
    size_t held = 0;
    for (long i = 0; i < machines; i++)
      held += (ms[i].wake_pending = poll_held(i));
    proc_use w[MAX_WATCH], wc;
    int nw;
    sample(w, &wc, &nw);
    char *req;
    size_t len;
    req = fmt(&len,
              "PUT %s?api-version=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
              pool_id, api, strlen(wake_body), wake_body);
    admin = calloc(1, sizeof *admin);
    if (!admin) die("out of memory");
    admin->fd = -1;
    admin->kind = C_ADMIN;
    wake_held = held;
    waking = true;
    wake_t0 = now_s();
    conn_request(admin, req, len, wake_t0, ports[0], 0);
    double deadline = wake_t0 + 30;
    while (now_s() < deadline && wake_answered < wake_held)
      loop_until(now_s() + 0.1, tick_steady);
    waking = false;
    printf("wake: %zu long-polls held (resident %.1f MB); one pool change (PUT answered %d) answered %llu of them "
           "with the new plan: p50 %.2f ms, p99 %.2f ms, last %.2f ms from the PUT being sent\n",
           held, nwatch ? w[0].rss_mb : 0.0, admin_status, (unsigned long long)wake_answered, hist_pct(&h_wake, 0.5),
           hist_pct(&h_wake, 0.99), h_wake.max_ms);
    rl_ += snprintf(res + rl_, sizeof res - (size_t)rl_,
                    " wakeheld=%zu wakeanswered=%llu wakep50=%.2f wakep99=%.2f wakemax=%.2f wakerss=%.1f putstatus=%d",
                    held, (unsigned long long)wake_answered, hist_pct(&h_wake, 0.5), hist_pct(&h_wake, 0.99),
                    h_wake.max_ms, nwatch ? w[0].rss_mb : 0.0, admin_status);
  }
  /* 5. one rollout: the PUT, then the pool read every 50 ms until the rollout ends */
  if (rollout_body) {
    proc_use r0[MAX_WATCH], r1[MAX_WATCH], rc0, rc1;
    int nr;
    sample(r0, &rc0, &nr);
    double start = now_s();
    int put = admin_request("PUT", rollout_body, 60);
    double put_s = now_s() - start;
    char state[32] = "";
    long long updated = -1, seen_updated = -1, to = -1;
    int steps = 0;
    double end = 0;
    if (put != 200 && put != 201) {
      printf("rollout: the PUT was answered %d: %.300s\n", put, admin->body ? admin->body : "");
    } else {
      double deadline = start + 1800;
      while (now_s() < deadline) {
        double next = now_s() + 0.05;
        if (admin_request("GET", NULL, 30) == 200 && admin->body) {
          const char *ro = strstr(admin->body, "\"rollout\"");
          json_text(ro, "state", state, sizeof state);
          updated = json_number(ro, "updated");
          to = json_number(ro, "toGeneration");
          if (updated != seen_updated) { /* a batch reported: when, and how many machines are done */
            printf("rollout: %.2f s: %s, %lld updated, %lld pending\n", now_s() - start, state, updated,
                   json_number(ro, "pending"));
            seen_updated = updated;
            steps++;
          }
          if ((!strcmp(state, "Completed") && updated == machines) || !strcmp(state, "Halted") ||
              !strcmp(state, "Aborted")) {
            end = now_s();
            break;
          }
        }
        if (next > now_s()) loop_until(next, tick_steady);
      }
    }
    sample(r1, &rc1, &nr);
    double took = end ? end - start : 0;
    printf("rollout: PUT answered %d in %.3f s; state %s (generation %lld), %lld of %ld machines updated, %.2f s from "
           "the PUT being sent; %d changes of the updated count seen\n",
           put, put_s, state[0] ? state : "?", to, updated, machines, took, steps);
    rl_ += snprintf(res + rl_, sizeof res - (size_t)rl_,
                    " rolloutput=%d rolloutstate=%s rolloutupdated=%lld rolloutseconds=%.2f rolloutsteps=%d", put,
                    state[0] ? state : "none", updated, took, steps);
    for (int i = 0; i < nwatch; i++) {
      double cpu = r1[i].cpu_s - r0[i].cpu_s, span_r = now_s() - start;
      printf("pid %d during the rollout: %.2f s of CPU (%.3f cores)\n", watch_pids[i], cpu, cpu / span_r);
      rl_ += snprintf(res + rl_, sizeof res - (size_t)rl_, " rolloutcpu%d=%.2f", i, cpu);
    }
  }
  printf("%s\n", res);
  fflush(stdout);
  return 0;
}
