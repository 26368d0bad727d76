/* plan.c - reads the plan (SPEC §6) that `gpupool plan` or gpupoold's plan endpoint produced, and
 * checks that it is one this agent can act on. Everything that ends up in a systemd file, a
 * command line or a manifest is validated here (known components, plain characters), because a
 * plan may come over the network. Strings stay borrowed from the parsed JSON. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "gpupool/catalog.h"
#include "gpupool/plan.h"

#define PLAN_MAX_BYTES (1024u * 1024u)

static const char *const known_components[] = {
    GP_COMPONENT_DRIVER,     GP_COMPONENT_FABRIC_MANAGER, GP_COMPONENT_MIG_PARTITION, GP_COMPONENT_DEVICE_PLUGIN,
    GP_COMPONENT_DRA_DRIVER, GP_COMPONENT_DCGM,           GP_COMPONENT_DCGM_EXPORTER};

/* Characters allowed in values that land in files and command lines: printable ASCII, no quotes,
 * backslashes, spaces or shell/systemd specials. */
static bool plain(const char *s, size_t max, const char *extra) {
  size_t n = 0;
  for (const char *p = s; *p; p++, n++) {
    unsigned char c = (unsigned char)*p;
    if (isalnum(c) || strchr("._-/:", c)) continue;
    if (extra && strchr(extra, c)) continue;
    return false;
  }
  return n <= max;
}

static const char *get_str(json_t *o, const char *key, bool required, const char *where, ag_err *err, bool *bad) {
  json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) {
    if (required) {
      ag_seterr(err, "%s: %s is missing", where, key);
      *bad = true;
    }
    return NULL;
  }
  if (!json_is_string(v)) {
    ag_seterr(err, "%s: %s must be a string", where, key);
    *bad = true;
    return NULL;
  }
  return json_string_value(v);
}

static bool fail(ag_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(ag_err *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return false;
}

static bool read_components(ag_plan *p, ag_err *err) {
  json_t *list = json_object_get(p->root, "components"), *c;
  size_t i;
  char where[64];
  if (!json_is_array(list)) return fail(err, "%s: components must be an array", p->path);
  if (json_array_size(list) > AG_MAX_COMPONENTS) return fail(err, "%s: too many components", p->path);
  json_array_foreach(list, i, c) {
    snprintf(where, sizeof where, "components[%zu]", i);
    bool bad = false;
    if (!json_is_object(c)) return fail(err, "%s: %s must be an object", p->path, where);
    ag_component *comp = &p->comps[p->ncomps];
    memset(comp, 0, sizeof *comp);
    comp->name = get_str(c, "name", true, where, err, &bad);
    comp->version = get_str(c, "version", false, where, err, &bad);
    comp->image = get_str(c, "image", false, where, err, &bad);
    if (bad) return false;
    bool known = false;
    for (size_t k = 0; k < sizeof known_components / sizeof *known_components; k++)
      known = known || strcmp(comp->name, known_components[k]) == 0;
    if (!known) {
      ag_seterr(err,
                "%s: %s: unknown component '%.64s'; this gpupool-agent knows " GP_COMPONENT_DRIVER
                ", " GP_COMPONENT_FABRIC_MANAGER ", " GP_COMPONENT_MIG_PARTITION ", " GP_COMPONENT_DEVICE_PLUGIN
                ", " GP_COMPONENT_DRA_DRIVER ", " GP_COMPONENT_DCGM " and " GP_COMPONENT_DCGM_EXPORTER
                " (update the agent)",
                p->path, where, comp->name);
      return false;
    }
    if (ag_plan_component(p, comp->name)) return fail(err, "%s: component %s is listed twice", p->path, comp->name);
    if ((comp->version && !plain(comp->version, 64, "+")) || (comp->image && !plain(comp->image, 256, "@+")))
      return fail(err, "%s: %s: version or image has characters a node file cannot carry", p->path, where);
    json_t *args = json_object_get(c, "args"), *a;
    size_t j;
    if (args && !json_is_null(args)) {
      if (!json_is_array(args) || json_array_size(args) > 32)
        return fail(err, "%s: %s: args must be an array of at most 32 strings", p->path, where);
      json_array_foreach(args, j, a) {
        if (!json_is_string(a) || !plain(json_string_value(a), 256, ",="))
          return fail(err, "%s: %s: every arg must be a plain string (letters, digits, ._-/:,=)", p->path, where);
      }
      comp->args = args;
    }
    json_t *port = json_object_get(c, "port");
    if (port && !json_is_null(port)) {
      if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)
        return fail(err, "%s: %s: port must be an integer 1-65535", p->path, where);
      comp->port = (int)json_integer_value(port);
    }
    p->ncomps++;
  }
  return true;
}

