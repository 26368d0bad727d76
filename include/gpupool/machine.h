/* machine.h - a node of an agent pool as the control plane sees it (the AKS `machines`
 * sub-resource): the node agent's report checked field by field and put into one canonical form,
 * the server's own findings about it, the state decision (NotReporting · Unhealthy · Applying ·
 * Drifted · Conformant, the first that holds), the GET view, and a pool's count of its nodes.
 *
 * Pure like the rest of the core: the server passes its clock in (now_ms) where a rule needs it. */
#ifndef GPUPOOL_MACHINE_H
#define GPUPOOL_MACHINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpupool/error.h"

#define GP_MACHINE_TYPE "Microsoft.ContainerService/managedClusters/agentPools/machines"
#define GP_MACHINE_GPUS_MAX 64         /* GPUs a report may list (Azure's largest VMs have 8) */
#define GP_MACHINE_FINDINGS_MAX 100    /* findings a report may carry */
#define GP_MACHINE_EVENTS_MAX 1000     /* health events a report may carry ... */
#define GP_MACHINE_EVENTS_KEPT 20      /* ... of which the newest are kept */
#define GP_MACHINE_INTERVAL_DEFAULT 30 /* reportIntervalSeconds when the agent does not say */
#define GP_MACHINE_INTERVAL_MAX 3600
#define GP_MACHINE_LAG_MAX_MS 30000         /* the coalescing lag never exceeds this */
#define GP_MACHINE_DRAIN_TIMEOUT_DEFAULT 30 /* minutes, a machine plan's rollout.drainTimeoutInMinutes */
/* Health event times outside [2000-01-01, now + 1 day] say the node's clock is wrong. */
#define GP_MACHINE_EVENT_TIME_MIN_MS 946684800000LL
#define GP_MACHINE_EVENT_TIME_AHEAD_MS (24LL * 3600 * 1000)

typedef enum {
  GP_MACHINE_NOT_REPORTING = 0,
  GP_MACHINE_UNHEALTHY,
  GP_MACHINE_APPLYING,
  GP_MACHINE_DRIFTED,
  GP_MACHINE_CONFORMANT,
  GP_MACHINE_STATE_COUNT
} gp_machine_state;

/* "NotReporting", "Unhealthy", "Applying", "Drifted", "Conformant". */
const char *gp_machine_state_name(gp_machine_state s);

/* A report as the agent sent it, checked and in canonical form. */
typedef struct {
  json_t *doc; /* {"hardware"?, "operatingSystem"?, "kubernetes"?, "status": {agentVersion?, reportIntervalSeconds,
                  appliedGeneration, gpus, findings (each with "source": "agent"), health}} */
  int interval_s;
  int64_t applied_generation;
  bool health_failed; /* status.health.state Failed, or a GPU whose health is Failed */
  bool agent_drift;   /* a finding of severity error, kubernetes.ready false or kubernetes.unschedulable true */
} gp_machine_report;

/* Checks a machine PUT body ({"properties": {...}}) and returns its canonical report, or NULL with
 * every violation (InvalidParameter, target = the JSON path) in err. Fields the server owns
 * (status.state, status.targetGeneration, status.lastSeen, findings with a code the server owns)
 * and unknown members are ignored; null counts as absent. */
gp_machine_report *gp_machine_report_parse(const json_t *body, gp_error *err);
void gp_machine_report_free(gp_machine_report *r);
/* The canonical text of the report (keys sorted): two reports say the same exactly when their texts
 * are equal. malloc'd; NULL on OOM. */
char *gp_machine_report_text(const gp_machine_report *r);

/* The server's own findings about a report (each {"code", "severity", "expected", "found",
 * "message", "source": "server"}): `vm-size` when the reported vmSize is not the pool's (compared
 * case-insensitively; pool_vm_size NULL: not checked), `event-time` for health events dated before
 * 2000 or more than a day after now_ms. A new array; NULL on OOM. */
json_t *gp_machine_server_findings(const gp_machine_report *r, const char *pool_vm_size, int64_t now_ms);
/* Is one of these findings of severity error? */
bool gp_machine_findings_have_error(const json_t *findings);

/* What the state of a machine is decided from. */
typedef struct {
  bool reporting;     /* a report came within 3 x reportIntervalSeconds + the coalescing lag */
  bool health_failed; /* gp_machine_report.health_failed */
  bool applying;      /* appliedGeneration differs from targetGeneration */
  bool drifted;       /* agent_drift, or a server finding of severity error */
} gp_machine_facts;

/* The first that holds: NotReporting, Unhealthy, Applying, Drifted, Conformant. */
gp_machine_state gp_machine_state_of(const gp_machine_facts *f);
/* The coalescing lag of a machine: how long its lastSeen may wait in one replica's memory before
 * it is stored, min(coalesce_ms, its interval, 30 s). */
int64_t gp_machine_lag_ms(int interval_s, int64_t coalesce_ms);
/* Has a machine last seen at last_seen_ms reported recently enough at now_ms? */
bool gp_machine_is_reporting(int64_t last_seen_ms, int interval_s, int64_t coalesce_ms, int64_t now_ms);

/* The server's fields of a machine view. */
typedef struct {
  const char *id, *name, *etag;
  int64_t last_seen_ms, target_generation;
  gp_machine_state state;
} gp_machine_server;

/* The GET view: {"id", "name", "type", "properties": {the report, "status": {... its findings after
 * the agent's, "state", "targetGeneration", "lastSeen"}, "provisioningState": "Succeeded", "eTag"}}.
 * report and server_findings are the stored texts' JSON. NULL on OOM. */
json_t *gp_machine_view(const json_t *report, const json_t *server_findings, const gp_machine_server *s);

/* A pool's nodes by state. */
typedef struct {
  int64_t by_state[GP_MACHINE_STATE_COUNT];
} gp_machine_counts;

/* The pool view's `status.nodes`: {total, conformant, applying, drifted, unhealthy, notReporting,
 * missing}, missing = pool_count - registered, never below 0. NULL on OOM. */
json_t *gp_machine_counts_json(const gp_machine_counts *c, int64_t pool_count);

/* RFC 3339 date-times ("2026-11-26T18:40:31.123Z", "…+02:00"): milliseconds since the epoch. */
bool gp_time_parse(const char *s, int64_t *ms);
/* "2026-11-26T18:40:31.123Z" into buf (at least 32 bytes). */
void gp_time_format(int64_t ms, char *buf, size_t size);

#endif
