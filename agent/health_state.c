/* health_state.c - what the daemon remembers about its GPUs' health: the sticky states (a Fatal Xid
 * or a lost GPU holds until the node reboots, a ResetRequired Xid until the GPU is reset), the last
 * 20 health events, the taint it applied, all kept on disk keyed by the boot id so that a restart
 * of the agent forgets nothing and a reboot clears what a reboot clears. Every judgement goes to
 * the core (gp_health_evaluate_gpu, gp_health_node); this file only remembers and reports. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define HEALTH_FILE_MAX (256u * 1024u)

static void copy(char *dst, size_t size, const char *src) { snprintf(dst, size, "%s", src ? src : ""); }

/* Keeps the last AG_HEALTH_EVENTS events; when full, an Application event goes before any event
 * that changed health, so a storm of application faults cannot push a Fatal Xid out of view. */
static void add_event(ag_health *h, time_t t, int gpu, unsigned xid, gp_health_class cls, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void add_event(ag_health *h, time_t t, int gpu, unsigned xid, gp_health_class cls, const char *fmt, ...) {
  if (h->nevents == AG_HEALTH_EVENTS) {
    size_t drop = 0;
    for (size_t i = 0; i < h->nevents; i++)
      if (h->events[i].cls == GP_HEALTH_CLASS_APPLICATION) {
        drop = i;
        break;
      }
    memmove(&h->events[drop], &h->events[drop + 1], (h->nevents - drop - 1) * sizeof *h->events);
    h->nevents--;
  }
  ag_health_event *e = &h->events[h->nevents++];
  memset(e, 0, sizeof *e);
  ag_rfc3339(t, e->time, sizeof e->time);
  e->gpu = gpu;
  e->xid = xid;
  e->cls = cls;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

static ag_gpu_memory *gpu_at(ag_health *h, unsigned i) {
  if (i >= AG_WATCH_MAX_GPUS) return NULL;
  if (i >= h->ngpus) {
    for (unsigned k = h->ngpus; k <= i; k++) {
      memset(&h->gpus[k], 0, sizeof h->gpus[k]);
      h->gpus[k].health.state = GP_HEALTH_HEALTHY; /* nothing seen yet: nothing wrong */
      h->gpus[k].health.worst = GP_HEALTH_CLASS_APPLICATION;
      h->gpus[k].counters.ecc_uncorrected = h->gpus[k].counters.remap_pending = h->gpus[k].counters.remap_failure =
          h->gpus[k].counters.retired_pending = h->gpus[k].counters.clocks = -1;
    }
    h->ngpus = i + 1;
  }
  return &h->gpus[i];
}

void ag_health_xid(ag_health *h, const ag_xid_event *e) {
  ag_gpu_memory *g = gpu_at(h, e->gpu);
  if (!g) return;
  gp_health_class cls = gp_xid_class(e->xid);
  const gp_xid_info *x = gp_xid_lookup(e->xid);
  if (x)
    add_event(h, e->time, (int)e->gpu, e->xid, cls, "Xid %u %s: %s (catalog action %s)", e->xid, x->mnemonic,
              x->description, x->bucket);
  else
    add_event(h, e->time, (int)e->gpu, e->xid, cls, "Xid %u: not in the Xid catalog, treated as %s", e->xid,
              gp_health_class_name(cls));
  /* the first of each class is kept: it is what the operator will look up */
  if (cls == GP_HEALTH_CLASS_FATAL && !g->fatal_xid) g->fatal_xid = e->xid;
  if (cls == GP_HEALTH_CLASS_RESET_REQUIRED && !g->reset_xid) g->reset_xid = e->xid;
}

void ag_health_counters(ag_health *h, unsigned gpu, const ag_gpu_counters *c, time_t now) {
  ag_gpu_memory *g = gpu_at(h, gpu);
  if (!g || !c->known) return;
  const ag_gpu_counters *o = &g->counters;
  if (c->lost && !g->lost) {
    g->lost = true;
    add_event(h, now, (int)gpu, 0, GP_HEALTH_CLASS_FATAL, "GPU lost: NVML answers NVML_ERROR_GPU_IS_LOST");
  }
  if (c->ecc_uncorrected > 0 && c->ecc_uncorrected > o->ecc_uncorrected)
    add_event(h, now, (int)gpu, 0, GP_HEALTH_CLASS_RESET_REQUIRED,
              "%lld uncorrectable ECC error%s since the last GPU reset (was %lld)", c->ecc_uncorrected,
              c->ecc_uncorrected == 1 ? "" : "s", o->ecc_uncorrected < 0 ? 0 : o->ecc_uncorrected);
  if (c->remap_failure == 1 && o->remap_failure != 1)
    add_event(h, now, (int)gpu, 0, GP_HEALTH_CLASS_FATAL, "row remapping failed: no spare memory rows left");
  if (c->remap_pending == 1 && o->remap_pending != 1)
    add_event(h, now, (int)gpu, 0, GP_HEALTH_CLASS_RESET_REQUIRED, "row remapping pending: a GPU reset completes it");
  if (c->retired_pending == 1 && o->retired_pending != 1)
    add_event(h, now, (int)gpu, 0, GP_HEALTH_CLASS_RESET_REQUIRED, "pages pending retirement");
  g->counters = *c;
}

void ag_health_missing(ag_health *h, unsigned expected, unsigned seen, time_t now) {
  unsigned missing = expected > seen ? expected - seen : 0;
  if (missing && missing != h->missing)
    add_event(h, now, -1, 0, GP_HEALTH_CLASS_FATAL, "%u GPU%s missing: the plan's VM size has %u, NVML shows %u",
              missing, missing == 1 ? "" : "s", expected, seen);
  h->missing = missing;
  h->expected = expected;
}

void ag_health_gpu_reset(ag_health *h, unsigned gpu, time_t now) {
  if (gpu >= h->ngpus || !h->gpus[gpu].reset_xid) return;
  add_event(h, now, (int)gpu, 0, GP_HEALTH_CLASS_APPLICATION, "GPU reset: Xid %u cleared", h->gpus[gpu].reset_xid);
  h->gpus[gpu].reset_xid = 0;
}

void ag_health_sync_inventory(ag_health *h, const ag_inventory *inv) {
  for (size_t i = 0; i < inv->ngpus && i < AG_WATCH_MAX_GPUS; i++) {
    ag_gpu_memory *g = gpu_at(h, inv->gpus[i].index);
    if (!g) continue;
    g->present = true;
    if (inv->gpus[i].uuid) copy(g->uuid, sizeof g->uuid, inv->gpus[i].uuid);
    if (inv->gpus[i].lost && !g->lost) {
      g->lost = true;
      add_event(h, time(NULL), (int)inv->gpus[i].index, 0, GP_HEALTH_CLASS_FATAL,
                "GPU lost: NVML answers NVML_ERROR_GPU_IS_LOST");
    }
  }
}

bool ag_health_evaluate(ag_health *h) {
  bool changed = false;
  gp_health states[AG_WATCH_MAX_GPUS];
  h->taint[0] = '\0';
  for (unsigned i = 0; i < h->ngpus; i++) {
    ag_gpu_memory *g = &h->gpus[i];
    gp_gpu_observation o;
    gp_gpu_observation_init(&o);
    o.lost = g->lost;
    o.fatal_xid = g->fatal_xid;
    o.reset_xid = g->reset_xid;
    o.ecc_uncorrected_volatile = g->counters.ecc_uncorrected;
    o.remap_pending = (int)g->counters.remap_pending;
    o.remap_failure = (int)g->counters.remap_failure;
    o.retired_pages_pending = (int)g->counters.retired_pending;
    o.clock_event_reasons = g->counters.clocks;
    gp_gpu_health nh;
    gp_health_evaluate_gpu(&o, &nh);
    if (nh.state != g->health.state || nh.nreasons != g->health.nreasons ||
        memcmp(nh.reasons, g->health.reasons, sizeof nh.reasons) != 0)
      changed = true;
    g->health = nh;
    states[i] = nh.state;
    if (!h->taint[0] && nh.taint_value[0]) copy(h->taint, sizeof h->taint, nh.taint_value);
  }
  if (!h->taint[0] && h->missing) copy(h->taint, sizeof h->taint, "gpu-missing");
  gp_health node = gp_health_node(states, h->ngpus, h->missing);
  if (node != h->node) changed = true;
  h->node = node;
  return changed;
}

/* ---- JSON: the report and the file ------------------------------------------------------------- */

static json_t *event_json(const ag_health_event *e) {
  return json_pack("{s:s,s:o,s:o,s:s,s:s}", "time", e->time, "gpu", e->gpu < 0 ? json_null() : json_integer(e->gpu),
                   "xid", e->xid ? json_integer(e->xid) : json_null(), "class", gp_health_class_name(e->cls), "message",
                   e->message);
}

json_t *ag_health_to_json(const ag_health *h) {
  json_t *events = json_array();
  for (size_t i = 0; events && i < h->nevents; i++)
    if (json_array_append_new(events, event_json(&h->events[i]))) {
      json_decref(events);
      events = NULL;
    }
  if (!events) return NULL;
  return json_pack("{s:s,s:o}", "state", gp_health_state_name(h->node), "events", events);
}

bool ag_health_save(const ag_health *h, const char *path, ag_err *err) {
  json_t *gpus = json_array(), *events = json_array();
  bool bad = !gpus || !events;
  for (unsigned i = 0; !bad && i < h->ngpus; i++) {
    const ag_gpu_memory *g = &h->gpus[i];
    bad =
        json_array_append_new(gpus, json_pack("{s:i,s:s,s:i,s:i,s:b}", "index", (int)i, "uuid", g->uuid, "fatalXid",
                                              (int)g->fatal_xid, "resetXid", (int)g->reset_xid, "lost", g->lost)) != 0;
  }
  for (size_t i = 0; !bad && i < h->nevents; i++)
    bad = json_array_append_new(events, event_json(&h->events[i])) != 0;
  json_t *root = bad ? NULL
                     : json_pack("{s:i,s:s,s:o,s:o,s:s}", "version", 1, "bootId", h->boot_id, "gpus", gpus, "events",
                                 events, "tainted", h->tainted);
  if (!root) {
    if (bad) {
      json_decref(gpus);
      json_decref(events);
    }
    ag_seterr(err, "out of memory");
    return false;
  }
  char *text = json_dumps(root, JSON_INDENT(2));
  json_decref(root);
  bool ok = text && ag_write_file(path, text, strlen(text), err);
  if (!text) ag_seterr(err, "out of memory");
  free(text);
  return ok;
}

void ag_health_load(ag_health *h, const char *path, const char *boot_id) {
  memset(h, 0, sizeof *h);
  h->node = GP_HEALTH_HEALTHY;
  copy(h->boot_id, sizeof h->boot_id, boot_id);
  ag_err e;
  char *text = ag_read_file(path, HEALTH_FILE_MAX, NULL, &e);
  if (!text) return; /* first start */
  json_t *root = json_loads(text, 0, NULL);
  free(text);
  if (!json_is_object(root)) {
    ag_log("warn", "state", "%s is not a health file; starting from nothing", path);
    json_decref(root);
    return;
  }
  const char *boot = json_string_value(json_object_get(root, "bootId"));
  bool same_boot = boot && strcmp(boot, boot_id) == 0;
  const char *tainted = json_string_value(json_object_get(root, "tainted"));
  if (tainted && *tainted) {
    if (same_boot)
      copy(h->tainted, sizeof h->tainted, tainted);
    else
      copy(h->stale_taint, sizeof h->stale_taint, tainted);
  }
  json_t *list = json_object_get(root, "events"), *v;
  size_t i;
  json_array_foreach(list, i, v) {
    if (h->nevents == AG_HEALTH_EVENTS) break;
    ag_health_event *ev = &h->events[h->nevents];
    gp_health_class cls;
    json_t *gpu = json_object_get(v, "gpu"), *xid = json_object_get(v, "xid");
    const char *t = json_string_value(json_object_get(v, "time")),
               *m = json_string_value(json_object_get(v, "message"));
    if (!t || !m || !gp_health_class_parse(json_string_value(json_object_get(v, "class")), &cls)) continue;
    memset(ev, 0, sizeof *ev);
    copy(ev->time, sizeof ev->time, t);
    copy(ev->message, sizeof ev->message, m);
    ev->cls = cls;
    ev->gpu = json_is_integer(gpu) && json_integer_value(gpu) >= 0 && json_integer_value(gpu) < AG_WATCH_MAX_GPUS
                  ? (int)json_integer_value(gpu)
                  : -1;
    ev->xid = json_is_integer(xid) && json_integer_value(xid) > 0 && json_integer_value(xid) <= 0xFFFFFFFFll
                  ? (unsigned)json_integer_value(xid)
                  : 0;
    h->nevents++;
  }
  if (same_boot) {
    json_array_foreach(json_object_get(root, "gpus"), i, v) {
      json_t *idx = json_object_get(v, "index");
      if (!json_is_integer(idx) || json_integer_value(idx) < 0 || json_integer_value(idx) >= AG_WATCH_MAX_GPUS)
        continue;
      ag_gpu_memory *g = gpu_at(h, (unsigned)json_integer_value(idx));
      copy(g->uuid, sizeof g->uuid, json_string_value(json_object_get(v, "uuid")));
      json_int_t fx = json_integer_value(json_object_get(v, "fatalXid")),
                 rx = json_integer_value(json_object_get(v, "resetXid"));
      g->fatal_xid = fx > 0 && fx <= 0xFFFFFFFFll ? (unsigned)fx : 0;
      g->reset_xid = rx > 0 && rx <= 0xFFFFFFFFll ? (unsigned)rx : 0;
      g->lost = json_is_true(json_object_get(v, "lost"));
    }
  } else if (boot) {
    ag_log("info", "health", "the node rebooted since the last run (boot %s, now %s): GPU health starts afresh", boot,
           boot_id);
  }
  json_decref(root);
}
