/* k8s_version.h - Kubernetes versions as pools carry them ("1.35" or "1.35.2"). */
#ifndef GPUPOOL_K8S_VERSION_H
#define GPUPOOL_K8S_VERSION_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  int major, minor, patch;
  bool has_patch; /* "1.35" names the minor; "1.35.0" a patch */
} gp_k8s_version;

/* Strict parse of MAJOR.MINOR[.PATCH] (decimal, no sign, no leading junk). */
bool gp_k8s_version_parse(const char *s, gp_k8s_version *out);
/* Orders versions in full: a missing patch number is .0 ("1.36" = "1.36.0" < "1.36.1"). */
int gp_k8s_version_cmp(const gp_k8s_version *a, const gp_k8s_version *b);
/* Compare major.minor only (which component versions apply). */
int gp_k8s_minor_cmp(const gp_k8s_version *a, const gp_k8s_version *b);
/* "1.35.0": the version with its patch (0 when not given). */
void gp_k8s_version_full(const gp_k8s_version *v, char *buf, size_t size);
/* The version as it was written: "1.35" or "1.35.2". */
void gp_k8s_version_text(const gp_k8s_version *v, char *buf, size_t size);

#endif
