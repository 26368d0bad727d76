/* plan_diff.c - the disruption class of a plan change (plan_diff.h): every member of two plans that
 * differs, with the class of what that difference does to a node, and the highest of them.
 *
 * The classes are a table (members[] and component_class below), one row per kind of change, so
 * that a reader can check each row against docs/decisions.md ("Disruption classes and what-if").
 * The comparison is of the plan's JSON, not of the pool: a node runs what its plan says, and a plan
 * it applied may come from another pool setting, an older catalog or an older gpupool. Members are
 * compared as JSON values (null counts as absent), so two plans gp_plan_build made from the same
 * pool compare equal whatever order the user wrote things in. */
#include "gpupool/plan_diff.h"

#include <stdlib.h>
#include <string.h>

#include "gpupool/plan.h"

static const char *const disruption_list[] = {NULL, "None", "InPlace", "Restart", "Drain", "Reboot"};
const gp_enum_names gp_disruption_names = {disruption_list, sizeof disruption_list / sizeof disruption_list[0]};

#define NONE GP_DISRUPTION_NONE
#define IN_PLACE GP_DISRUPTION_IN_PLACE
#define RESTART GP_DISRUPTION_RESTART
#define DRAIN GP_DISRUPTION_DRAIN
#define REBOOT GP_DISRUPTION_REBOOT

/* How a member is compared. */
typedef enum {
  WHOLE,      /* one change for the member, of the row's class */
  PER_KEY,    /* an object: one change per key that differs, each of the row's class */
  COMPONENTS, /* the components, one by one (component_class) */
  MIG_LAYOUT  /* MIG on <-> off, or another layout */
} how;

/* ---- the class table ----------------------------------------------------------------------------- */

static const struct member_rule {
  const char *member;
  how how;
  gp_disruption cls; /* WHOLE and PER_KEY */
  bool identity;     /* what the node is: not compared for a node that has applied nothing */
} members[] = {
    /* Another VM size, GPU or OS is another machine: gpupool cannot turn one into the other. */
    {"vmSize", WHOLE, REBOOT, true},
    {"gpu", WHOLE, REBOOT, true},
    {"osType", WHOLE, REBOOT, true},
    {"osSKU", WHOLE, REBOOT, true},
    /* The kubelet comes with the node image, not from gpupool; what a new Kubernetes minor changes
     * in the GPU software shows in the components' versions. */
    {"kubernetesVersion", WHOLE, NONE, true},
    {"components", COMPONENTS, NONE, false},
    {"migLayout", MIG_LAYOUT, NONE, false},
    /* Labels and taints are set on the Node object through the Kubernetes API: nothing restarts. */
    {"nodeLabels", PER_KEY, IN_PLACE, false},
    {"nodeTaints", WHOLE, IN_PLACE, false},
    /* What the device plugin advertises follows from its args and the MIG layout, classed there. */
    {"allocatable", WHOLE, NONE, false},
    /* The settings behind the plan and the explanations: why, not what runs. */
    {"effective", WHOLE, NONE, false},
    {"decisions", WHOLE, NONE, false},
    {"warnings", WHOLE, NONE, false},
    {"generation", WHOLE, NONE, true},
};
#define NMEMBERS (sizeof members / sizeof members[0])
/* A member the plan format does not define changes nothing on a node (the agent acts on nothing it
 * does not know): None, listed after the others. */

static bool is(const char *name, const char *component) { return strcmp(name, component) == 0; }

