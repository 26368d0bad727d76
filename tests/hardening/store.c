/* store.c - issue 16 items 5 and 6: the SQLite file and what gpupoold says about it.
 *
 * One gpupoold per file however the path is spelled: while one runs on DIR/gpupool.db, another
 * through a hard link, a symlink or DIR/sub/../gpupool.db is refused (exit 1), and through the
 * hard link it starts once the first one stopped.
 * Health that sees the store: the file deleted, replaced by another file, or truncated while
 * gpupoold runs -> writes answered 503, /healthz 503 saying why, a log line; writes failing for
 * lack of room (a file size limit set on the running process stands in for a full disk) -> 503
 * and /healthz 503, then both healthy again within a few seconds once there is room.
 * No empty store where one was: restarted after its file was deleted, gpupoold refuses to start
 * (exit 1, saying why) instead of starting empty; --init starts a new, empty one deliberately.
 * Usage: hardening-store --server BUILD/gpupoold */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hlib.h"
#include "testutil.h"

#define SUB "2a1b0c9d-8e7f-4a6b-9c5d-4e3f2a1b0c9d"
#define RG "/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/"
#define API "?api-version=2026-08-02-preview"

static const char *bin;

/* gpupoold with db must exit 1 at once, saying text on stderr. */
static void refused(const char *what, const char *db, const char *extra, const char *text) {
  char out[600], url[600], line[1024];
  snprintf(out, sizeof out, "%s.refused.err", db);
  snprintf(url, sizeof url, "sqlite:%s", db);
  const char *argv[] = {bin, "--listen", "127.0.0.1:0", "--db", url, extra, NULL};
  int rc = hl_run(argv, out, 30000);
  if (rc != 1) gpt_fail("%s: gpupoold exited %d, want 1 (-1: it started, or hung)", what, rc);
  if (!hl_file_line(out, text, line, sizeof line)) gpt_fail("%s: its output does not say '%s'", what, text);
  unlink(out);
}

static void put_cluster(const gpt_server *s, const char *name, long want, const char *why) {
  char path[512];
  gpt_response r;
  snprintf(path, sizeof path, RG "%s" API, name);
  long st = gpt_call(s, "PUT", path, "{\"location\":\"eastus\"}", NULL, &r);
  if (st != want) gpt_fail("%s: cluster PUT %ld, want %ld (%.300s)", why, st, want, r.body ? r.body : r.error);
  gpt_response_free(&r);
}

/* /healthz must be 503 saying text (or 200 when text is NULL). */
static void health(const gpt_server *s, const char *text, const char *why) {
  gpt_response r;
  long st = gpt_call(s, "GET", "/healthz", NULL, NULL, &r);
  if (text ? st != 503 || !r.body || !strstr(r.body, text) : st != 200)
    gpt_fail("%s: /healthz %ld %.300s, want %s%s", why, st, r.body ? r.body : r.error, text ? "503 saying " : "200",
             text ? text : "");
  gpt_response_free(&r);
}

static bool start_on(gpt_server *s, const char *db, const char *const *args) {
  snprintf(s->db, sizeof s->db, "sqlite:%s", db);
  if (gpt_server_start(s, bin, args)) return true;
  gpt_fail("gpupoold did not start on %s", db);
  return false;
}

static void finish(gpt_server *s) {
  if (s->pid > 0 && gpt_server_stop(s) != 0) gpt_fail("gpupoold did not exit cleanly");
  if (gpt_failures) gpt_server_log_tail(s, 12);
  s->pid = 0;
}

static void one_process_per_file(void) {
  gpt_server a;
  char db[400], link_db[400], sym[400], dotdot[400], sub[400];
  if (!gpt_dir_make(&a)) return;
  snprintf(db, sizeof db, "%s/gpupool.db", a.dir);
  if (!start_on(&a, db, NULL)) return;
  put_cluster(&a, "c1", 201, "first server");
  snprintf(link_db, sizeof link_db, "%s/hard.db", a.dir);
  snprintf(sym, sizeof sym, "%s/sym.db", a.dir);
  snprintf(sub, sizeof sub, "%s/sub", a.dir);
  snprintf(dotdot, sizeof dotdot, "%s/sub/../gpupool.db", a.dir);
  if (link(db, link_db) != 0 || symlink(db, sym) != 0 || mkdir(sub, 0755) != 0) gpt_fail("cannot make the links");
  refused("a second gpupoold through a hard link", link_db, NULL, "in use by another gpupoold");
  refused("a second gpupoold through a symlink", sym, NULL, "in use by another gpupoold");
  refused("a second gpupoold through ../", dotdot, NULL, "in use by another gpupoold");
  put_cluster(&a, "c2", 201, "the first server after the refusals");
  finish(&a);
  gpt_server b = a;                  /* same directory */
  if (start_on(&b, link_db, NULL)) { /* through the hard link, now that the first one stopped */
    gpt_response r;
    if (gpt_call(&b, "GET", RG "c2" API, NULL, NULL, &r) != 200)
      gpt_fail("the hard link does not show c2: %ld", r.status);
    gpt_response_free(&r);
    finish(&b);
  }
  gpt_dir_remove(&a);
}

