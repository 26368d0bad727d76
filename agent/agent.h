/* agent.h - internal interface of gpupool-agent, the node agent: the node inventory (what NVML or
 * nvidia-smi says is there), the plan as the agent reads it (what should be there), and the
 * pieces that compare, render, apply and fetch. One concern a file under agent/; this header is
 * what they share. Decisions about GPUs stay in libgpupool: the agent only reads the plan the core
 * made and the catalog (GPU models, MIG profile names, component binaries). */
#ifndef GPUPOOL_AGENT_H
#define GPUPOOL_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gpupool/plan.h"

/* Exit statuses of every command (documented in `gpupool-agent --help` and docs/decisions.md). */
enum {
  AG_EXIT_OK = 0,        /* done; check: conformant; fetch: a new plan was written */
  AG_EXIT_ERROR = 1,     /* could not do it: bad input, NVML error, no GPU where one is needed */
  AG_EXIT_USAGE = 2,     /* bad command line */
  AG_EXIT_DRIFT = 3,     /* check: the node differs from the plan */
  AG_EXIT_UNCHANGED = 4, /* fetch: 304, the plan has not changed since the remembered ETag */
  AG_EXIT_REBOOT = 5     /* apply --execute: MIG mode change is pending until the node reboots */
};

/* An error message for the user, filled by the first failure on a path. */
typedef struct {
  char msg[1024];
  int nvml_rc; /* the NVML return code when an NVML call failed (nvml.c sets it), else untouched */
} ag_err;

