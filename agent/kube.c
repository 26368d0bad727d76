/* kube.c - the commands the daemon runs on its node: drain, uncordon, taint and the node status
 * (kubectl by default; the options replace them, e.g. with commands that record their calls in
 * tests). A command is a shell command line to which the daemon appends its arguments as "$@"
 * (/bin/sh -c 'CMD "$@"' sh ARGS...), so the arguments are never re-parsed by the shell. Each
 * runs in a process group of its own and is terminated (SIGTERM, then SIGKILL) at its deadline or
 * when the daemon stops. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define CMD_MAX_ARGS 16
#define CMD_OUT_MAX (1024u * 1024u)

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fork + exec of /bin/sh -c 'CMD "$@"' sh ARGS..., stdout to out_fd (-1: /dev/null). */
static pid_t spawn(const char *cmd, const char *const *args, int out_fd) {
  char *script = ag_fmt("%s \"$@\"", cmd);
  const char *argv[CMD_MAX_ARGS + 5] = {"/bin/sh", "-c", script, "sh"};
  size_t n = 4;
  for (size_t i = 0; args && args[i] && i < CMD_MAX_ARGS; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  if (!script) return -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    /* only async-signal-safe calls between fork and exec */
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setpgid(0, 0);
    if (devnull >= 0) dup2(devnull, 0);
    if (out_fd >= 0)
      dup2(out_fd, 1);
    else if (devnull >= 0)
      dup2(devnull, 1);
    execv("/bin/sh", (char *const *)argv);
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid); /* also from here: no race with a kill before the child ran */
  if (devnull >= 0) close(devnull);
  free(script);
  return pid;
}

static void terminate(pid_t pid) {
  kill(-pid, SIGTERM);
  for (int i = 0; i < 50; i++) { /* 5 s to go, then SIGKILL */
    if (waitpid(pid, NULL, WNOHANG) == pid) return;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(-pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
}

static int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int ag_exec_run(const char *cmd, const char *const *args, double timeout_s, char **out, const atomic_bool *stop) {
  int fds[2] = {-1, -1};
  if (out) {
    *out = NULL;
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  }
  pid_t pid = spawn(cmd, args, fds[1]);
  if (fds[1] >= 0) close(fds[1]);
  if (pid < 0) {
    if (fds[0] >= 0) close(fds[0]);
    return -1;
  }
  ag_buf b = {0};
  double deadline = mono() + timeout_s;
  int status = 0, rc = -1;
  bool open_pipe = fds[0] >= 0;
  for (;;) {
    if (open_pipe) {
      struct pollfd p = {fds[0], POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char chunk[4096];
        ssize_t r = read(fds[0], chunk, sizeof chunk - 1);
        if (r > 0) {
          chunk[r] = '\0';
          if (b.len + (size_t)r <= CMD_OUT_MAX) ag_buf_add(&b, chunk);
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
          open_pipe = false;
        }
      }
    } else {
      struct timespec ts = {0, 50 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      rc = exit_code(status);
      break;
    }
    if (mono() >= deadline || (stop && atomic_load(stop))) {
      terminate(pid);
      rc = 124;
      break;
    }
  }
  if (fds[0] >= 0) {
    /* what is left in the pipe after the exit */
    char chunk[4096];
    ssize_t r;
    int fl = fcntl(fds[0], F_GETFL);
    fcntl(fds[0], F_SETFL, fl | O_NONBLOCK);
    while ((r = read(fds[0], chunk, sizeof chunk - 1)) > 0) {
      chunk[r] = '\0';
      if (b.len + (size_t)r <= CMD_OUT_MAX) ag_buf_add(&b, chunk);
    }
    close(fds[0]);
  }
  if (out) *out = ag_buf_take(&b);
  return rc;
}

bool ag_exec_start(ag_child *c, const char *what, const char *cmd, const char *const *args, double timeout_s) {
  memset(c, 0, sizeof *c);
  snprintf(c->what, sizeof c->what, "%s", what);
  c->pid = spawn(cmd, args, -1);
  if (c->pid <= 0) {
    c->pid = 0;
    return false;
  }
  c->deadline = mono() + timeout_s;
  return true;
}

int ag_exec_poll(ag_child *c) {
  if (!c->pid) return -1;
  int status = 0;
  pid_t w = waitpid(c->pid, &status, WNOHANG);
  if (w == c->pid) {
    c->pid = 0;
    return exit_code(status);
  }
  if (w < 0 && errno != EINTR) {
    c->pid = 0;
    return -1;
  }
  if (mono() >= c->deadline) {
    terminate(c->pid);
    c->pid = 0;
    return 124;
  }
  return -2;
}

void ag_node_status_parse(const char *text, ag_node_status *st) {
  memset(st, 0, sizeof *st);
  json_error_t je;
  json_t *root = text ? json_loads(text, 0, &je) : NULL;
  if (!json_is_object(root) || !json_is_object(json_object_get(root, "status"))) {
    snprintf(st->why, sizeof st->why, "the node status command printed no Node object%s%s", root ? "" : ": ",
             root ? "" : (text ? je.text : "no output"));
    json_decref(root);
    return;
  }
  st->known = true;
  st->unschedulable = json_is_true(json_object_get(json_object_get(root, "spec"), "unschedulable"));
  json_t *status = json_object_get(root, "status"), *c;
  size_t i;
  json_array_foreach(json_object_get(status, "conditions"), i, c) {
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *s = json_string_value(json_object_get(c, "status"));
    if (type && strcmp(type, "Ready") == 0) st->ready = s && strcmp(s, "True") == 0;
  }
  const char *kv = json_string_value(json_object_get(json_object_get(status, "nodeInfo"), "kubeletVersion"));
  if (kv && strlen(kv) < sizeof st->kubelet_version) {
    bool plain = true;
    for (const char *p = kv; *p; p++)
      plain = plain &&
              ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || strchr(".-+_", *p));
    if (plain) snprintf(st->kubelet_version, sizeof st->kubelet_version, "%s", kv);
  }
  json_decref(root);
}