static void deleted(void) {
  gpt_server s;
  char db[400];
  if (!gpt_dir_make(&s)) return;
  snprintf(db, sizeof db, "%s/gpupool.db", s.dir);
  if (!start_on(&s, db, NULL)) return;
  put_cluster(&s, "c1", 201, "before");
  health(&s, NULL, "a healthy store");
  unlink(db);
  put_cluster(&s, "c2", 503, "after its file was deleted");
  health(&s, "was deleted", "after its file was deleted");
  finish(&s);
  char line[1024];
  if (!hl_file_line(s.log, "refusing writes (503): the database file", line, sizeof line))
    gpt_fail("no log line says why writes are refused");
  refused("a restart where the store was deleted", db, NULL, "is missing but");
  struct stat st;
  if (stat(db, &st) == 0) gpt_fail("the refused start left a new database file");
  char wal[420];
  snprintf(wal, sizeof wal, "%s-wal", db);
  bool had_wal = stat(wal, &st) == 0;
  const char *init[] = {"--init", NULL};
  if (start_on(&s, db, init)) { /* deliberately: a new, empty store */
    gpt_response r;
    if (gpt_call(&s, "GET", RG "c1" API, NULL, NULL, &r) != 404) gpt_fail("--init: c1 %ld, want 404 (empty)", r.status);
    gpt_response_free(&r);
    put_cluster(&s, "c3", 201, "with --init");
    finish(&s);
    char aside[500];
    snprintf(aside, sizeof aside, "ls %s/gpupool.db-wal.orphaned-* >/dev/null 2>&1", s.dir);
    if (had_wal && system(aside) != 0) gpt_fail("--init did not keep the old log aside (gpupool.db-wal.orphaned-*)");
  }
  gpt_dir_remove(&s);
}

static void replaced_or_truncated(bool truncated) {
  gpt_server s;
  char db[400], other[400];
  const char *what = truncated ? "truncated" : "replaced";
  if (!gpt_dir_make(&s)) return;
  snprintf(db, sizeof db, "%s/gpupool.db", s.dir);
  snprintf(other, sizeof other, "%s/other.db", s.dir);
  if (!start_on(&s, db, NULL)) return;
  put_cluster(&s, "c1", 201, "before");
  if (truncated) {
    if (truncate(db, 0) != 0) gpt_fail("cannot truncate");
  } else {
    int fd = open(other, O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || write(fd, "not a database", 14) != 14 || close(fd) != 0 || rename(other, db) != 0)
      gpt_fail("cannot replace the file");
  }
  put_cluster(&s, "c2", 503, what);
  health(&s, truncated ? "was truncated" : "was replaced", what);
  finish(&s);
  gpt_dir_remove(&s);
}

static void disk_full(void) {
  gpt_server s;
  char db[400];
  if (!gpt_dir_make(&s)) return;
  snprintf(db, sizeof db, "%s/gpupool.db", s.dir);
  if (!start_on(&s, db, NULL)) return;
  put_cluster(&s, "c0", 201, "before");
  /* No room at all: not even a new log frame fits (a limit just above the log's size would be met
   * again once SQLite restarts its log from the beginning). The soft limit only: raising it again
   * needs no privilege. */
  struct rlimit none = {1, RLIM_INFINITY}, unlimited = {RLIM_INFINITY, RLIM_INFINITY};
  if (prlimit(s.pid, RLIMIT_FSIZE, &none, NULL) != 0) {
    gpt_fail("cannot set a file size limit on gpupoold");
  } else {
    put_cluster(&s, "full", 503, "a write with no room left");
    put_cluster(&s, "full", 503, "a second write with no room left");
    health(&s, "refuses writes", "writes failing");
    prlimit(s.pid, RLIMIT_FSIZE, &unlimited, NULL);
    bool back = false;
    for (int i = 0; i < 60 && !back; i++) { /* a probe write at most once a second */
      gpt_response r;
      back = gpt_call(&s, "GET", "/healthz", NULL, NULL, &r) == 200;
      gpt_response_free(&r);
      if (!back) gpt_sleep_ms(200);
    }
    if (!back) gpt_fail("/healthz did not recover once there was room again");
    put_cluster(&s, "after", 201, "once there is room again");
  }
  finish(&s);
  gpt_dir_remove(&s);
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-store";
  bin = hl_setup(&argc, argv);
  one_process_per_file();
  deleted();
  replaced_or_truncated(false);
  replaced_or_truncated(true);
  disk_full();
  return hl_result();
}