void ag_seterr(ag_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- inventory (inventory.c) ------------------------------------------------------------------ */

#define AG_UNKNOWN (-1)

typedef struct {
  unsigned gi_id;       /* GPU instance id on its GPU */
  int profile_id;       /* GPU instance profile id (19 for 1g.10gb), AG_UNKNOWN when unknown */
  char *profile;        /* "1g.10gb"; NULL when it could not be told */
  char *candidates;     /* when profile is NULL: the profiles it may be, comma-separated, or NULL */
  int start, size;      /* placement in memory slices; AG_UNKNOWN when the source does not say */
  long long memory_mib; /* AG_UNKNOWN when the source does not say */
} ag_mig_instance;

typedef struct {
  unsigned index;
  char *uuid, *name, *bus_id; /* NULL when unknown */
  const char *model;          /* catalog model id (H100-80GB), NULL when not in the catalog */
  long long memory_mib;       /* AG_UNKNOWN when unknown */
  unsigned pci_device_id;     /* device << 16 | vendor; 0 when unknown */
  bool mig_capable;
  int mig_current, mig_pending; /* 1 enabled, 0 disabled, AG_UNKNOWN when not MIG-capable */
  ag_mig_instance *inst;        /* sorted by start (then GPU instance id) */
  size_t ninst;
  bool lost; /* NVML answered GPU_IS_LOST (only with ag_nvml_discover_keep_lost): the rest is unknown */
} ag_gpu;

typedef struct {
  const char *source;  /* "nvml" or "nvidia-smi-xml" */
  bool driver_present; /* false: NVML could not be loaded or the driver is not loaded */
  char *driver_absent_reason;
  char *driver_version, *cuda_version; /* NULL when unknown */
  ag_gpu *gpus;
  size_t ngpus;
} ag_inventory;

void ag_inventory_init(ag_inventory *inv, const char *source);
void ag_inventory_free(ag_inventory *inv);
/* Appends a zeroed GPU (index = position); NULL on OOM. */
ag_gpu *ag_inventory_add_gpu(ag_inventory *inv);
/* Frees what a GPU holds and leaves it empty (index kept, the rest unknown). */
void ag_gpu_clear(ag_gpu *g);
/* Appends a MIG instance with unknown fields; NULL on OOM. */
ag_mig_instance *ag_gpu_add_instance(ag_gpu *g);
/* Sorts instances by start then id, sets model from the catalog (PCI id first, then name). */
void ag_inventory_finish(ag_inventory *inv);
/* The inventory JSON of `discover`; NULL on OOM. */
json_t *ag_inventory_to_json(const ag_inventory *inv);
/* strdup that records OOM in *oom. */
char *ag_strdup(const char *s, bool *oom);

/* ---- discovery: NVML (nvml.c) and nvidia-smi XML (xml.c) -------------------------------------- */

/* The NVML library path: $GPUPOOL_NVML_LIBRARY, else libnvidia-ml.so.1. */
const char *ag_nvml_library(void);
/* Looks a function up in a dlopen'ed NVML into *fnptr (a function pointer of size bytes); false
 * when the library lacks it. */
bool ag_nvml_sym(void *lib, const char *name, void *fnptr, size_t size);
/* "GPU_IS_LOST" for NVML_ERROR_GPU_IS_LOST. */
const char *ag_nvml_rc_name(int rc);
/* Fills inv through NVML. Returns false on an NVML error (err says which call failed). A missing
 * library or a driver that is not loaded is not an error: inv->driver_present is false. */
bool ag_nvml_discover(ag_inventory *inv, ag_err *err);
/* The same, except that a GPU answering NVML_ERROR_GPU_IS_LOST is kept in the inventory marked lost
 * (what it had told before is unknown) instead of failing the whole discovery: the daemon reports
 * a node with a lost GPU rather than no node at all. */
bool ag_nvml_discover_keep_lost(ag_inventory *inv, ag_err *err);
/* Fills inv from `nvidia-smi -q -x` output. false on unreadable or malformed input. */
bool ag_xml_discover(const char *path, ag_inventory *inv, ag_err *err);
/* The same from memory (path names it in messages): what the fuzzer calls. */
bool ag_xml_parse(const char *buf, size_t len, const char *path, ag_inventory *inv, ag_err *err);
/* NVML, or the XML file when xml_path is set. */
bool ag_discover(const char *xml_path, ag_inventory *inv, ag_err *err);

/* ---- the plan as the agent reads it (plan.c) -------------------------------------------------- */

#define AG_MAX_COMPONENTS 16

typedef struct {
  const char *name, *version, *image; /* borrowed from the plan JSON; NULL when absent */
  json_t *args;                       /* array of strings, or NULL */
  int port;                           /* 0 when absent */
} ag_component;

typedef struct {
  const char *profile, *aks_profile; /* "1g.10gb", "MIG1g" (aks_profile may be NULL) */
  int id, count;
} ag_layout_group;

typedef struct {
  const char *profile;
  int id, start;
} ag_layout_instance;

typedef struct {
  json_t *root; /* owned */
  const char *path;
  const char *vm_size, *k8s_version, *os_type;
  int k8s_minor; /* 0 when the version cannot be read */
  long long generation;
  bool has_gpu;
  const char *gpu_vendor, *gpu_model;
  int gpu_count;
  bool mig_capable;
  const char *management_mode, *mig_strategy, *driver; /* effective values, NULL when absent */
  ag_component comps[AG_MAX_COMPONENTS];
  size_t ncomps;
  gp_node_setup setup; /* what runs on the node, as the core reads it from the components */
  bool has_layout;
  ag_layout_group groups[8];
  size_t ngroups;
  ag_layout_instance inst[8];
  size_t ninst;
  json_t *labels;      /* object of strings (borrowed) */
  json_t *taints;      /* array of "key=value:Effect" strings (borrowed), NULL when the plan has none */
  json_t *allocatable; /* object of integers (borrowed) */
} ag_plan;

/* Reads and validates a plan file. false with err set when it is not a plan this agent can use. */
bool ag_plan_load(const char *path, ag_plan *p, ag_err *err);
/* The same for a plan in memory (fetch validates a response before it replaces anything); path
 * names it in messages. */
bool ag_plan_parse(const char *buf, size_t len, const char *path, ag_plan *p, ag_err *err);
void ag_plan_free(ag_plan *p);
const ag_component *ag_plan_component(const ag_plan *p, const char *name);
/* Arg i of a component (NULL past the end). */
const char *ag_component_arg(const ag_component *c, size_t i);
size_t ag_component_nargs(const ag_component *c);
/* The device plugin's MIG strategy (setup.plugin_strategy): "single", "mixed" or "none". NULL when
 * the plan has no device plugin. */
const char *ag_plan_plugin_strategy(const ag_plan *p);
/* The -cgi ids of mig-partition ("19,19,19"), NULL when the plan has none. */
const char *ag_plan_cgi_ids(const ag_plan *p);
/* The program a component runs on the node (from the catalog), NULL when it has none. */
const char *ag_component_binary(const ag_plan *p, const char *name);

/* ---- check (check.c) -------------------------------------------------------------------------- */

/* What the node's device plugin would advertise, from the node's real MIG state and the plan's
 * device plugin strategy. New object; NULL on OOM. */
json_t *ag_node_allocatable(const ag_plan *p, const ag_inventory *inv);
/* The findings document of `check -o json`; *drift says whether any finding is drift. */
json_t *ag_check(const ag_plan *p, const ag_inventory *inv, bool *drift);
/* The findings as text. */
void ag_check_print_text(FILE *out, const json_t *report);
/* Only the findings (an array of check findings), as ag_check_print_text shows them. */
void ag_check_print_findings(FILE *out, const json_t *findings);
/* Does a check finding say that the node is not a machine the plan is for (GPU model, GPU count, no
 * MIG where the plan has a layout)? apply then refuses the plan. */
bool ag_finding_refuses(const json_t *finding);

/* ---- apply (apply.c) -------------------------------------------------------------------------- */

/* Makes the node (read into inv) what the plan says, files under root: prints the steps on out and
 * with exec runs them (failures on errout). The `apply` command and the daemon both call it.
 * Returns AG_EXIT_OK, AG_EXIT_ERROR or AG_EXIT_REBOOT (a MIG mode change waits for a reboot). */
int ag_apply_plan(const ag_plan *p, const ag_inventory *inv, const char *root, bool exec, FILE *out, FILE *errout);
/* The check findings for which the node cannot take the plan (ag_finding_refuses), as an array;
 * NULL when there are none (or when the check could not be made: out of memory). apply refuses
 * such a plan, in a dry run and with --execute alike, before it plans a single step. */
json_t *ag_apply_refusal(const ag_plan *p, const ag_inventory *inv);

/* ---- YAML through libyaml (yaml_out.c) -------------------------------------------------------- */

/* Emits the JSON values as YAML documents ("---" between them) into a new NUL-terminated buffer. */
char *ag_yaml_from_json(json_t *const *docs, size_t ndocs, ag_err *err);

/* ---- render (render.c, manifests.c) ----------------------------------------------------------- */

typedef struct {
  char *path;    /* relative to the output root, e.g. etc/gpupool/bootstrap.env */
  char *content; /* NUL-terminated */
} ag_file;

typedef struct {
  ag_file *files;
  size_t n;
} ag_fileset;

void ag_fileset_free(ag_fileset *fs);
/* Adds a file (takes ownership of content). false on OOM (content freed). */
bool ag_fileset_add(ag_fileset *fs, const char *path, char *content);

/* The node files of a plan (systemd drop-ins, mig-parted config, labels, bootstrap env). */
bool ag_render_node(const ag_plan *p, ag_fileset *fs, ag_err *err);
/* DaemonSet/Service manifests for the components that run as pods; pool may be NULL. */
bool ag_render_kubernetes(const ag_plan *p, const char *pool, ag_fileset *fs, ag_err *err);
/* Systemd units of the plan's components (in plan order), and all units gpupool manages. */
size_t ag_plan_units(const ag_plan *p, const char **units, size_t max);
extern const char *const ag_managed_units[];
extern const size_t ag_managed_unit_count;
/* The systemd unit a component runs as, NULL when it runs as none. */
const char *ag_component_unit(const char *component);
/* Drop-in path (relative) that gpupool writes for a unit, NULL when none. */
const char *ag_dropin_path(const char *unit);
/* What a unit of the plan runs with, as 16 hex digits: its component's name, version and image and
 * its drop-in among the rendered files fs. bootstrap.env records it (GPUPOOL_UNIT_CONFIGS); apply
 * restarts a unit whose fingerprint differs from the one the last finished apply recorded. */
void ag_unit_fingerprint(const ag_plan *p, const ag_fileset *fs, const char *unit, char out[17]);

/* ---- files (util.c) --------------------------------------------------------------------------- */

/* Reads a whole file of at most max bytes; NUL-terminated. NULL with err on failure. */
char *ag_read_file(const char *path, size_t max, size_t *len, ag_err *err);
/* mkdir -p of the directory part of path. */
bool ag_mkdirs_for(const char *path, ag_err *err);
/* Writes content to path atomically (temp file + rename), mode 0644. */
bool ag_write_file(const char *path, const char *content, size_t len, ag_err *err);
/* root + "/" + rel (root NULL or "/" gives "/" + rel); NULL on OOM. */
char *ag_join(const char *root, const char *rel);
/* printf into a new string; NULL on OOM. */
char *ag_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable string. */
typedef struct {
  char *s;
  size_t len, cap;
  bool oom;
} ag_buf;
void ag_buf_add(ag_buf *b, const char *s);
void ag_buf_addf(ag_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the string (NULL on OOM; the buffer is reset either way). */
char *ag_buf_take(ag_buf *b);

/* ---- HTTP responses (http.c), for fetch and the daemon ----------------------------------------- */

#define AG_HTTP_MAX_BODY (1024u * 1024u)

typedef struct {
  ag_buf body;
  bool too_big;   /* more than AG_HTTP_MAX_BODY: the transfer was ended */
  char etag[256]; /* the ETag header, "" when none */
} ag_http_response;

/* CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION with an ag_http_response as their data. */
size_t ag_http_on_body(char *data, size_t size, size_t nmemb, void *userp);
size_t ag_http_on_header(char *data, size_t size, size_t nmemb, void *userp);
/* No control characters: safe to send back in a header. */
bool ag_header_safe(const char *s);

/* ---- commands (one file each) ------------------------------------------------------------------ */

int ag_cmd_discover(int argc, char **argv);
int ag_cmd_check(int argc, char **argv);
int ag_cmd_render(int argc, char **argv);
int ag_cmd_apply(int argc, char **argv);
int ag_cmd_fetch(int argc, char **argv);
int ag_cmd_daemon(int argc, char **argv); /* `run` (run.c) */
int ag_cmd_xid(int argc, char **argv);
int ag_cmd_diff(int argc, char **argv);

/* Command-line helpers (main.c). */
int ag_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ag_print_json(FILE *out, const json_t *v);

#endif
