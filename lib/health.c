/* health.c - GPU health decisions: the Xid catalog lookup (tables generated from data/xid.csv) and
 * how an observation of a GPU (lost, Xid classes seen, ECC and row-remapping state, clock
 * slowdowns) becomes Healthy, Degraded or Failed. The node agent gathers the facts; every
 * judgement about them is made here, once. */
#include "gpupool/health.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "catalog_tables.h"

const gp_xid_info *gp_xid_lookup(unsigned xid) {
  /* the table is sorted by Xid (gen-catalog.awk checks it) */
  size_t lo = 0, hi = gp_tbl_xids_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (gp_tbl_xids[mid].xid == xid) return &gp_tbl_xids[mid];
    if (gp_tbl_xids[mid].xid < xid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

size_t gp_xid_count(void) { return gp_tbl_xids_count; }

const gp_xid_info *gp_xid_at(size_t i) { return i < gp_tbl_xids_count ? &gp_tbl_xids[i] : NULL; }

gp_health_class gp_xid_class(unsigned xid) {
  const gp_xid_info *x = gp_xid_lookup(xid);
  return x ? x->cls : GP_HEALTH_CLASS_RESET_REQUIRED;
}

gp_health gp_health_class_state(gp_health_class c) {
  switch (c) {
  case GP_HEALTH_CLASS_FATAL: return GP_HEALTH_FAILED;
  case GP_HEALTH_CLASS_RESET_REQUIRED: return GP_HEALTH_DEGRADED;
  case GP_HEALTH_CLASS_UNSET: /* no class: nothing happened to the GPU */
  case GP_HEALTH_CLASS_APPLICATION: break;
  }
  return GP_HEALTH_HEALTHY;
}

const char *gp_health_class_name(gp_health_class c) {
  const char *n = gp_enum_name(&gp_health_class_names, (int)c);
  return n ? n : "ResetRequired";
}

const char *gp_health_state_name(gp_health s) {
  const char *n = gp_enum_name(&gp_health_names, (int)s);
  return n ? n : "Degraded";
}

/* Exact spelling (reports are written by agents, which spell them canonically). */
static int parse_exact(const gp_enum_names *t, const char *s) {
  for (size_t i = 1; s && i < t->count; i++)
    if (strcmp(s, t->names[i]) == 0) return (int)i;
  return 0;
}

bool gp_health_class_parse(const char *s, gp_health_class *out) {
  int v = parse_exact(&gp_health_class_names, s);
  if (v) *out = (gp_health_class)v;
  return v != 0;
}

bool gp_health_state_parse(const char *s, gp_health *out) {
  int v = parse_exact(&gp_health_names, s);
  if (v) *out = (gp_health)v;
  return v != 0;
}

void gp_gpu_observation_init(gp_gpu_observation *o) {
  memset(o, 0, sizeof *o);
  o->ecc_uncorrected_volatile = -1;
  o->remap_pending = o->remap_failure = o->retired_pages_pending = -1;
  o->clock_event_reasons = -1;
}

static void reason(gp_gpu_health *h, gp_health_class cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reason(gp_gpu_health *h, gp_health_class cls, const char *fmt, ...) {
  gp_health s = gp_health_class_state(cls);
  if (s > h->state) {
    h->state = s;
    h->worst = cls;
  }
  if (h->nreasons == GP_HEALTH_MAX_REASONS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(h->reasons[h->nreasons++], GP_HEALTH_REASON_SIZE, fmt, ap);
  va_end(ap);
}

static void xid_reason(gp_gpu_health *h, unsigned xid) {
  const gp_xid_info *x = gp_xid_lookup(xid);
  gp_health_class cls = gp_xid_class(xid);
  if (x)
    reason(h, cls, "Xid %u %s: %s (catalog action %s)", xid, x->mnemonic, x->description, x->bucket);
  else
    reason(h, cls, "Xid %u: not in the Xid catalog (treated as %s)", xid, gp_health_class_name(cls));
}

void gp_health_evaluate_gpu(const gp_gpu_observation *o, gp_gpu_health *h) {
  memset(h, 0, sizeof *h);
  h->state = GP_HEALTH_HEALTHY;
  h->worst = GP_HEALTH_CLASS_APPLICATION;
  /* Failed first, in the order an operator would look for them. */
  if (o->lost) {
    reason(h, GP_HEALTH_CLASS_FATAL, "GPU lost: NVML answers NVML_ERROR_GPU_IS_LOST (fell off the bus)");
    snprintf(h->taint_value, sizeof h->taint_value, "gpu-lost");
  }
  if (o->fatal_xid) {
    xid_reason(h, o->fatal_xid);
    if (!h->taint_value[0]) snprintf(h->taint_value, sizeof h->taint_value, "%u", o->fatal_xid);
  }
  if (o->remap_failure == 1) {
    reason(h, GP_HEALTH_CLASS_FATAL, "row remapping failed: the GPU has no spare memory rows left");
    if (!h->taint_value[0]) snprintf(h->taint_value, sizeof h->taint_value, "row-remap-failure");
  }
  if (o->reset_xid) xid_reason(h, o->reset_xid);
  if (o->ecc_uncorrected_volatile > 0)
    reason(h, GP_HEALTH_CLASS_RESET_REQUIRED, "%lld uncorrectable ECC error%s since the last GPU reset",
           o->ecc_uncorrected_volatile, o->ecc_uncorrected_volatile == 1 ? "" : "s");
  if (o->remap_pending == 1)
    reason(h, GP_HEALTH_CLASS_RESET_REQUIRED, "row remapping pending: a GPU reset completes it");
  if (o->retired_pages_pending == 1)
    reason(h, GP_HEALTH_CLASS_RESET_REQUIRED, "pages pending retirement: a GPU reset or reboot completes it");
  if (o->clock_event_reasons > 0) {
    unsigned long long r = (unsigned long long)o->clock_event_reasons;
    static const struct {
      unsigned long long bit;
      const char *text;
    } slow[] = {{GP_CLOCKS_HW_THERMAL, "HW thermal slowdown"},
                {GP_CLOCKS_SW_THERMAL, "SW thermal slowdown"},
                {GP_CLOCKS_HW_POWER_BRAKE, "HW power brake slowdown"},
                {GP_CLOCKS_HW_SLOWDOWN, "HW slowdown"}};
    for (size_t i = 0; i < sizeof slow / sizeof *slow; i++)
      if (r & slow[i].bit)
        reason(h, GP_HEALTH_CLASS_RESET_REQUIRED, "%s: clocks are cut (check cooling and power)", slow[i].text);
  }
  if (h->state != GP_HEALTH_FAILED) h->taint_value[0] = '\0';
}

gp_health gp_health_node(const gp_health *gpus, size_t n, unsigned missing) {
  gp_health s = missing ? GP_HEALTH_FAILED : GP_HEALTH_HEALTHY;
  for (size_t i = 0; i < n; i++)
    if (gpus[i] > s) s = gpus[i];
  return s;
}
