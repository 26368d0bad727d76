/* util.c - small helpers of gpupool-agent: error messages, bounded file reads, atomic file writes
 * (a crash never leaves a half-written systemd drop-in behind), path joins and a growable string. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

void ag_seterr(ag_err *e, const char *fmt, ...) {
  if (!e) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

char *ag_fmt(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

static void buf_grow(ag_buf *b, size_t more) {
  if (b->oom) return;
  if (b->len + more + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s) {
    b->oom = true;
    return;
  }
  b->s = s;
  b->cap = cap;
}

void ag_buf_add(ag_buf *b, const char *s) {
  size_t n = strlen(s);
  buf_grow(b, n);
  if (b->oom) return;
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

void ag_buf_addf(ag_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->oom = true;
    return;
  }
  buf_grow(b, (size_t)n);
  if (b->oom) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

char *ag_buf_take(ag_buf *b) {
  char *s = NULL;
  if (!b->oom) {
    if (!b->s) {
      s = calloc(1, 1);
    } else {
      s = b->s;
      b->s = NULL;
    }
  }
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
  b->oom = false;
  return s;
}

char *ag_read_file(const char *path, size_t max, size_t *len, ag_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    ag_seterr(err, "cannot read '%s': %s", path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(max + 1);
  if (!buf) {
    fclose(f);
    ag_seterr(err, "out of memory reading '%s'", path);
    return NULL;
  }
  size_t n = fread(buf, 1, max + 1, f);
  bool failed = ferror(f);
  fclose(f);
  if (failed) {
    free(buf);
    ag_seterr(err, "cannot read '%s'", path);
    return NULL;
  }
  if (n > max) {
    free(buf);
    ag_seterr(err, "'%s' is larger than %zu bytes", path, max);
    return NULL;
  }
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

bool ag_mkdirs_for(const char *path, ag_err *err) {
  char *dir = strdup(path);
  if (!dir) {
    ag_seterr(err, "out of memory");
    return false;
  }
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) {
    free(dir);
    return true;
  }
  *slash = '\0';
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
      ag_seterr(err, "cannot create directory '%s': %s", dir, strerror(errno));
      free(dir);
      return false;
    }
    *p = '/';
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    ag_seterr(err, "cannot create directory '%s': %s", dir, strerror(errno));
    free(dir);
    return false;
  }
  free(dir);
  return true;
}

bool ag_write_file(const char *path, const char *content, size_t len, ag_err *err) {
  if (!ag_mkdirs_for(path, err)) return false;
  char *tmp = ag_fmt("%s.tmp.%ld", path, (long)getpid());
  if (!tmp) {
    ag_seterr(err, "out of memory");
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    ag_seterr(err, "cannot write '%s': %s", path, strerror(errno));
    free(tmp);
    return false;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, content + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      ag_seterr(err, "cannot write '%s': %s", path, strerror(errno));
      close(fd);
      unlink(tmp);
      free(tmp);
      return false;
    }
    off += (size_t)w;
  }
  /* fchmod: the umask must not make a drop-in unreadable to systemd. */
  if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0) {
    ag_seterr(err, "cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return false;
  }
  if (rename(tmp, path) != 0) {
    ag_seterr(err, "cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return false;
  }
  free(tmp);
  return true;
}

char *ag_join(const char *root, const char *rel) {
  while (*rel == '/')
    rel++;
  if (!root || !*root || strcmp(root, "/") == 0) return ag_fmt("/%s", rel);
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/')
    n--;
  return ag_fmt("%.*s/%s", (int)n, root, rel);
}

char *ag_strdup(const char *s, bool *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = true;
  return d;
}
