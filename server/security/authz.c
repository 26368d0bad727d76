/* authz.c - role and scope decisions (see authz.h and docs/decisions.md, Security). */
#include "security/authz.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router.h"

/* Does the assignment's scope cover (is a prefix of) the path? */
static bool covers(const gpd_assignment *a, const char *const *seg, size_t n) {
  if (a->nseg > n) return false;
  for (size_t i = 0; i < a->nseg; i++)
    if (strcasecmp(a->seg[i], seg[i]) != 0) return false;
  return true;
}

/* Is the assignment's scope at or below the path (the path is a prefix of the scope)? */
static bool within(const gpd_assignment *a, const char *const *seg, size_t n) {
  if (n > a->nseg) return false;
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(a->seg[i], seg[i]) != 0) return false;
  return true;
}

static bool reads(gpd_role r) { return r == GPD_ROLE_READER || r == GPD_ROLE_CONTRIBUTOR; }

static bool can_read(const gpd_principal *p, const char *const *seg, size_t n) {
  for (size_t i = 0; i < p->n; i++)
    if (reads(p->assignments[i].role) && covers(&p->assignments[i], seg, n)) return true;
  return false;
}

static bool can_write(const gpd_principal *p, const char *const *seg, size_t n, size_t max_scope_segments) {
  for (size_t i = 0; i < p->n; i++) {
    const gpd_assignment *a = &p->assignments[i];
    if (a->role == GPD_ROLE_CONTRIBUTOR && a->nseg <= max_scope_segments && covers(a, seg, n)) return true;
  }
  return false;
}

/* A list (or anything whose items are checked one by one): all of it, some of it, or nothing. */
static gpd_access list_access(const gpd_principal *p, const char *const *seg, size_t n) {
  if (can_read(p, seg, n)) return GPD_ACCESS_ALLOW;
  for (size_t i = 0; i < p->n; i++)
    if (reads(p->assignments[i].role) && within(&p->assignments[i], seg, n)) return GPD_ACCESS_FILTER;
  return GPD_ACCESS_DENY;
}

static gpd_access allow_if(bool ok) { return ok ? GPD_ACCESS_ALLOW : GPD_ACCESS_DENY; }

/* Does an Agent assignment cover the path? On the machine routes the path is a machine or its plan,
 * and an Agent's scope is a pool or a machine (credentials.c): covering it means the machine is the
 * token's own, or one of its pool's. */
static bool agent_covers(const gpd_principal *p, const char *const *seg, size_t n) {
  for (size_t i = 0; i < p->n; i++)
    if (p->assignments[i].role == GPD_ROLE_AGENT && covers(&p->assignments[i], seg, n)) return true;
  return false;
}

/* The part of a list's path its items live under: a subscription's cluster list
 * (/subscriptions/{s}/providers/…/managedClusters) holds clusters of /subscriptions/{s}/resourceGroups/…,
 * so its scope is the subscription; other lists hold their path's children. */
static size_t list_scope(int route, size_t nseg) { return route == GPD_ROUTE_CLUSTERS_SUB && nseg > 2 ? 2 : nseg; }

