/* harness.c - starting and stopping gpupoold for the HTTP tests (see harness.h). */
#include "harness.h"
#include "store_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRACKED 8
static pid_t tracked[MAX_TRACKED];
static bool hooks_installed;

static void kill_tracked(void) {
  for (int i = 0; i < MAX_TRACKED; i++)
    if (tracked[i] > 0) {
      kill(tracked[i], SIGKILL);
      waitpid(tracked[i], NULL, 0);
      tracked[i] = 0;
    }
}

static void on_signal(int sig) {
  kill_tracked();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void track(pid_t pid, bool add) {
  if (!hooks_installed) {
    atexit(kill_tracked);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    hooks_installed = true;
  }
  for (int i = 0; i < MAX_TRACKED; i++) {
    if (add && tracked[i] == 0) {
      tracked[i] = pid;
      return;
    }
    if (!add && tracked[i] == pid) {
      tracked[i] = 0;
      return;
    }
  }
}

static const char *pg_url; /* --pg */

void gpt_store_args(int *argc, char **argv) {
  int out = 1;
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--pg") == 0 && i + 1 < *argc) {
      pg_url = argv[++i];
      continue;
    }
    argv[out++] = argv[i];
  }
  argv[out] = NULL;
  *argc = out;
}

bool gpt_store_is_pg(void) { return pg_url != NULL; }
const char *gpt_store_kind(void) { return pg_url ? "postgresql" : "sqlite"; }

static bool make_dir(gpt_server *s) {
  const char *tmp = getenv("TMPDIR");
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s/gpupoold-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(s->dir)) {
    fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
    return false;
  }
  snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
  return true;
}

bool gpt_dir_make(gpt_server *s) {
  static int made;
  if (!make_dir(s)) return false;
  if (!pg_url) {
    snprintf(s->db, sizeof s->db, "sqlite:%s/gpupool.db", s->dir);
    return true;
  }
  snprintf(s->pg_name, sizeof s->pg_name, "gpt_%ld_%d", (long)getpid(), made++);
  snprintf(s->db, sizeof s->db, "%s/%s", pg_url, s->pg_name);
  if (!gpt_pg_create_database(pg_url, s->pg_name)) {
    s->pg_name[0] = '\0';
    gpt_dir_remove(s);
    return false;
  }
  return true;
}

bool gpt_dir_make_shared(gpt_server *s, const gpt_server *other) {
  if (!make_dir(s)) return false;
  snprintf(s->db, sizeof s->db, "%s", other->db);
  return true;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void gpt_dir_remove(gpt_server *s) {
  if (s->dir[0]) nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (s->pg_name[0]) gpt_pg_drop_database(pg_url, s->pg_name);
  s->dir[0] = s->pg_name[0] = '\0';
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool gpt_server_start(gpt_server *s, const char *bin, const char *const *args) {
  int out[2];
  const char *argv[64];
  int argc = 0;
  argv[argc++] = bin;
  argv[argc++] = "--listen";
  argv[argc++] = "127.0.0.1:0";
  argv[argc++] = "--db";
  argv[argc++] = s->db;
  for (int i = 0; args && args[i] && argc < 62; i++)
    argv[argc++] = args[i];
  argv[argc] = NULL;
  if (pipe2(out, O_CLOEXEC) != 0) return false;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out[1], 1);
    if (logfd >= 0) dup2(logfd, 2);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(out[1]);
  s->pid = pid;
  track(pid, true);
  /* The server prints "gpupoold listening on http://127.0.0.1:PORT" once it accepts connections. */
  char line[256];
  size_t used = 0;
  int64_t deadline = now_ms() + GPT_START_TIMEOUT_MS;
  s->port = 0;
  while (!s->port && now_ms() < deadline) {
    struct pollfd p = {out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(out[0], line + used, sizeof line - 1 - used);
    if (n <= 0) break;
    used += (size_t)n;
    line[used] = '\0';
    char *nl = strchr(line, '\n'), *colon;
    if (nl && (colon = strrchr(line, ':'))) s->port = atoi(colon + 1);
    if (used == sizeof line - 1) break;
  }
  close(out[0]);
  if (!s->port) {
    fprintf(stderr, "harness: %s did not start\n", bin);
    gpt_server_log_tail(s, 20);
    gpt_server_kill(s);
    return false;
  }
  /* the URL as printed: https:// when the server was given --tls-cert */
  const char *url = strstr(line, "listening on ");
  if (url && strncmp(url + 13, "https://", 8) == 0)
    snprintf(s->base, sizeof s->base, "https://127.0.0.1:%d", s->port);
  else
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
  return true;
}

int gpt_server_stop(gpt_server *s) {
  int status = 0;
  if (s->pid <= 0) return -1;
  kill(s->pid, SIGTERM);
  int64_t deadline = now_ms() + 30000;
  pid_t got;
  while ((got = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
    usleep(10000);
  if (got == 0) { /* did not stop: that is a failure too */
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    track(s->pid, false);
    s->pid = 0;
    return -1;
  }
  track(s->pid, false);
  s->pid = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void gpt_server_kill(gpt_server *s) {
  if (s->pid <= 0) return;
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  track(s->pid, false);
  s->pid = 0;
}

void gpt_server_log_tail(const gpt_server *s, int lines) {
  FILE *f = fopen(s->log, "r");
  if (!f) return;
  char **ring = calloc((size_t)lines, sizeof *ring);
  char buf[2048];
  int n = 0;
  while (ring && fgets(buf, sizeof buf, f)) {
    free(ring[n % lines]);
    ring[n % lines] = strdup(buf);
    n++;
  }
  fclose(f);
  fprintf(stderr, "---- last lines of %s\n", s->log);
  for (int i = n > lines ? n - lines : 0; ring && i < n; i++)
    fputs(ring[i % lines] ? ring[i % lines] : "", stderr);
  for (int i = 0; ring && i < lines; i++)
    free(ring[i]);
  free(ring);
  fprintf(stderr, "----\n");
}