static bool profile_name_ok(const char *s) {
  int g = 0, gb = 0, n = 0;
  return s && sscanf(s, "%dg.%dgb%n", &g, &gb, &n) == 2 && g > 0 && g <= 8 && gb > 0 &&
         (s[n] == '\0' || strcmp(s + n, "+me") == 0);
}

static bool read_layout(ag_plan *p, ag_err *err) {
  json_t *l = json_object_get(p->root, "migLayout");
  if (!l || json_is_null(l)) return true;
  if (!json_is_object(l)) return fail(err, "%s: migLayout must be an object or null", p->path);
  json_t *per = json_object_get(l, "perGpu"), *inst = json_object_get(l, "instances"), *e;
  size_t i;
  if (!json_is_array(per) || json_array_size(per) == 0 || json_array_size(per) > 7 || !json_is_array(inst) ||
      json_array_size(inst) > 7)
    return fail(err, "%s: migLayout needs perGpu (1-7 entries) and instances (at most 7)", p->path);
  int total = 0;
  json_array_foreach(per, i, e) {
    ag_layout_group *g = &p->groups[p->ngroups];
    json_t *id = json_object_get(e, "id"), *count = json_object_get(e, "count");
    g->profile = json_string_value(json_object_get(e, "profile"));
    g->aks_profile = json_string_value(json_object_get(e, "aksProfile"));
    if (!profile_name_ok(g->profile) || !json_is_integer(id) || json_integer_value(id) < 0 ||
        json_integer_value(id) > 63 || !json_is_integer(count) || json_integer_value(count) < 1 ||
        json_integer_value(count) > 7 || (g->aks_profile && !plain(g->aks_profile, 16, NULL)))
      return fail(err, "%s: migLayout.perGpu entries need profile (like 1g.10gb), id 0-63 and count 1-7", p->path);
    g->id = (int)json_integer_value(id);
    g->count = (int)json_integer_value(count);
    total += g->count;
    p->ngroups++;
  }
  json_array_foreach(inst, i, e) {
    ag_layout_instance *in = &p->inst[p->ninst];
    json_t *id = json_object_get(e, "id"), *start = json_object_get(e, "start");
    in->profile = json_string_value(json_object_get(e, "profile"));
    if (!profile_name_ok(in->profile) || !json_is_integer(id) || json_integer_value(id) < 0 ||
        json_integer_value(id) > 63 || !json_is_integer(start) || json_integer_value(start) < 0 ||
        json_integer_value(start) > 7)
      return fail(err, "%s: migLayout.instances entries need profile, id and start 0-7", p->path);
    in->id = (int)json_integer_value(id);
    in->start = (int)json_integer_value(start);
    p->ninst++;
  }
  if (total > 7) return fail(err, "%s: migLayout has more than 7 instances per GPU", p->path);
  if (p->ninst && (int)p->ninst != total)
    return fail(err, "%s: migLayout is inconsistent: perGpu counts do not add up to the instances", p->path);
  p->has_layout = true;
  return true;
}

