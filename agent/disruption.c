/* disruption.c - whether a plan change needs the node drained before it is applied. One function,
 * on purpose: the rollouts work replaces its body with a call to the core's disruption class of
 * two plans (Drain and Reboot drain; None, InPlace and Restart do not). Until then it drains for
 * what certainly needs idle GPUs: a MIG layout change, a driver installed, removed or of another
 * version, and a driverMode change (device plugin <-> DRA). */
#include <string.h>

#include "daemon.h"

static const char *driver_version(const ag_plan *p) {
  const ag_component *d = p ? ag_plan_component(p, "nvidia-driver") : NULL;
  return d ? (d->version ? d->version : "") : NULL;
}

static const char *driver_mode(const ag_plan *p) {
  json_t *eff = p ? json_object_get(p->root, "effective") : NULL;
  return json_string_value(json_object_get(eff, "driverMode"));
}

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

bool ag_plan_change_needs_drain(const ag_plan *from, const ag_plan *to, char *why, size_t size) {
  json_t *la = from ? json_object_get(from->root, "migLayout") : NULL, *lb = json_object_get(to->root, "migLayout");
  if (json_is_null(la)) la = NULL;
  if (json_is_null(lb)) lb = NULL;
  const char *da = driver_version(from), *db = driver_version(to);
  if (!same_str(da, db)) {
    if (!da)
      snprintf(why, size, "the NVIDIA driver %s is installed", db);
    else if (!db)
      snprintf(why, size, "the NVIDIA driver %s is removed", da);
    else
      snprintf(why, size, "the NVIDIA driver changes from %s to %s", da, db);
    return true;
  }
  if (!(la == lb || (la && lb && json_equal(la, lb)))) {
    snprintf(why, size, "the MIG layout changes%s", !la ? " (MIG is enabled)" : !lb ? " (MIG is disabled)" : "");
    return true;
  }
  const char *ma = driver_mode(from), *mb = driver_mode(to);
  if (!same_str(ma, mb)) {
    snprintf(why, size, "the driver mode changes from %s to %s", ma ? ma : "none", mb ? mb : "none");
    return true;
  }
  snprintf(why, size, "no MIG layout, driver or driver mode change");
  return false;
}
