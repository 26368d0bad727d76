/* daemon.h - internal interface of `gpupool-agent run`, the node daemon: its log, the NVML health
 * watcher, the node's health memory, the node's Kubernetes commands, the report it PUTs, the state
 * it keeps on disk and the HTTP client it talks to gpupoold with. run.c ties them together. */
#ifndef GPUPOOL_AGENT_DAEMON_H
#define GPUPOOL_AGENT_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "agent.h"
#include "gpupool/health.h"
#include "gpupool/version.h"

/* The agent reports the project version (VERSION, compiled in by the Makefile). */
#define AG_AGENT_VERSION gp_version()
#define AG_RUN_API_VERSION "2026-10-02-preview"

/* The daemon's options (run.c parses them). */
typedef struct {
  const char *endpoint, *machine, *api_version, *token, *cacert;
  const char *state_dir, *root, *node_name, *vm_size;
  const char *drain_cmd, *uncordon_cmd, *taint_cmd, *status_cmd;
  unsigned interval_s, health_poll_ms;
  bool execute, log_json;
} ag_run_opts;

/* ---- log (log.c) ------------------------------------------------------------------------------- */

void ag_log_init(bool json);
/* One line on stderr: level (info, warn, error), event (report, plan, apply, health, ...), text. */
void ag_log(const char *level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "2026-12-03T10:00:00Z" */
void ag_rfc3339(time_t t, char *buf, size_t size);

/* ---- NVML health watcher (watch.c) ------------------------------------------------------------- */

#define AG_WATCH_MAX_GPUS 64

typedef struct {
  unsigned gpu; /* NVML device index */
  unsigned xid;
  time_t time;
} ag_xid_event;

/* One GPU's counters; -1 where NVML cannot tell. */
typedef struct {
  bool known; /* the watcher has read this GPU */
  bool lost;  /* GPU_IS_LOST: the rest is -1 */
  long long ecc_uncorrected, remap_pending, remap_failure, retired_pending, clocks;
} ag_gpu_counters;

typedef struct ag_watch ag_watch;

/* Starts watching (NVML opened and Xid events registered before it returns, when NVML is there;
 * otherwise it keeps trying). A health change writes a byte to wake_fd. Counters are read every
 * poll_ms. NULL only when out of memory. */
ag_watch *ag_watch_start(int wake_fd, unsigned poll_ms);
/* Takes the queued Xid events (up to max) and copies the latest counters of every GPU. */
size_t ag_watch_take(ag_watch *w, ag_xid_event *events, size_t max, ag_gpu_counters *counters, unsigned *ngpus,
                     unsigned *dropped);
void ag_watch_stop(ag_watch *w);

/* ---- the node's GPU health memory (health_state.c) --------------------------------------------- */

#define AG_HEALTH_EVENTS 20

typedef struct {
  char time[32];
  int gpu;      /* -1: the node (GPUs missing) */
  unsigned xid; /* 0: not an Xid */
  gp_health_class cls;
  char message[256];
} ag_health_event;

typedef struct {
  bool present;
  char uuid[96];
  unsigned fatal_xid, reset_xid; /* sticky: until reboot, until reset (or reboot) */
  bool lost;                     /* sticky until reboot */
  ag_gpu_counters counters;
  gp_gpu_health health;
} ag_gpu_memory;

typedef struct {
  char boot_id[64];
  ag_gpu_memory gpus[AG_WATCH_MAX_GPUS];
  unsigned ngpus;
  unsigned missing, expected; /* GPUs the plan promises and NVML does not show */
  ag_health_event events[AG_HEALTH_EVENTS];
  size_t nevents;
  gp_health node;
  char taint[32];       /* the taint value the node should carry ("" = none) */
  char tainted[32];     /* the value the taint command last applied ("" = none) */
  char stale_taint[32]; /* a taint an earlier boot applied: removed at start (with --execute) */
} ag_health;

/* Loads the health memory from path (missing file: a fresh start). Sticky states of another boot
 * are dropped (a reboot clears Failed); the event history is kept. */
void ag_health_load(ag_health *h, const char *path, const char *boot_id);
bool ag_health_save(const ag_health *h, const char *path, ag_err *err);
/* The GPUs discovery found (uuid by index); lost GPUs from discovery count as lost. */
void ag_health_sync_inventory(ag_health *h, const ag_inventory *inv);
/* An Xid from the watcher. */
void ag_health_xid(ag_health *h, const ag_xid_event *e);
/* The latest counters of a GPU: events for what newly appears (lost, ECC, row remapping, pages). */
void ag_health_counters(ag_health *h, unsigned gpu, const ag_gpu_counters *c, time_t now);
/* The plan expects `expected` GPUs and discovery sees `seen` (0 expected: not checked). */
void ag_health_missing(ag_health *h, unsigned expected, unsigned seen, time_t now);
/* A GPU was reset: what a reset clears is forgotten. */
void ag_health_gpu_reset(ag_health *h, unsigned gpu, time_t now);
/* Re-evaluates every GPU and the node through the core; true when a state or reason changed. */
bool ag_health_evaluate(ag_health *h);
/* status.health: {state, events[]} */
json_t *ag_health_to_json(const ag_health *h);

/* ---- commands on the node (kube.c) ------------------------------------------------------------- */

/* A command started in the background. */
typedef struct {
  pid_t pid; /* running, 0 when not */
  char what[32];
  double deadline;
} ag_child;

/* Runs CMD ARGS... and waits (at most timeout_s, then SIGTERM, SIGKILL). stdout is captured into
 * *out (NULL to discard; at most 1 MiB kept); stderr goes to the agent's. Returns the exit status,
 * 124 on timeout or stop, -1 when it could not start. stop (may be NULL) is polled: when it
 * becomes true the command is terminated. */
int ag_exec_run(const char *cmd, const char *const *args, double timeout_s, char **out, const atomic_bool *stop);
/* Starts CMD ARGS... in the background (output discarded); ag_cmd_poll reaps it. */
bool ag_exec_start(ag_child *c, const char *what, const char *cmd, const char *const *args, double timeout_s);
/* -2 still running, else its exit status (124 timeout, -1 failure). */
int ag_exec_poll(ag_child *c);

typedef struct {
  bool known; /* the status command answered with a Node */
  bool ready, unschedulable;
  char kubelet_version[64]; /* "" unknown */
  char why[256];            /* when !known: what went wrong */
} ag_node_status;

/* Parses `kubectl get node NAME -o json` output. */
void ag_node_status_parse(const char *json, ag_node_status *st);

/* ---- the report (report.c) --------------------------------------------------------------------- */

typedef struct {
  const char *vm_size; /* NULL: unknown */
  const char *os_sku;  /* from /etc/os-release */
  const char *node_name;
  const ag_node_status *node;
  unsigned interval_s;
  long long applied_generation; /* 0: nothing applied yet */
  const ag_inventory *inv;      /* may be NULL (no discovery yet) */
  json_t *findings;             /* check findings (the check JSON's list), may be NULL */
  const ag_health *health;
} ag_report_input;

/* The machine PUT body: {"properties": {hardware, operatingSystem, kubernetes, status}}. */
json_t *ag_report_body(const ag_report_input *in);
/* The OS SKU as AKS names it (Ubuntu, AzureLinux, CBLMariner): the machine resource's osSKU is
 * AKS's enum, and gpupoold refuses a report with any other value. NULL for another OS (Debian,
 * RHEL, ...: reported as unknown) or when os-release cannot be read; id gets os-release's ID ("" when
 * none) for the log. */
char *ag_os_sku(const char *os_release_path, char *id, size_t id_size);

/* ---- what the daemon keeps on disk (state.c) -------------------------------------------------- */

typedef struct {
  long long applied_generation; /* 0: nothing applied */
  char etag[256];               /* ETag of plan_text, sent as If-None-Match */
  char *plan_text;              /* the latest plan (validated), NULL when none */
  char *applied_text;           /* the plan of the last finished apply, NULL when none */
} ag_saved;

/* Reads state.json, plan.json and applied-plan.json of the state directory; what does not parse,
 * or belongs to another machine, is ignored (logged). */
void ag_state_load(const char *dir, const char *machine, ag_saved *s);
/* Writes state.json (atomically: temp file, fsync, rename, fsync of the directory). */
bool ag_state_save(const char *dir, const char *machine, const ag_saved *s, const char *last_report, ag_err *err);
/* Writes one file of the state directory atomically. */
bool ag_state_write(const char *dir, const char *name, const char *text, ag_err *err);
void ag_saved_free(ag_saved *s);

/* ---- one plan change (step.c) ------------------------------------------------------------------ */

enum { AG_STEP_APPLIED, AG_STEP_FAILED, AG_STEP_DRAIN_FAILED, AG_STEP_REBOOT, AG_STEP_ABANDONED };

typedef struct {
  const ag_run_opts *opts;
  char *plan_text, *applied_text; /* owned by the caller */
  bool reset[AG_WATCH_MAX_GPUS];  /* GPUs to reset once the node is drained */
  /* results */
  int outcome;
  long long generation;
  json_t *findings; /* check after the apply (AG_STEP_APPLIED), owned */
  bool reset_done[AG_WATCH_MAX_GPUS];
  bool left_cordoned; /* the uncordon after a good apply failed */
} ag_step_job;

/* drain (when needed) -> reset GPUs -> apply -> check -> uncordon. stop ends it between phases and
 * ends a running drain (the node is uncordoned again). */
void ag_step_run(ag_step_job *j, const atomic_bool *stop);
/* Without --execute: logs what ag_step_run would do. */
void ag_step_preview(const ag_run_opts *o, const char *plan_text, const char *applied_text, const ag_inventory *inv);
/* `check` findings (the findings array) of the node against a plan, lost GPUs left out. */
json_t *ag_step_findings(const ag_plan *p, const ag_inventory *inv);
/* The inventory without its lost GPUs: a shallow view, freed with ag_inventory_view_free. */
bool ag_inventory_usable(const ag_inventory *in, ag_inventory *view);
void ag_inventory_view_free(ag_inventory *view);

/* ---- the disruption of a plan change (disruption.c) ------------------------------------------- */

/* Whether moving the node from plan `from` (NULL: nothing applied yet) to plan `to` needs the node
 * drained first (the core's class is Drain or Reboot); why says the class and the change that
 * decides it ("class Reboot: components[nvidia-driver] is added"). */
bool ag_plan_change_needs_drain(const ag_plan *from, const ag_plan *to, char *why, size_t size);

#endif