gpd_access gpd_authz_decide(const gpd_principal *p, int route, gpd_method m, const char *const *seg, size_t nseg,
                            const char **action) {
  bool read = m == GPD_GET;
  switch (route) {
  case GPD_ROUTE_CLUSTERS_SUB:
  case GPD_ROUTE_CLUSTERS_RG:
    *action = "Microsoft.ContainerService/managedClusters/read";
    return list_access(p, seg, list_scope(route, nseg));
  case GPD_ROUTE_CLUSTER:
    *action = read              ? "Microsoft.ContainerService/managedClusters/read"
              : m == GPD_DELETE ? "Microsoft.ContainerService/managedClusters/delete"
                                : "Microsoft.ContainerService/managedClusters/write";
    return allow_if(read ? can_read(p, seg, nseg) : can_write(p, seg, nseg, GPD_SCOPE_MAX_SEGMENTS));
  case GPD_ROUTE_POOLS:
    *action = "Microsoft.ContainerService/managedClusters/agentPools/read";
    return list_access(p, seg, nseg);
  case GPD_ROUTE_POOL:
    *action = read              ? "Microsoft.ContainerService/managedClusters/agentPools/read"
              : m == GPD_DELETE ? "Microsoft.ContainerService/managedClusters/agentPools/delete"
                                : "Microsoft.ContainerService/managedClusters/agentPools/write";
    return allow_if(read ? can_read(p, seg, nseg) : can_write(p, seg, nseg, GPD_SCOPE_MAX_SEGMENTS));
  case GPD_ROUTE_POOL_WHATIF:
    /* what a PUT would do: whoever may make that PUT (it writes nothing, but it reads the pool's
     * machines and would tell a Reader what a change does before its owners decide it) */
    *action = "Microsoft.ContainerService/managedClusters/agentPools/whatIf/action";
    return allow_if(can_write(p, seg, nseg, GPD_SCOPE_MAX_SEGMENTS));
  case GPD_ROUTE_POOL_ABORT:
    /* stops a write: whoever may write the pool */
    *action = "Microsoft.ContainerService/managedClusters/agentPools/abort/action";
    return allow_if(can_write(p, seg, nseg, GPD_SCOPE_MAX_SEGMENTS));
  case GPD_ROUTE_PLAN:
    *action = "Microsoft.ContainerService/managedClusters/agentPools/plan/read";
    if (can_read(p, seg, nseg)) return GPD_ACCESS_ALLOW;
    /* An Agent's scope is exactly a pool id (credentials.c), so covering the plan path means
     * this pool's plan. */
    for (size_t i = 0; i < p->n; i++)
      if (p->assignments[i].role == GPD_ROLE_AGENT && p->assignments[i].nseg + 1 == nseg &&
          covers(&p->assignments[i], seg, nseg))
        return GPD_ACCESS_ALLOW;
    return GPD_ACCESS_DENY;
  case GPD_ROUTE_MACHINES:
    *action = "Microsoft.ContainerService/managedClusters/agentPools/machines/read";
    return list_access(p, seg, nseg);
  case GPD_ROUTE_MACHINE:
    /* A node's agent registers and reports (PUT) and reads its machine; removing it is an owner's. */
    *action = read              ? "Microsoft.ContainerService/managedClusters/agentPools/machines/read"
              : m == GPD_DELETE ? "Microsoft.ContainerService/managedClusters/agentPools/machines/delete"
                                : "Microsoft.ContainerService/managedClusters/agentPools/machines/write";
    if (read ? can_read(p, seg, nseg) : can_write(p, seg, nseg, GPD_SCOPE_MAX_SEGMENTS)) return GPD_ACCESS_ALLOW;
    return allow_if(m != GPD_DELETE && agent_covers(p, seg, nseg));
  case GPD_ROUTE_MACHINE_PLAN:
    *action = "Microsoft.ContainerService/managedClusters/agentPools/machines/plan/read";
    return allow_if(can_read(p, seg, nseg) || agent_covers(p, seg, nseg));
  case GPD_ROUTE_OPERATION:
  case GPD_ROUTE_OPERATION_RESULT:
    /* The operation's resource decides (handlers_operation.c); here: something in the subscription. */
    *action = "Microsoft.ContainerService/locations/operations/read";
    return list_access(p, seg, nseg < 2 ? nseg : 2);
  case GPD_ROUTE_GPU_VM_SIZES:
  case GPD_ROUTE_GPU_VM_SIZE:
    /* The catalog holds no one's data; like ARM's SKU lists it is read by whoever may read
     * something in the subscription. */
    *action = "Microsoft.ContainerService/gpuVMSizes/read";
    return allow_if(list_access(p, seg, nseg < 2 ? nseg : 2) != GPD_ACCESS_DENY);
  case GPD_ROUTE_FEATURES:
  case GPD_ROUTE_FEATURE: *action = "Microsoft.Features/features/read"; return allow_if(can_read(p, seg, nseg));
  case GPD_ROUTE_FEATURE_REGISTER:
  case GPD_ROUTE_FEATURE_UNREGISTER:
    /* Registering a feature changes every pool of the subscription: Contributor at its scope. */
    *action = "Microsoft.Features/providers/features/register/action";
    return allow_if(can_write(p, seg, nseg, 2));
  default: *action = "*"; return GPD_ACCESS_ALLOW;
  }
}

bool gpd_authz_can_read_id(const gpd_principal *p, const char *resource_id) {
  char buf[1100];
  const char *seg[GPD_SCOPE_MAX_SEGMENTS];
  size_t n = 0;
  if (!resource_id || strlen(resource_id) >= sizeof buf) return false;
  strcpy(buf, resource_id);
  return gpd_scope_split(buf, seg, &n) && can_read(p, seg, n);
}

bool gpd_authz_visible(const gpd_request *r, const char *resource_id) {
  return !r->principal || gpd_authz_can_read_id(r->principal, resource_id);
}

bool gpd_authz_reads_all(const gpd_request *r) {
  return !r->principal || can_read(r->principal, (const char *const *)r->seg, list_scope(r->route, r->nseg));
}
