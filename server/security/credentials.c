/* credentials.c - parsing the tokens and assignments files (format in credentials.h). The text is
 * copied once and cut in place; principals are sorted by key for lookups by binary search. Every
 * line is checked before anything is used, so a reload either takes the whole new file or keeps the
 * old one. */
#include "security/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINES 100000
#define MAX_FILE (16u << 20)
#define MAX_KEY 256
#define MAX_SCOPE 1024

struct gpd_credentials {
  char *text;   /* the file, cut into fields */
  char *splits; /* the scopes again, cut into segments */
  gpd_assignment *assign;
  size_t nassign;
  gpd_principal *principals;
  size_t n;
};

typedef struct {
  char *key, *name, *scope;
  gpd_role role;
  size_t line;
} entry;

static const char *const role_names[] = {"Reader", "Contributor", "Agent"};

const char *gpd_role_name(gpd_role r) { return (unsigned)r < 3 ? role_names[r] : "?"; }

bool gpd_scope_split(char *buf, const char **seg, size_t *nseg) {
  *nseg = 0;
  size_t len = strlen(buf);
  if (len == 0 || len > MAX_SCOPE || buf[0] != '/') return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f) return false;
  if (len == 1) return true; /* "/": everything */
  if (buf[len - 1] == '/') return false;
  char *p = buf + 1;
  while (p) {
    char *slash = strchr(p, '/');
    if (slash) *slash = '\0';
    if (!*p || *nseg == GPD_SCOPE_MAX_SEGMENTS) return false;
    seg[(*nseg)++] = p;
    p = slash ? slash + 1 : NULL;
  }
  return *nseg >= 2 && strcasecmp(seg[0], "subscriptions") == 0;
}

/* An agent pool id or a machine id: the scopes an Agent may have (a pool's bootstrap token, or
 * one node's own). */
static bool is_agent_scope(const char *const *seg, size_t n) {
  static const char *const fixed[] = {
      "subscriptions",   NULL, "resourceGroups", NULL, "providers", "Microsoft.ContainerService",
      "managedClusters", NULL, "agentPools",     NULL, "machines",  NULL};
  if (n != 10 && n != 12) return false;
  for (size_t i = 0; i < n; i++)
    if (fixed[i] && strcasecmp(fixed[i], seg[i]) != 0) return false;
  return true;
}

static bool printable(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
  return true;
}

