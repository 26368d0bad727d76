/* credentials.h - the tokens file (--tokens-file) and the assignments file (--assignments): one
 * format for both, a line per role assignment:
 *
 *     KEY  PRINCIPAL  ROLE  SCOPE        # '#' starts a comment line; blank lines are ignored
 *
 * KEY is what the caller's credential proves: in the tokens file the SHA-256 (hex) of the bearer
 * token, which is never stored in clear; in the assignments file the principal id of a JWT (its oid
 * claim, else sub). PRINCIPAL is the name logged and throttled; ROLE is Reader, Contributor or Agent;
 * SCOPE a resource id prefix ("/" for everything; an Agent's is a pool's or a machine's id). A KEY may have several
 * lines (several assignments) but only one PRINCIPAL. The whole file is checked: any bad line refuses the file. */
#ifndef GPUPOOLD_CREDENTIALS_H
#define GPUPOOLD_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#define GPD_SCOPE_MAX_SEGMENTS 16
#define GPD_PRINCIPAL_MAX 128

typedef enum { GPD_ROLE_READER = 0, GPD_ROLE_CONTRIBUTOR, GPD_ROLE_AGENT } gpd_role;

typedef struct {
  gpd_role role;
  const char *scope;                       /* as written in the file */
  const char *seg[GPD_SCOPE_MAX_SEGMENTS]; /* its segments; none for "/" */
  size_t nseg;
} gpd_assignment;

typedef struct gpd_principal {
  const char *key;  /* token hash (lowercase hex) or principal id */
  const char *name; /* for logs, messages and throttling */
  gpd_assignment *assignments;
  size_t n;
} gpd_principal;

typedef enum { GPD_CREDS_TOKENS, GPD_CREDS_ASSIGNMENTS } gpd_creds_kind;

typedef struct gpd_credentials gpd_credentials;

/* Parses the text of a file (name for messages). NULL with "NAME:LINE: why" in err. */
gpd_credentials *gpd_credentials_parse(const char *text, size_t len, gpd_creds_kind kind, const char *name, char *err,
                                       size_t errlen);
/* Reads and parses a file (at most 16 MiB). */
gpd_credentials *gpd_credentials_load(const char *path, gpd_creds_kind kind, char *err, size_t errlen);
void gpd_credentials_free(gpd_credentials *c);
/* The principal with this key, NULL when none. */
const gpd_principal *gpd_credentials_find(const gpd_credentials *c, const char *key);
size_t gpd_credentials_count(const gpd_credentials *c);

const char *gpd_role_name(gpd_role r);
/* Splits a scope into its segments (at most GPD_SCOPE_MAX_SEGMENTS) into the copy buf. "/" has no
 * segment. False when it is not a scope: not starting with "/subscriptions/ID" (or "/" alone),
 * empty segments, blanks or control characters. */
bool gpd_scope_split(char *buf, const char **seg, size_t *nseg);

/* Reads a whole file of at most max bytes (NUL-terminated). NULL with the reason in err. */
char *gpd_read_small_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
