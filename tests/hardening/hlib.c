/* hlib.c - raw connections, replies and process figures for the hardening tests (see hlib.h). */
#include "hlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "testutil.h"

long hl_raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return (long)rl.rlim_cur;
}

int hl_connect(const char *src, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (src) {
    inet_pton(AF_INET, src, &a.sin_addr);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      close(fd);
      return -1;
    }
  }
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool hl_send_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True once data holds a whole answer. */
static bool whole_answer(const char *data, size_t len) {
  const char *end = memmem(data, len, "\r\n\r\n", 4);
  if (!end) return false;
  size_t head = (size_t)(end - data) + 4, body = 0;
  for (const char *p = data; p < end;
       p = memchr(p, '\n', (size_t)(end - p)) ? memchr(p, '\n', (size_t)(end - p)) + 1 : end)
    if (strncasecmp(p, "Content-Length:", 15) == 0) body = strtoul(p + 15, NULL, 10);
  return len >= head + body;
}

static void read_until(int fd, int quiet_ms, int total_ms, bool one_answer, hl_reply *out);

void hl_read(int fd, int quiet_ms, int total_ms, hl_reply *out) { read_until(fd, quiet_ms, total_ms, false, out); }

void hl_read_answer(int fd, int total_ms, hl_reply *out) { read_until(fd, total_ms, total_ms, true, out); }

static void read_until(int fd, int quiet_ms, int total_ms, bool one_answer, hl_reply *out) {
  memset(out, 0, sizeof *out);
  size_t cap = 4096;
  out->data = calloc(1, cap);
  int64_t end = now_ms() + total_ms;
  for (;;) {
    int64_t left = end - now_ms();
    if (left <= 0) {
      out->timed_out = true;
      break;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, (int)(left < quiet_ms ? left : quiet_ms));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      out->timed_out = true;
      break;
    }
    if (out->len + 4096 + 1 > cap) {
      cap *= 2;
      char *d = realloc(out->data, cap);
      if (!d) break;
      out->data = d;
    }
    ssize_t n = recv(fd, out->data + out->len, cap - out->len - 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out->eof = true;
      break;
    }
    out->len += (size_t)n;
    if (one_answer && whole_answer(out->data, out->len)) break;
  }
  if (out->data) out->data[out->len] = '\0';
}

void hl_reply_free(hl_reply *r) {
  free(r->data);
  memset(r, 0, sizeof *r);
}

bool hl_exchange(const char *src, int port, const char *raw, size_t len, int quiet_ms, hl_reply *out) {
  memset(out, 0, sizeof *out);
  int fd = hl_connect(src, port);
  if (fd < 0) return false;
  hl_send_all(fd, raw, len); /* the server may close before all of it went out */
  hl_read(fd, quiet_ms, 30000, out);
  close(fd);
  return true;
}

int hl_status_lines(const hl_reply *r, int *first) {
  int n = 0;
  if (first) *first = 0;
  /* anywhere, not only at line starts: a pipelined answer follows the body before it directly */
  for (size_t i = 0; r->data && i + 13 <= r->len; i++) {
    const char *p = r->data + i;
    if (strncmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1') && p[8] == ' ' && p[9] >= '1' && p[9] <= '5' &&
        p[10] >= '0' && p[10] <= '9' && p[11] >= '0' && p[11] <= '9' && p[12] == ' ') {
      if (n == 0 && first) *first = atoi(p + 9);
      n++;
    }
  }
  return n;
}

long hl_wait_closed(int fd, int timeout_ms) {
  int64_t start = now_ms(), end = start + timeout_ms;
  char buf[4096];
  for (;;) {
    int64_t left = end - now_ms();
    if (left <= 0) return -1;
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, (int)left);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return -1;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return (long)(now_ms() - start);
  }
}

long hl_rss_kb(pid_t pid) {
  char path[64], line[256];
  long kb = -1;
  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

double hl_metric(const char *base_url, const char *sample, const char *auth_header) {
  char url[512];
  const char *hdrs[] = {auth_header, NULL};
  gpt_response r;
  double v = -1;
  snprintf(url, sizeof url, "%s/metrics", base_url);
  if (gpt_http("GET", url, auth_header ? hdrs : NULL, NULL, 0, &r) && r.status == 200 && r.body) {
    size_t n = strlen(sample);
    for (const char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
      if (strncmp(p, sample, n) == 0 && p[n] == ' ') {
        v = strtod(p + n + 1, NULL);
        break;
      }
  }
  gpt_response_free(&r);
  return v;
}

bool hl_add_token(const char *path, const char *token, const char *principal, const char *role, const char *scope) {
  char cmd[512], hash[80] = "";
  snprintf(cmd, sizeof cmd, "printf %%s '%s' | sha256sum", token);
  FILE *p = popen(cmd, "r");
  if (!p) return false;
  bool got = fgets(hash, sizeof hash, p) != NULL;
  pclose(p);
  hash[strcspn(hash, " \n")] = '\0';
  FILE *f = got && strlen(hash) == 64 ? fopen(path, "a") : NULL;
  if (!f) return false;
  fprintf(f, "%s %s %s %s\n", hash, principal, role, scope);
  return fclose(f) == 0;
}

bool hl_file_line(const char *path, const char *text, char *out, size_t size) {
  FILE *f = fopen(path, "r");
  char line[4096];
  bool found = false;
  while (f && !found && fgets(line, sizeof line, f))
    if (strstr(line, text)) {
      snprintf(out, size, "%s", line);
      found = true;
    }
  if (f) fclose(f);
  return found;
}

const char *hl_setup(int *argc, char **argv) {
  const char *bin = NULL;
  gpt_store_args(argc, argv);
  for (int i = 1; i + 1 < *argc; i += 2)
    if (strcmp(argv[i], "--server") == 0) bin = argv[i + 1];
  if (!bin) {
    fprintf(stderr, "usage: %s --server BUILD/gpupoold [--pg URL]\n", gpt_test_name);
    exit(2);
  }
  gpt_client_init();
  return bin;
}

void hl_stop(gpt_server *s) {
  if (s->pid > 0 && gpt_server_stop(s) != 0) gpt_fail("gpupoold did not exit cleanly");
  if (gpt_failures) gpt_server_log_tail(s, 15);
  gpt_dir_remove(s);
}

int hl_result(void) {
  if (!gpt_failures) printf("%s: ok\n", gpt_test_name);
  return gpt_failures ? 1 : 0;
}

int hl_run(const char *const *argv, const char *out_path, int timeout_ms) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (pid < 0) return -1;
  int status = 0;
  pid_t got = 0;
  for (int waited = 0; (got = waitpid(pid, &status, WNOHANG)) == 0 && waited < timeout_ms; waited += 50)
    gpt_sleep_ms(50);
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