static int by_key(const void *a, const void *b) {
  const entry *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

static int find_key(const void *key, const void *p) { return strcmp(key, ((const gpd_principal *)p)->key); }

void gpd_credentials_free(gpd_credentials *c) {
  if (!c) return;
  free(c->text);
  free(c->splits);
  free(c->assign);
  free(c->principals);
  free(c);
}

#define FAIL(...)                                                                                                      \
  do {                                                                                                                 \
    snprintf(err, errlen, __VA_ARGS__);                                                                                \
    goto fail;                                                                                                         \
  } while (0)

gpd_credentials *gpd_credentials_parse(const char *text, size_t len, gpd_creds_kind kind, const char *name, char *err,
                                       size_t errlen) {
  entry *e = NULL;
  size_t ne = 0, cap = 0, lineno = 0;
  gpd_credentials *c = calloc(1, sizeof *c);
  if (!c || !(c->text = malloc(len + 1))) FAIL("%s: out of memory", name);
  if (memchr(text, '\0', len)) FAIL("%s: a NUL byte: not a text file", name);
  memcpy(c->text, text, len);
  c->text[len] = '\0';
  for (char *line = c->text; line; lineno++) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    char *cur = line;
    line = nl ? nl + 1 : NULL;
    size_t n = strlen(cur);
    if (n && cur[n - 1] == '\r') cur[--n] = '\0';
    char *f[5];
    size_t nf = 0;
    for (char *save = NULL, *t = strtok_r(cur, " \t", &save); t && nf < 5; t = strtok_r(NULL, " \t", &save))
      f[nf++] = t;
    if (nf == 0 || f[0][0] == '#') continue;
    if (lineno >= MAX_LINES) FAIL("%s: more than %d lines", name, MAX_LINES);
    if (nf != 4)
      FAIL("%s:%zu: %s fields; a line is '%s PRINCIPAL ROLE SCOPE'", name, lineno + 1, nf < 4 ? "missing" : "too many",
           kind == GPD_CREDS_TOKENS ? "SHA256-HEX" : "PRINCIPAL-ID");
    for (size_t i = 0; i < 4; i++)
      if (!printable(f[i])) FAIL("%s:%zu: control or non-ASCII characters", name, lineno + 1);
    if (kind == GPD_CREDS_TOKENS) {
      bool hex = strlen(f[0]) == 64;
      for (char *p = f[0]; hex && *p; p++) {
        if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
        hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
      }
      if (!hex)
        FAIL("%s:%zu: the first field must be the SHA-256 of the token, 64 hex digits (tokens are never stored in "
             "clear)",
             name, lineno + 1);
    } else if (strlen(f[0]) > MAX_KEY) {
      FAIL("%s:%zu: the principal id is longer than %d characters", name, lineno + 1, MAX_KEY);
    }
    if (strlen(f[1]) > GPD_PRINCIPAL_MAX)
      FAIL("%s:%zu: the principal name is longer than %d characters", name, lineno + 1, GPD_PRINCIPAL_MAX);
    int role = -1;
    for (int r = 0; r < 3; r++)
      if (strcasecmp(f[2], role_names[r]) == 0) role = r;
    if (role < 0) FAIL("%s:%zu: role '%.40s' is not Reader, Contributor or Agent", name, lineno + 1, f[2]);
    char scope[MAX_SCOPE + 1];
    const char *seg[GPD_SCOPE_MAX_SEGMENTS];
    size_t nseg = 0;
    bool ok = strlen(f[3]) <= MAX_SCOPE;
    if (ok) {
      memcpy(scope, f[3], strlen(f[3]) + 1);
      ok = gpd_scope_split(scope, seg, &nseg);
    }
    if (!ok)
      FAIL("%s:%zu: scope '%.100s' is not '/' or a resource id under /subscriptions/{id}", name, lineno + 1, f[3]);
    if (role == GPD_ROLE_AGENT && !is_agent_scope(seg, nseg))
      FAIL("%s:%zu: an Agent's scope must be one agent pool's id (/subscriptions/…/managedClusters/{c}/agentPools/{p}) "
           "or one machine's (…/agentPools/{p}/machines/{m})",
           name, lineno + 1);
    if (ne == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      entry *g = realloc(e, ncap * sizeof *g);
      if (!g) FAIL("%s: out of memory", name);
      e = g;
      cap = ncap;
    }
    e[ne++] = (entry){f[0], f[1], f[3], (gpd_role)role, lineno + 1};
  }
  if (ne) qsort(e, ne, sizeof *e, by_key); /* e is NULL for a file of comments only */
  size_t splits_len = 0;
  for (size_t i = 0; i < ne; i++)
    splits_len += strlen(e[i].scope) + 1;
  c->assign = calloc(ne ? ne : 1, sizeof *c->assign);
  c->principals = calloc(ne ? ne : 1, sizeof *c->principals);
  c->splits = malloc(splits_len + 1);
  if (!c->assign || !c->principals || !c->splits) FAIL("%s: out of memory", name);
  char *sp = c->splits;
  for (size_t i = 0; i < ne; i++) {
    gpd_assignment *a = &c->assign[i];
    size_t n = strlen(e[i].scope) + 1;
    memcpy(sp, e[i].scope, n);
    a->role = e[i].role;
    a->scope = e[i].scope;
    gpd_scope_split(sp, a->seg, &a->nseg); /* checked above */
    sp += n;
    if (i > 0 && strcmp(e[i].key, e[i - 1].key) == 0) {
      if (strcmp(e[i].name, e[i - 1].name) != 0)
        FAIL("%s:%zu: this %s was given to principal '%s' on line %zu; one %s, one principal", name, e[i].line,
             kind == GPD_CREDS_TOKENS ? "token" : "principal id", e[i - 1].name, e[i - 1].line,
             kind == GPD_CREDS_TOKENS ? "token" : "id");
      c->principals[c->n - 1].n++;
      continue;
    }
    c->principals[c->n++] = (gpd_principal){e[i].key, e[i].name, a, 1};
  }
  c->nassign = ne;
  free(e);
  return c;
fail:
  free(e);
  gpd_credentials_free(c);
  return NULL;
}

const gpd_principal *gpd_credentials_find(const gpd_credentials *c, const char *key) {
  if (!c || !c->n) return NULL;
  return bsearch(key, c->principals, c->n, sizeof *c->principals, find_key);
}

size_t gpd_credentials_count(const gpd_credentials *c) { return c ? c->n : 0; }

char *gpd_read_small_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf = NULL;
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s is not a regular file", path);
    goto out;
  }
  if ((size_t)st.st_size > max) {
    snprintf(err, errlen, "%s is larger than %zu bytes", path, max);
    goto out;
  }
  if (!(buf = malloc((size_t)st.st_size + 1))) {
    snprintf(err, errlen, "%s: out of memory", path);
    goto out;
  }
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  *len = got;
out:
  close(fd);
  return buf;
}

gpd_credentials *gpd_credentials_load(const char *path, gpd_creds_kind kind, char *err, size_t errlen) {
  size_t len = 0;
  char *text = gpd_read_small_file(path, MAX_FILE, &len, err, errlen);
  if (!text) return NULL;
  gpd_credentials *c = gpd_credentials_parse(text, len, kind, path, err, errlen);
  free(text);
  return c;
}
