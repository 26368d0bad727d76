/* k8s_version.c - strict parsing and ordering of Kubernetes versions. */
#include "gpupool/k8s_version.h"

#include <stdio.h>

static const char *number(const char *s, int *out) {
  long v = 0;
  int digits = 0;
  if (*s < '0' || *s > '9') return NULL;
  if (*s == '0' && s[1] >= '0' && s[1] <= '9') return NULL; /* no leading zeros */
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (*s - '0');
    if (v > 100000 || ++digits > 6) return NULL;
    s++;
  }
  *out = (int)v;
  return s;
}

bool gp_k8s_version_parse(const char *s, gp_k8s_version *out) {
  gp_k8s_version v = {0};
  if (!s) return false;
  if (!(s = number(s, &v.major)) || *s++ != '.' || !(s = number(s, &v.minor))) return false;
  if (*s == '.') {
    if (!(s = number(s + 1, &v.patch))) return false;
    v.has_patch = true;
  }
  if (*s != '\0') return false;
  *out = v;
  return true;
}

int gp_k8s_minor_cmp(const gp_k8s_version *a, const gp_k8s_version *b) {
  if (a->major != b->major) return a->major < b->major ? -1 : 1;
  if (a->minor != b->minor) return a->minor < b->minor ? -1 : 1;
  return 0;
}

int gp_k8s_version_cmp(const gp_k8s_version *a, const gp_k8s_version *b) {
  int c = gp_k8s_minor_cmp(a, b);
  if (c) return c;
  /* "1.36" names the minor's first release: with --ga-kubernetes-version 1.36.1 a 1.36 pool is
   * below it, and a pool on 1.36.3 going to "1.36" is a downgrade */
  int pa = a->has_patch ? a->patch : 0, pb = b->has_patch ? b->patch : 0;
  return pa < pb ? -1 : pa > pb;
}

void gp_k8s_version_full(const gp_k8s_version *v, char *buf, size_t size) {
  snprintf(buf, size, "%d.%d.%d", v->major, v->minor, v->has_patch ? v->patch : 0);
}

void gp_k8s_version_text(const gp_k8s_version *v, char *buf, size_t size) {
  if (v->has_patch)
    gp_k8s_version_full(v, buf, size);
  else
    snprintf(buf, size, "%d.%d", v->major, v->minor);
}