/* The class of a component added or removed (whole) or of a change of one of its fields. */
static gp_disruption component_class(const char *name, bool whole, bool plugin_swapped) {
  if (is(name, GP_COMPONENT_DRIVER)) return whole ? REBOOT : DRAIN;          /* install <-> none; another version */
  if (is(name, GP_COMPONENT_MIG_PARTITION)) return whole ? REBOOT : DRAIN;   /* MIG mode on <-> off; the layout */
  if (is(name, GP_COMPONENT_FABRIC_MANAGER)) return whole ? RESTART : DRAIN; /* its version is the driver's */
  if ((is(name, GP_COMPONENT_DEVICE_PLUGIN) || is(name, GP_COMPONENT_DRA_DRIVER)) && whole && plugin_swapped)
    return DRAIN; /* driverMode DevicePlugin <-> DRA: GPUs one allocated cannot pass to the other */
  return RESTART; /* device plugin, DRA driver, DCGM, exporter: added, removed, versions, args */
}

/* ---- collecting changes ---------------------------------------------------------------------- */

typedef struct {
  json_t *changes; /* NULL: only the class is wanted */
  gp_disruption cls;
  bool oom;
} diff;

static const json_t *present(const json_t *v) { return json_is_null(v) ? NULL : v; }

static bool same(const json_t *a, const json_t *b) {
  a = present(a);
  b = present(b);
  return a == b || (a && b && json_equal(a, b));
}

static void change(diff *d, const char *path, const json_t *from, const json_t *to, gp_disruption cls) {
  if (cls > d->cls) d->cls = cls;
  if (!d->changes) return;
  from = present(from);
  to = present(to);
  json_t *c = json_pack("{s:s,s:O,s:O,s:s}", "path", path, "from", from ? (json_t *)from : json_null(), "to",
                        to ? (json_t *)to : json_null(), "class", gp_enum_name(&gp_disruption_names, cls));
  if (!c || json_array_append_new(d->changes, c)) d->oom = true;
}

/* "member[key]" or "member[key].field" into buf (cut at its size: paths are for reading). */
static const char *path_of(char *buf, size_t size, const char *member, const char *key, const char *field) {
  snprintf(buf, size, "%s[%s]%s%s", member, key, field ? "." : "", field ? field : "");
  return buf;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The keys of two objects (either may be NULL), sorted, without repeats. NULL when out of memory. */
static const char **union_keys(const json_t *a, const json_t *b, size_t *n) {
  size_t cap = json_object_size(a) + json_object_size(b), k = 0;
  const char **keys = malloc((cap ? cap : 1) * sizeof *keys);
  const char *key;
  json_t *v;
  if (!keys) return NULL;
  json_object_foreach((json_t *)a, key, v) keys[k++] = key;
  json_object_foreach((json_t *)b, key, v) if (!json_object_get(a, key)) keys[k++] = key;
  qsort(keys, k, sizeof *keys, cmp_str);
  *n = k;
  return keys;
}

/* One change, of class cls, per key of two objects whose values differ: paths member[k], or
 * member[name].k when name is given (the fields of a component). */
static void per_key(diff *d, const char *member, const char *name, const json_t *a, const json_t *b,
                    gp_disruption cls) {
  size_t n = 0;
  char path[512];
  const char **keys = union_keys(json_is_object(a) ? a : NULL, json_is_object(b) ? b : NULL, &n);
  if (!keys) {
    d->oom = true;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);
    if (!same(x, y))
      change(d, path_of(path, sizeof path, member, name ? name : keys[i], name ? keys[i] : NULL), x, y, cls);
  }
  free(keys);
}

/* ---- components -------------------------------------------------------------------------------- */

static const json_t *component(const json_t *list, const char *name) {
  size_t i;
  json_t *c;
  json_array_foreach((json_t *)list, i, c) {
    const char *n = json_string_value(json_object_get(c, "name"));
    if (n && strcmp(n, name) == 0) return c;
  }
  return NULL;
}

static void component_change(diff *d, const char *name, const json_t *a, const json_t *b, bool swapped) {
  char path[512];
  if (!a || !b)
    change(d, path_of(path, sizeof path, "components", name, NULL), a, b, component_class(name, true, swapped));
  else
    per_key(d, "components", name, a, b, component_class(name, false, swapped));
}

