/* health.h - GPU health: what an Xid event or an NVML observation means for a GPU and its node.
 * Xid classes come from data/xid.csv (NVIDIA's Xid catalog, its "Resolution Bucket (Immediate
 * Action)" column); the node agent observes, the core decides. Pure: no clock, no I/O. */
#ifndef GPUPOOL_HEALTH_H
#define GPUPOOL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "gpupool/enums.h" /* gp_health and gp_health_class, whose order is severity */

/* A row of the Xid catalog (data/xid.csv). */
typedef struct {
  unsigned xid;
  const char *mnemonic;    /* ROBUST_CHANNEL_GPU_HAS_FALLEN_OFF_THE_BUS */
  const char *description; /* GPU has fallen off the bus */
  const char *bucket;      /* the catalog's immediate action: RESTART_BM */
  gp_health_class cls;
  const char *source; /* URL of the catalog */
} gp_xid_info;

/* The catalog row of an Xid; NULL when the catalog does not list it. */
const gp_xid_info *gp_xid_lookup(unsigned xid);
size_t gp_xid_count(void);
const gp_xid_info *gp_xid_at(size_t i);
/* The class of an Xid: the catalog's, or ResetRequired for an Xid it does not list (unknown to the
 * catalog: the GPU is Degraded and reset at the next drain, not declared Failed). */
gp_health_class gp_xid_class(unsigned xid);

/* What a class does to a GPU: Application -> Healthy (unchanged), ResetRequired -> Degraded,
 * Fatal -> Failed. */
gp_health gp_health_class_state(gp_health_class c);

/* API names: "Application", "ResetRequired", "Fatal"; "Healthy", "Degraded", "Failed" (the enum
 * tables gp_health_class_names and gp_health_names). UNSET or out of range: "ResetRequired" and
 * "Degraded" (never a NULL in a report). */
const char *gp_health_class_name(gp_health_class c);
const char *gp_health_state_name(gp_health s);
/* Reverse lookups (exact spelling); false when s is not one. */
bool gp_health_class_parse(const char *s, gp_health_class *out);
bool gp_health_state_parse(const char *s, gp_health *out);

/* NVML clock event reasons (nvmlClocksEventReason*) that mean the GPU is slowed down by heat or
 * power trouble, not by its normal power cap, idleness or settings: HW slowdown, SW/HW thermal
 * slowdown and HW power brake. */
#define GP_CLOCKS_HW_SLOWDOWN 0x08ull
#define GP_CLOCKS_SW_THERMAL 0x20ull
#define GP_CLOCKS_HW_THERMAL 0x40ull
#define GP_CLOCKS_HW_POWER_BRAKE 0x80ull
#define GP_CLOCKS_SLOWDOWN_MASK                                                                                        \
  (GP_CLOCKS_HW_SLOWDOWN | GP_CLOCKS_SW_THERMAL | GP_CLOCKS_HW_THERMAL | GP_CLOCKS_HW_POWER_BRAKE)

/* Everything known about one GPU at one moment. Counters are -1 when NVML could not tell (not
 * supported, MIG with active instances, an older driver). The Xid fields are the agent's memory of
 * what this boot has seen: the worst unresolved Xid of each class (0 = none). */
typedef struct {
  bool lost;                          /* NVML_ERROR_GPU_IS_LOST from a call on it */
  unsigned fatal_xid;                 /* a Fatal Xid seen this boot (sticky until reboot) */
  unsigned reset_xid;                 /* a ResetRequired Xid seen since the GPU was last reset */
  long long ecc_uncorrected_volatile; /* volatile uncorrectable ECC errors, -1 unknown */
  int remap_pending;                  /* remapped rows pending (1), none (0), -1 unknown */
  int remap_failure;                  /* a row remapping failed (1), never (0), -1 unknown */
  int retired_pages_pending;          /* pages pending retirement (1), none (0), -1 unknown */
  long long clock_event_reasons;      /* nvmlClocksEventReason bits, -1 unknown */
} gp_gpu_observation;

/* An observation with nothing known and nothing wrong. */
void gp_gpu_observation_init(gp_gpu_observation *o);

#define GP_HEALTH_MAX_REASONS 8
#define GP_HEALTH_REASON_SIZE 160

/* A GPU's health and why, worst reason first. */
typedef struct {
  gp_health state;
  gp_health_class worst; /* the class behind state (Application when Healthy) */
  size_t nreasons;
  char reasons[GP_HEALTH_MAX_REASONS][GP_HEALTH_REASON_SIZE];
  char taint_value[32]; /* when Failed: the value of the node's gpu-unhealthy taint ("79", "gpu-lost") */
} gp_gpu_health;

/* Decides a GPU's health from an observation: lost, a Fatal Xid or a row-remapping failure ->
 * Failed; a ResetRequired Xid, uncorrectable ECC errors since the last reset, remapped rows or
 * retired pages pending, or a thermal/power slowdown -> Degraded; otherwise Healthy. */
void gp_health_evaluate_gpu(const gp_gpu_observation *o, gp_gpu_health *out);

/* A node's health: the worst of its GPUs; Failed when GPUs the plan promises are missing
 * (missing > 0: a GPU that did not come up is lost for this boot). */
gp_health gp_health_node(const gp_health *gpus, size_t n, unsigned missing);

#endif
