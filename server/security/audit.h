/* audit.h - the audit trail: one JSON line for every write (PUT, PATCH, DELETE, POST, whatever its
 * outcome) and every denied request (401, 403, 429), to --audit-log FILE or stderr. The line has
 * who, what, on which resource, the answer and the ids to find the request in the request log:
 *
 *   {"time":"…","audit":"write","principal":"ci","method":"PUT","resourceId":"/subscriptions/…",
 *    "status":201,"correlationId":"…","requestId":"…","clientIp":"127.0.0.1"}
 *
 * Denied requests add "reason". A token never appears: not in the line, not in the reason. */
#ifndef GPUPOOLD_AUDIT_H
#define GPUPOOLD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  const char *kind;      /* "write" or "denied" */
  const char *principal; /* NULL when the caller was not authenticated */
  const char *method, *resource_id, *correlation_id, *request_id, *client_ip, *reason;
  int status;
} gpd_audit_entry;

/* Opens (appends to) path, or uses stderr when path is NULL. False with the reason in err. */
bool gpd_audit_open(const char *path, char *err, size_t errlen);
/* Reopens the file (after log rotation, on SIGHUP); keeps the old one when that fails. */
bool gpd_audit_reopen(char *err, size_t errlen);
void gpd_audit_close(void);
void gpd_audit_log(const gpd_audit_entry *e);

#endif