static bool read_objects(ag_plan *p, ag_err *err) {
  json_t *labels = json_object_get(p->root, "nodeLabels"), *alloc = json_object_get(p->root, "allocatable"), *v;
  const char *k;
  if (labels && !json_is_null(labels)) {
    if (!json_is_object(labels) || json_object_size(labels) > 256)
      return fail(err, "%s: nodeLabels must be an object of strings", p->path);
    json_object_foreach(labels, k, v) {
      if (!json_is_string(v) || !*k || !plain(k, 316, NULL) || !plain(json_string_value(v), 63, NULL) ||
          strchr(json_string_value(v), '/') || strchr(json_string_value(v), ':'))
        return fail(err, "%s: node label '%.80s' is not a valid Kubernetes label", p->path, k);
    }
    p->labels = labels;
  }
  json_t *taints = json_object_get(p->root, "nodeTaints");
  size_t i;
  if (taints && !json_is_null(taints)) {
    if (!json_is_array(taints) || json_array_size(taints) > 64)
      return fail(err, "%s: nodeTaints must be an array of at most 64 strings", p->path);
    json_array_foreach(taints, i, v) {
      if (!json_is_string(v) || !plain(json_string_value(v), 316, "=") || !strchr(json_string_value(v), ':'))
        return fail(err, "%s: node taint %zu is not a taint like key=value:NoSchedule", p->path, i);
    }
    p->taints = taints;
  }
  if (!json_is_object(alloc)) return fail(err, "%s: allocatable must be an object", p->path);
  json_object_foreach(alloc, k, v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0)
      return fail(err, "%s: allocatable '%.80s' must be a non-negative integer", p->path, k);
  }
  p->allocatable = alloc;
  return true;
}

bool ag_plan_load(const char *path, ag_plan *p, ag_err *err) {
  memset(p, 0, sizeof *p);
  size_t len = 0;
  char *buf = ag_read_file(path, PLAN_MAX_BYTES, &len, err);
  if (!buf) return false;
  bool ok = ag_plan_parse(buf, len, path, p, err);
  free(buf);
  return ok;
}

bool ag_plan_parse(const char *buf, size_t len, const char *path, ag_plan *p, ag_err *err) {
  memset(p, 0, sizeof *p);
  p->path = path;
  json_error_t je;
  p->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!p->root) {
    ag_seterr(err, "%s: not valid JSON: %s (line %d, column %d)", path, je.text, je.line, je.column);
    return false;
  }
  if (!json_is_object(p->root)) return fail(err, "%s: a plan is a JSON object", path);
  if (json_object_get(p->root, "error"))
    return fail(err, "%s: this is an error body, not a plan (the pool was refused: %.200s)", path,
                json_string_value(json_object_get(json_object_get(p->root, "error"), "message"))
                    ? json_string_value(json_object_get(json_object_get(p->root, "error"), "message"))
                    : "no message");
  bool bad = false;
  p->vm_size = get_str(p->root, "vmSize", true, path, err, &bad);
  if (bad) return false;
  if (!plain(p->vm_size, 64, NULL)) return fail(err, "%s: vmSize '%.64s' is not a VM size name", path, p->vm_size);
  p->k8s_version = get_str(p->root, "kubernetesVersion", false, path, err, &bad);
  p->os_type = get_str(p->root, "osType", false, path, err, &bad);
  if (bad) return false;
  if (p->k8s_version && !plain(p->k8s_version, 32, NULL))
    return fail(err, "%s: kubernetesVersion '%.32s' is not a version", path, p->k8s_version);
  int major = 0, minor = 0;
  if (p->k8s_version && sscanf(p->k8s_version, "%d.%d", &major, &minor) == 2 && major == 1) p->k8s_minor = minor;
  json_t *gen = json_object_get(p->root, "generation");
  if (gen && !json_is_integer(gen)) return fail(err, "%s: generation must be an integer", path);
  p->generation = gen ? json_integer_value(gen) : 0;

  json_t *gpu = json_object_get(p->root, "gpu");
  if (!gpu) return fail(err, "%s: gpu is missing (use null for a VM size without GPUs)", path);
  if (!json_is_null(gpu)) {
    json_t *count = json_object_get(gpu, "count");
    if (!json_is_object(gpu)) return fail(err, "%s: gpu must be an object or null", path);
    p->gpu_vendor = get_str(gpu, "vendor", true, "gpu", err, &bad);
    p->gpu_model = get_str(gpu, "model", true, "gpu", err, &bad);
    if (bad) return false;
    if (!json_is_integer(count) || json_integer_value(count) < 1 || json_integer_value(count) > 64)
      return fail(err, "%s: gpu.count must be an integer 1-64", path);
    if (!plain(p->gpu_vendor, 32, NULL) || !plain(p->gpu_model, 64, NULL))
      return fail(err, "%s: gpu.vendor or gpu.model has unexpected characters", path);
    p->has_gpu = true;
    p->gpu_count = (int)json_integer_value(count);
    p->mig_capable = json_is_true(json_object_get(gpu, "migCapable"));
  }
  json_t *eff = json_object_get(p->root, "effective");
  if (json_is_object(eff)) {
    p->management_mode = json_string_value(json_object_get(eff, "managementMode"));
    p->mig_strategy = json_string_value(json_object_get(eff, "migStrategy"));
    p->driver = json_string_value(json_object_get(eff, "driver"));
    if ((p->management_mode && !plain(p->management_mode, 32, NULL)) ||
        (p->mig_strategy && !plain(p->mig_strategy, 32, NULL)) || (p->driver && !plain(p->driver, 32, NULL)))
      return fail(err, "%s: effective values have unexpected characters", path);
  }
  if (!read_components(p, err) || !read_layout(p, err) || !read_objects(p, err)) return false;

  /* Cross-checks that keep node files consistent with each other. */
  if ((p->has_layout || ag_plan_component(p, GP_COMPONENT_DEVICE_PLUGIN) ||
       ag_plan_component(p, GP_COMPONENT_DCGM_EXPORTER)) &&
      !p->has_gpu)
    return fail(err, "%s: GPU components without a GPU (gpu is null)", path);
  const ag_component *mp = ag_plan_component(p, GP_COMPONENT_MIG_PARTITION);
  if ((mp != NULL) != p->has_layout) return fail(err, "%s: mig-partition and migLayout must come together", path);
  if (mp) {
    const char *ids = ag_plan_cgi_ids(p);
    if (!ids) return fail(err, "%s: mig-partition args need '-cgi IDS'", path);
    /* The ids must be the layout's instances in creation order. */
    ag_buf b = {0};
    for (size_t i = 0; i < p->ninst; i++)
      ag_buf_addf(&b, "%s%d", i ? "," : "", p->inst[i].id);
    char *want = ag_buf_take(&b);
    if (!want) return fail(err, "out of memory");
    bool same = strcmp(want, ids) == 0 || p->ninst == 0;
    free(want);
    if (!same) return fail(err, "%s: mig-partition -cgi '%.64s' does not match migLayout.instances", path, ids);
  }
  /* read_components accepted every name and arg, so only the plugin's strategy can be wrong here. */
  if (!gp_plan_node_setup_from_json(p->root, &p->setup)) {
    const ag_component *dp = ag_plan_component(p, GP_COMPONENT_DEVICE_PLUGIN);
    return fail(err, "%s: device plugin --mig-strategy '%.16s' is not none, single or mixed", path,
                dp ? gp_plugin_strategy_of_args(dp->args) : "");
  }
  return true;
}