/* Component by component, in the order of `to`, then those only `from` had, in theirs. */
static void components(diff *d, const json_t *a, const json_t *b) {
  if (!json_is_array(a)) a = NULL;
  if (!json_is_array(b)) b = NULL;
  bool fp = component(a, GP_COMPONENT_DEVICE_PLUGIN), tp = component(b, GP_COMPONENT_DEVICE_PLUGIN),
       fd = component(a, GP_COMPONENT_DRA_DRIVER), td = component(b, GP_COMPONENT_DRA_DRIVER);
  bool swapped = (fp && !fd && !tp && td) || (!fp && fd && tp && !td);
  size_t i;
  json_t *c;
  json_array_foreach((json_t *)b, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!name || component(b, name) != c) continue; /* unnamed, or listed twice: the first counts */
    component_change(d, name, component(a, name), c, swapped);
  }
  json_array_foreach((json_t *)a, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    if (!name || component(a, name) != c || component(b, name)) continue;
    component_change(d, name, c, NULL, swapped);
  }
}

/* ---- the plans ----------------------------------------------------------------------------------- */

static void member(diff *d, const struct member_rule *r, const json_t *a, const json_t *b) {
  switch (r->how) {
  case COMPONENTS: components(d, a, b); return;
  case PER_KEY: per_key(d, r->member, NULL, a, b, r->cls); return;
  case MIG_LAYOUT:
    if (!same(a, b)) change(d, r->member, a, b, present(a) && present(b) ? DRAIN : REBOOT);
    return;
  case WHOLE:
    if (!same(a, b)) change(d, r->member, a, b, r->cls);
    return;
  }
}

static bool defined(const char *key) {
  for (size_t i = 0; i < NMEMBERS; i++)
    if (strcmp(members[i].member, key) == 0) return true;
  return false;
}

static gp_disruption run(const json_t *from, const json_t *to, json_t *changes, bool *oom) {
  diff d = {changes, NONE, false};
  if (!json_is_object(to) || (from && !json_is_object(from))) return GP_DISRUPTION_UNSET;
  for (size_t i = 0; i < NMEMBERS; i++) {
    if (!from && members[i].identity) continue;
    member(&d, &members[i], json_object_get(from, members[i].member), json_object_get(to, members[i].member));
  }
  if (from) {
    size_t n = 0;
    const char **keys = union_keys(from, to, &n);
    if (!keys) d.oom = true;
    for (size_t i = 0; keys && i < n; i++) {
      const json_t *x = json_object_get(from, keys[i]), *y = json_object_get(to, keys[i]);
      if (!defined(keys[i]) && !same(x, y)) change(&d, keys[i], x, y, NONE);
    }
    free(keys);
  }
  *oom = d.oom;
  return d.cls;
}

json_t *gp_plan_diff(const json_t *from, const json_t *to, gp_disruption *cls) {
  bool oom = false;
  json_t *changes = json_array();
  gp_disruption c = changes ? run(from, to, changes, &oom) : GP_DISRUPTION_UNSET;
  json_t *out = NULL;
  if (c != GP_DISRUPTION_UNSET && !oom)
    out = json_pack("{s:s,s:O}", "class", gp_enum_name(&gp_disruption_names, c), "changes", changes);
  json_decref(changes);
  if (cls) *cls = out ? c : GP_DISRUPTION_UNSET;
  return out;
}

gp_disruption gp_plan_disruption(const json_t *from, const json_t *to) {
  bool oom = false;
  return run(from, to, NULL, &oom);
}

bool gp_plan_same_content(const json_t *a, const json_t *b) {
  if (!json_is_object(a) || !json_is_object(b) || json_object_size(a) != json_object_size(b)) return false;
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)a, key, v) {
    if (strcmp(key, "generation") != 0 && !json_equal(v, json_object_get(b, key))) return false;
  }
  return json_object_get(b, "generation") || !json_object_get(a, "generation");
}
