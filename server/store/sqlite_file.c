/* sqlite_file.c - owning the SQLite database file: first-start rule, locks, identity (see
 * sqlite_file.h). */
#include "store/sqlite_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIN_DB_SIZE 512 /* SQLite's smallest page: a database file that held data is never shorter */

static bool exists(const char *path, const char *suffix) {
  char p[4200];
  struct stat st;
  snprintf(p, sizeof p, "%s%s", path, suffix);
  return lstat(p, &st) == 0;
}

/* Renames path+suffix to path+suffix+".orphaned-SECONDS" (what --init does to a dead store's log). */
static bool set_aside(const char *path, const char *suffix, char *err, size_t errlen) {
  char from[4200], to[4300];
  snprintf(from, sizeof from, "%s%s", path, suffix);
  snprintf(to, sizeof to, "%s.orphaned-%lld", from, (long long)time(NULL));
  if (rename(from, to) == 0) return true;
  snprintf(err, errlen, "--init: cannot move %s aside to %s: %s", from, to, strerror(errno));
  return false;
}

/* mkdir -p of the directory holding path. */
static bool make_parent_dirs(const char *path, char *err, size_t errlen) {
  char *copy = strdup(path);
  if (!copy) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  char *dir = dirname(copy);
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) break;
    *p = '/';
  }
  bool ok = mkdir(dir, 0755) == 0 || errno == EEXIST;
  if (!ok) snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
  free(copy);
  return ok;
}

bool gpd_db_file_open(gpd_db_file *f, const char *path, bool init, char *err, size_t errlen) {
  char lock_path[4200];
  memset(f, 0, sizeof *f);
  f->fd = f->lock_fd = -1;
  if (!(f->path = strdup(path))) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  struct stat st;
  bool have = stat(path, &st) == 0;
  if (!have && errno != ENOENT) {
    snprintf(err, errlen, "cannot use %s: %s", path, strerror(errno));
    goto fail;
  }
  if (!have) {
    bool wal = exists(path, "-wal"), shm = exists(path, "-shm"), lock = exists(path, ".lock");
    if ((wal || shm || lock) && !init) {
      snprintf(err, errlen,
               "%s is missing but %s%s shows gpupoold kept a store there: its file was deleted, or the volume "
               "holding it is not mounted. Restore it from a backup, or start gpupoold with --init to create a new, "
               "empty store",
               path, path,
               wal   ? "-wal"
               : shm ? "-shm"
                     : ".lock");
      goto fail;
    }
    /* --init: the log of the file that is gone must not be replayed into the new one; kept aside */
    if ((wal && !set_aside(path, "-wal", err, errlen)) || (shm && !set_aside(path, "-shm", err, errlen))) goto fail;
    if (!make_parent_dirs(path, err, errlen)) goto fail;
  }
  snprintf(lock_path, sizeof lock_path, "%s.lock", path);
  f->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f->lock_fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", lock_path, strerror(errno));
    goto fail;
  }
  if (flock(f->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    snprintf(err, errlen, "%s is in use by another gpupoold (one process per SQLite file; use PostgreSQL for replicas)",
             path);
    goto fail;
  }
  f->fd = open(path, O_RDWR | O_CLOEXEC | (have ? 0 : O_CREAT | O_EXCL), 0644);
  if (f->fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    goto fail;
  }
  f->created = !have;
  if (flock(f->fd, LOCK_EX | LOCK_NB) != 0) {
    snprintf(err, errlen,
             "%s is in use by another gpupoold, which opened it under another name (a hard link, a symlink or "
             "another spelling of the path): one process per SQLite file; use PostgreSQL for replicas",
             path);
    goto fail;
  }
  if (fstat(f->fd, &st) != 0) {
    snprintf(err, errlen, "cannot use %s: %s", path, strerror(errno));
    goto fail;
  }
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  return true;
fail:
  if (f->created) unlink(path); /* nothing was written to it yet */
  gpd_db_file_close(f);
  return false;
}

bool gpd_db_file_same(const gpd_db_file *f, char *why, size_t whylen) {
  struct stat mine, now;
  if (stat(f->path, &now) != 0) {
    if (errno == ENOENT)
      snprintf(why, whylen, "the database file %s was deleted (or renamed) while gpupoold ran", f->path);
    else
      snprintf(why, whylen, "the database file %s cannot be checked: %s", f->path, strerror(errno));
    return false;
  }
  if (now.st_dev != f->dev || now.st_ino != f->ino) {
    snprintf(why, whylen, "the database file %s was replaced by another file while gpupoold ran", f->path);
    return false;
  }
  if (fstat(f->fd, &mine) != 0) {
    snprintf(why, whylen, "the database file %s cannot be checked: %s", f->path, strerror(errno));
    return false;
  }
  if (mine.st_size < MIN_DB_SIZE) {
    snprintf(why, whylen, "the database file %s was truncated to %lld bytes while gpupoold ran", f->path,
             (long long)mine.st_size);
    return false;
  }
  return true;
}

void gpd_db_file_close(gpd_db_file *f) {
  if (f->fd >= 0) close(f->fd);
  if (f->lock_fd >= 0) close(f->lock_fd);
  free(f->path);
  memset(f, 0, sizeof *f);
  f->fd = f->lock_fd = -1;
}
