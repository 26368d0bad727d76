/* authz.h - authorization: which role on which scope a request needs (SPEC §8 routes), decided on
 * the request's decoded path segments. Pure functions of the principal's assignments and the path;
 * no I/O, so the router fuzzer exercises them too.
 *
 *   Reader       GET of anything under its scope
 *   Contributor  everything under its scope (Microsoft.Features writes: only at subscription scope)
 *   Agent        scoped to a pool: GET of that pool's plan, GET and PUT (register, report) of its
 *                machines, GET of their plans; scoped to a machine: GET and PUT of that machine and
 *                GET of its plan. Nothing else (no lists, no deletes, not the pool itself)
 *
 * A scope matches a resource id when its segments are the id's first segments, compared
 * case-insensitively and whole (/subscriptions/a never matches /subscriptions/ab). */
#ifndef GPUPOOLD_AUTHZ_H
#define GPUPOOLD_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"
#include "security/credentials.h"

typedef enum {
  GPD_ACCESS_DENY = 0,
  GPD_ACCESS_ALLOW,  /* the whole request is allowed */
  GPD_ACCESS_FILTER, /* a list or an operation: allowed, but each item is checked (gpd_authz_can_read_id) */
} gpd_access;

/* The decision for a routed request (route id, method, the path's decoded segments). action gets
 * the ARM action name for the 403 message. Unknown routes are ALLOW (they answer 404/405). */
gpd_access gpd_authz_decide(const gpd_principal *p, int route, gpd_method m, const char *const *seg, size_t nseg,
                            const char **action);
/* May p read the resource with this ARM id (a cluster or a pool)? */
bool gpd_authz_can_read_id(const gpd_principal *p, const char *resource_id);
/* For handlers: may the caller of r read this resource id? Always true under --auth none. */
bool gpd_authz_visible(const gpd_request *r, const char *resource_id);
/* May the caller read every item of the list r asks for (no filtering needed)? */
bool gpd_authz_reads_all(const gpd_request *r);

#endif