void ag_plan_free(ag_plan *p) {
  json_decref(p->root);
  memset(p, 0, sizeof *p);
}

const ag_component *ag_plan_component(const ag_plan *p, const char *name) {
  for (size_t i = 0; i < p->ncomps; i++)
    if (strcmp(p->comps[i].name, name) == 0) return &p->comps[i];
  return NULL;
}

size_t ag_component_nargs(const ag_component *c) { return c && c->args ? json_array_size(c->args) : 0; }

const char *ag_component_arg(const ag_component *c, size_t i) {
  return c && c->args ? json_string_value(json_array_get(c->args, i)) : NULL;
}

const char *ag_plan_plugin_strategy(const ag_plan *p) { return gp_plugin_strategy_name(p->setup.plugin_strategy); }

const char *ag_plan_cgi_ids(const ag_plan *p) {
  const ag_component *c = ag_plan_component(p, GP_COMPONENT_MIG_PARTITION);
  for (size_t i = 0; c && i + 1 < ag_component_nargs(c); i++)
    if (strcmp(ag_component_arg(c, i), "-cgi") == 0) return ag_component_arg(c, i + 1);
  return NULL;
}

const char *ag_component_binary(const ag_plan *p, const char *name) {
  const gp_component_version *cv = p->k8s_minor ? gp_catalog_component(p->k8s_minor, name) : NULL;
  if (!cv) {
    /* A minor this agent's catalog does not know: the program does not change between minors. */
    int lo = 0, hi = -1;
    gp_catalog_k8s_range(&lo, &hi);
    for (int m = hi; !cv && m >= lo; m--)
      cv = gp_catalog_component(m, name);
  }
  return cv && cv->binary && *cv->binary ? cv->binary : NULL;
}
