/* disruption.c - whether a plan change needs the node drained before it is applied: the core's
 * disruption class of the two plans (gp_plan_diff, the function gpupoold's what-if and the offline
 * CLI call too, so that the agent and the server decide alike). Drain and Reboot drain; None,
 * InPlace and Restart do not. */
#include <string.h>

#include "daemon.h"
#include "gpupool/plan_diff.h"

/* "components[nvidia-driver] is added": the first change of the diff's class, said in words. */
static void decisive(const json_t *d, gp_disruption cls, char *buf, size_t size) {
  const char *name = gp_enum_name(&gp_disruption_names, cls);
  size_t i;
  json_t *c;
  if (cls == GP_DISRUPTION_NONE) {
    snprintf(buf, size, "class None: nothing on the node changes");
    return;
  }
  json_array_foreach(json_object_get(d, "changes"), i, c) {
    if (!json_equal(json_object_get(c, "class"), json_object_get(d, "class"))) continue;
    bool added = json_is_null(json_object_get(c, "from")), removed = json_is_null(json_object_get(c, "to"));
    snprintf(buf, size, "class %s: %s %s", name, json_string_value(json_object_get(c, "path")),
             added     ? "is added"
             : removed ? "is removed"
                       : "changes");
    return;
  }
  snprintf(buf, size, "class %s", name);
}

bool ag_plan_change_needs_drain(const ag_plan *from, const ag_plan *to, char *why, size_t size) {
  gp_disruption cls;
  json_t *d = gp_plan_diff(from ? from->root : NULL, to->root, &cls);
  if (!d) {
    snprintf(why, size, "the change could not be classed (out of memory): draining to be safe");
    return true;
  }
  decisive(d, cls, why, size);
  json_decref(d);
  return cls >= GP_DISRUPTION_DRAIN;
}
