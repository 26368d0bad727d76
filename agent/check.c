/* check.c - conformance of a node with its pool's plan: GPU count and model against the VM size,
 * the driver against the components, MIG mode and MIG instances against the layout, and what the
 * device plugin would advertise against plan.allocatable.
 *
 * Every finding says what was checked, what the plan expects, what the node has and what to do.
 * Severities: "error" (the node does not give what the plan promises), "warning" (it differs, but
 * workloads may still run: a pending MIG change, another driver version, a driver the plan does
 * not install) and "info" (worth knowing, not drift). Drift = any error or warning. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

typedef struct {
  json_t *list;
  bool oom;
} findings;

static void add(findings *f, const char *severity, const char *check, long gpu, const char *what, json_t *expected,
                json_t *found, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void add(findings *f, const char *severity, const char *check, long gpu, const char *what, json_t *expected,
                json_t *found, const char *fmt, ...) {
  char action[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(action, sizeof action, fmt, ap);
  va_end(ap);
  json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "severity", severity, "check", check, "what", what, "expected",
                        expected ? expected : json_null(), "found", found ? found : json_null(), "action", action);
  if (o && gpu >= 0) {
    json_t *g = json_pack("[I]", (json_int_t)gpu);
    if (json_object_set_new(o, "gpus", g)) f->oom = true;
  }
  if (json_array_append_new(f->list, o)) f->oom = true;
}

static json_t *str(const char *s) { return s ? json_string(s) : json_null(); }

/* Findings that differ only in their GPU become one finding listing the GPUs. */
static void merge(findings *f) {
  for (size_t i = 0; i < json_array_size(f->list); i++) {
    json_t *a = json_array_get(f->list, i), *ga = json_object_get(a, "gpus");
    if (!ga) continue;
    for (size_t j = i + 1; j < json_array_size(f->list);) {
      json_t *b = json_array_get(f->list, j), *gb = json_object_get(b, "gpus");
      bool same = gb != NULL;
      const char *keys[] = {"severity", "check", "what", "expected", "found", "action"};
      for (size_t k = 0; same && k < sizeof keys / sizeof *keys; k++)
        same = json_equal(json_object_get(a, keys[k]), json_object_get(b, keys[k]));
      if (!same) {
        j++;
        continue;
      }
      if (json_array_extend(ga, gb) || json_array_remove(f->list, j)) {
        f->oom = true;
        return;
      }
    }
  }
}

/* ---- allocatable --------------------------------------------------------------------------- */

static json_t *derive_allocatable(const ag_plan *p, const ag_inventory *inv, const char **why) {
  json_t *a = json_object();
  gp_mig_strategy strategy = p->setup.plugin_strategy;
  *why = NULL;
  if (!a || !strategy || !inv->driver_present || inv->ngpus == 0) return a;
  size_t mig_gpus = 0, instances = 0;
  const char *first_profile = NULL;
  bool uniform = true;
  for (size_t i = 0; i < inv->ngpus; i++) {
    const ag_gpu *g = &inv->gpus[i];
    if (g->mig_current != 1) continue;
    mig_gpus++;
    for (size_t j = 0; j < g->ninst; j++, instances++) {
      const char *pr = g->inst[j].profile ? g->inst[j].profile : "unknown";
      if (!first_profile)
        first_profile = pr;
      else if (strcmp(first_profile, pr) != 0)
        uniform = false;
    }
  }
  bool bad = false;
  if (strategy == GP_MIG_STRATEGY_MIXED) {
    for (size_t i = 0; i < inv->ngpus; i++) {
      const ag_gpu *g = &inv->gpus[i];
      if (g->mig_current != 1) {
        json_int_t n = json_integer_value(json_object_get(a, "nvidia.com/gpu"));
        bad |= json_object_set_new(a, "nvidia.com/gpu", json_integer(n + 1)) != 0;
        continue;
      }
      for (size_t j = 0; j < g->ninst; j++) {
        char key[96];
        snprintf(key, sizeof key, "nvidia.com/mig-%s", g->inst[j].profile ? g->inst[j].profile : "unknown");
        json_int_t n = json_integer_value(json_object_get(a, key));
        bad |= json_object_set_new(a, key, json_integer(n + 1)) != 0;
      }
    }
  } else if (strategy == GP_MIG_STRATEGY_SINGLE && mig_gpus > 0) {
    if (mig_gpus != inv->ngpus)
      *why = "refuses a node where only some GPUs have MIG enabled, so it advertises nothing";
    else if (!uniform)
      *why = "refuses a node with more than one MIG profile, so it advertises nothing";
    else if (instances == 0)
      *why = "finds MIG enabled but no MIG device, so it advertises nothing";
    else
      bad |= json_object_set_new(a, "nvidia.com/gpu", json_integer((json_int_t)instances)) != 0;
  } else {
    /* none, or single on a node without MIG: whole GPUs */
    bad |= json_object_set_new(a, "nvidia.com/gpu", json_integer((json_int_t)inv->ngpus)) != 0;
  }
  if (bad) {
    json_decref(a);
    return NULL;
  }
  return a;
}

json_t *ag_node_allocatable(const ag_plan *p, const ag_inventory *inv) {
  const char *why;
  return derive_allocatable(p, inv, &why);
}

/* ---- the checks ---------------------------------------------------------------------------- */

static void check_driver(findings *f, const ag_plan *p, const ag_inventory *inv) {
  const ag_component *drv = ag_plan_component(p, GP_COMPONENT_DRIVER);
  if (drv && !inv->driver_present) {
    add(f, "error", "driver", -1, "NVIDIA driver", json_pack("s+", "installed ", drv->version ? drv->version : ""),
        json_pack("s+", "absent: ", inv->driver_absent_reason ? inv->driver_absent_reason : "NVML unavailable"),
        "The plan installs the NVIDIA driver %s%s%s but the node has none loaded. The driver comes with the node "
        "bootstrap: check its logs, or reimage the node.",
        drv->version ? drv->version : "", drv->image ? " from " : "", drv->image ? drv->image : "");
  } else if (drv && drv->version && inv->driver_version && strcmp(drv->version, inv->driver_version) != 0) {
    add(f, "warning", "driver-version", -1, "NVIDIA driver version", str(drv->version), str(inv->driver_version),
        "The node runs another driver than the plan installs; upgrade or reimage the node so that its driver is %s.",
        drv->version);
  } else if (!drv && inv->driver_present) {
    add(f, "warning", "driver", -1, "NVIDIA driver", json_string("absent (the plan installs no GPU software)"),
        json_pack("s+", "loaded ", inv->driver_version ? inv->driver_version : "(unknown version)"),
        "The plan installs no NVIDIA driver. If you installed it yourself (for example with the NVIDIA GPU "
        "operator), this is expected; otherwise remove it or reimage the node.");
  }
}

/* What a GPU is when it is not the plan's model ("H100-NVL-94GB (NVIDIA H100 NVL)"); false when it is. */
static bool model_key(const ag_gpu *g, const char *want, char *buf, size_t size) {
  if (g->model && strcmp(g->model, want) == 0) return false;
  if (g->model)
    snprintf(buf, size, "%s (%s)", g->model, g->name ? g->name : "unnamed");
  else
    snprintf(buf, size, "not in the catalog: %s (PCI 0x%08X)", g->name ? g->name : "unnamed", g->pci_device_id);
  return true;
}

static void check_gpus(findings *f, const ag_plan *p, const ag_inventory *inv) {
  int want = p->has_gpu ? p->gpu_count : 0;
  bool nvidia = !p->has_gpu || strcmp(p->gpu_vendor, "NVIDIA") == 0;
  if (!inv->driver_present) {
    if (want > 0 && nvidia)
      add(f, "info", "gpu-count", -1, "GPU count", json_integer(want), NULL,
          "GPUs were not counted: without an NVIDIA driver there is no NVML to ask.");
    return;
  }
  if (!nvidia) {
    add(f, "info", "gpu-count", -1, "GPU count", json_integer(want), NULL,
        "The VM size has %s GPUs, which NVML cannot see; they were not counted.", p->gpu_vendor);
    want = 0;
  }
  if ((size_t)want != inv->ngpus) {
    if (p->has_gpu && !nvidia)
      add(f, "error", "gpu-count", -1, "NVIDIA GPU count", json_integer(0), json_integer((json_int_t)inv->ngpus),
          "VM size %s has %s GPUs, yet the node has NVIDIA GPUs: the pool's vmSize does not match the machine.",
          p->vm_size, p->gpu_vendor);
    else if (!p->has_gpu)
      add(f, "error", "gpu-count", -1, "GPU count", json_integer(0), json_integer((json_int_t)inv->ngpus),
          "VM size %s has no GPU in the catalog, yet the node has NVIDIA GPUs: the pool's vmSize does not match the "
          "machine, or the catalog (data/gpu-vm-sizes.csv) lacks this size.",
          p->vm_size);
    else
      add(f, "error", "gpu-count", -1, "GPU count", json_integer(want), json_integer((json_int_t)inv->ngpus),
          "VM size %s has %d GPU%s but the node sees %zu. %s", p->vm_size, want, want == 1 ? "" : "s", inv->ngpus,
          (size_t)want > inv->ngpus
              ? "Check that the machine is really this VM size and that no GPU fell off the bus (dmesg: Xid "
                "errors); deallocate and restart the VM if one did."
              : "The machine has more GPUs than its VM size: the pool's vmSize does not match the machine.");
  }
  if (!p->has_gpu || !nvidia) return;
  /* One finding per distinct wrong model, naming its GPUs. */
  for (size_t i = 0; i < inv->ngpus; i++) {
    char key[256], other[256], gpus[256] = "";
    if (!model_key(&inv->gpus[i], p->gpu_model, key, sizeof key)) continue;
    bool reported = false;
    for (size_t j = 0; j < i && !reported; j++)
      reported = model_key(&inv->gpus[j], p->gpu_model, other, sizeof other) && strcmp(key, other) == 0;
    if (reported) continue;
    size_t used = 0;
    for (size_t j = i; j < inv->ngpus; j++) {
      if (!model_key(&inv->gpus[j], p->gpu_model, other, sizeof other) || strcmp(key, other) != 0) continue;
      int n = snprintf(gpus + used, sizeof gpus - used, "%s%u", used ? "," : "", inv->gpus[j].index);
      if (n < 0 || (size_t)n >= sizeof gpus - used) break;
      used += (size_t)n;
    }
    char what[300];
    snprintf(what, sizeof what, "GPU model (GPU%s %s)", strchr(gpus, ',') ? "s" : "", gpus);
    add(f, "error", "gpu-model", -1, what, json_string(p->gpu_model), json_string(key),
        inv->gpus[i].model
            ? "The node's GPUs are not the model of VM size %s: the pool's vmSize does not match the machine."
            : "The GPU is not a model of the catalog (data/gpu-models.csv) and cannot be %s's GPU; add it to the "
              "catalog if it should be.",
        p->vm_size);
  }
}

static void check_mig_mode(findings *f, const ag_plan *p, const ag_inventory *inv) {
  if (!inv->driver_present || !p->has_gpu) return;
  bool want = p->has_layout;
  for (size_t i = 0; i < inv->ngpus; i++) {
    const ag_gpu *g = &inv->gpus[i];
    if (!g->mig_capable) {
      if (want)
        add(f, "error", "mig-mode", (long)g->index, "MIG mode", json_string("Enabled"), json_string("not MIG-capable"),
            "The plan has a MIG layout but this GPU cannot run MIG: the pool's vmSize does not match the machine.");
      continue;
    }
    bool cur = g->mig_current == 1, pend = g->mig_pending == 1;
    const char *want_s = want ? "Enabled" : "Disabled";
    if (cur != want && pend == want) {
      add(f, "warning", "mig-mode", (long)g->index, "MIG mode", json_string(want_s),
          json_pack("s+", cur ? "Enabled" : "Disabled", want ? " (Enabled pending)" : " (Disabled pending)"),
          "The MIG mode change is pending: reboot the node (Azure VMs apply MIG mode changes at boot), then run "
          "gpupool-agent apply --plan PLAN.json --execute%s.",
          want ? " to create the MIG instances" : "");
    } else if (cur != want) {
      if (want)
        add(f, "error", "mig-mode", (long)g->index, "MIG mode", json_string("Enabled"), json_string("Disabled"),
            "Enable MIG mode and reboot: gpupool-agent apply --plan PLAN.json --execute runs nvidia-smi -mig 1; "
            "after the reboot run it again to create the instances.");
      else
        add(f, "error", "mig-mode", (long)g->index, "MIG mode", json_string("Disabled"), json_string("Enabled"),
            "The plan has no MIG layout: destroy the MIG instances and disable MIG mode (gpupool-agent apply --plan "
            "PLAN.json --execute runs nvidia-smi mig -dci, -dgi and nvidia-smi -mig 0), then reboot.");
    } else if (pend != cur) {
      add(f, "warning", "mig-mode", (long)g->index, "MIG mode", json_string(want_s),
          json_pack("s+", want_s, want ? " (Disabled pending)" : " (Enabled pending)"),
          "A MIG mode change away from the plan is pending and takes effect at the next reboot: undo it with "
          "nvidia-smi -i %u -mig %d.",
          g->index, want ? 1 : 0);
    }
  }
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* "7 x 1g.10gb" style summary of a multiset of profile names, sorted so that equal sets compare
 * equal whatever the order. */
static json_t *summary(const char **names, size_t n) {
  if (n == 0) return json_string("none");
  qsort(names, n, sizeof *names, cmp_str);
  ag_buf b = {0};
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && strcmp(names[j], names[i]) == 0)
      j++;
    ag_buf_addf(&b, "%s%zu x %s", b.len ? ", " : "", j - i, names[i]);
    i = j;
  }
  char *s = ag_buf_take(&b);
  json_t *v = s ? json_string(s) : NULL;
  free(s);
  return v;
}

static void check_mig_instances(findings *f, const ag_plan *p, const ag_inventory *inv) {
  if (!inv->driver_present || !p->has_layout) return;
  const char *want[8];
  size_t nwant = 0;
  for (size_t i = 0; i < p->ngroups; i++)
    for (int k = 0; k < p->groups[i].count && nwant < 8; k++)
      want[nwant++] = p->groups[i].profile;
  json_t *expected = summary(want, nwant);
  for (size_t i = 0; i < inv->ngpus; i++) {
    const ag_gpu *g = &inv->gpus[i];
    if (g->mig_current != 1) continue;
    const char **have = calloc(g->ninst + 1, sizeof *have);
    if (!have) {
      f->oom = true;
      break;
    }
    bool ambiguous = false;
    for (size_t j = 0; j < g->ninst; j++) {
      have[j] = g->inst[j].profile ? g->inst[j].profile : g->inst[j].candidates ? g->inst[j].candidates : "unknown";
      ambiguous = ambiguous || !g->inst[j].profile;
    }
    json_t *found = summary(have, g->ninst);
    if (!json_equal(expected, found)) {
      add(f, "error", "mig-instances", (long)g->index, "MIG instances", json_deep_copy(expected), found,
          "Recreate the layout: stop the GPU workloads, then gpupool-agent apply --plan PLAN.json --execute destroys "
          "the GPU instances and creates them with nvidia-smi mig -cgi %s -C.%s",
          ag_plan_cgi_ids(p) ? ag_plan_cgi_ids(p) : "",
          ambiguous ? " (nvidia-smi XML cannot tell some profiles apart; run check without --from-xml to read them "
                      "through NVML.)"
                    : "");
      free(have);
      continue;
    }
    json_decref(found);
    free(have);
    /* Same profiles: compare placements when both sides know them. */
    bool known = p->ninst > 0;
    for (size_t j = 0; j < g->ninst; j++)
      known = known && g->inst[j].start >= 0;
    if (!known || g->ninst != p->ninst) continue;
    ag_buf wb = {0}, hb = {0};
    for (size_t j = 0; j < p->ninst; j++)
      ag_buf_addf(&wb, "%s%s@%d", j ? ", " : "", p->inst[j].profile, p->inst[j].start);
    for (size_t j = 0; j < g->ninst; j++)
      ag_buf_addf(&hb, "%s%s@%d", j ? ", " : "", g->inst[j].profile, g->inst[j].start);
    char *ws = ag_buf_take(&wb), *hs = ag_buf_take(&hb);
    if (!ws || !hs)
      f->oom = true;
    else if (strcmp(ws, hs) != 0)
      add(f, "info", "mig-placement", (long)g->index, "MIG placements (profile@first memory slice)", json_string(ws),
          json_string(hs),
          "The same instances sit at other memory slices than the plan creates them; nothing is advertised "
          "differently, so nothing needs doing.");
    free(ws);
    free(hs);
  }
  json_decref(expected);
}

static void check_allocatable(findings *f, const ag_plan *p, const ag_inventory *inv, json_t *node) {
  if (!node) {
    f->oom = true;
    return;
  }
  if (json_equal(node, p->allocatable)) return;
  const char *why = NULL, *strategy = ag_plan_plugin_strategy(p);
  json_decref(derive_allocatable(p, inv, &why));
  char lead[320] = "";
  if (strategy && why)
    snprintf(lead, sizeof lead, "The device plugin (MIG strategy %s) %s. ", strategy, why);
  else if (strategy)
    snprintf(lead, sizeof lead, "The device plugin (MIG strategy %s) advertises what the node has. ", strategy);
  else if (!inv->driver_present)
    snprintf(lead, sizeof lead, "Without a driver the node advertises nothing. ");
  add(f, "error", "allocatable", -1, "Allocatable GPU resources", json_deep_copy(p->allocatable), json_deep_copy(node),
      "%sPods requesting the plan's resources will not schedule as expected; fix the findings above and the device "
      "plugin advertises what the plan says.",
      lead);
}

json_t *ag_check(const ag_plan *p, const ag_inventory *inv, bool *drift) {
  findings f = {json_array(), false};
  json_t *node_alloc = ag_node_allocatable(p, inv);
  if (!f.list) {
    json_decref(node_alloc);
    return NULL;
  }
  check_driver(&f, p, inv);
  check_gpus(&f, p, inv);
  check_mig_mode(&f, p, inv);
  check_mig_instances(&f, p, inv);
  check_allocatable(&f, p, inv, node_alloc);
  merge(&f);
  int errors = 0, warnings = 0, infos = 0;
  size_t i;
  json_t *x;
  json_array_foreach(f.list, i, x) {
    const char *s = json_string_value(json_object_get(x, "severity"));
    if (!s) continue;
    if (strcmp(s, "error") == 0)
      errors++;
    else if (strcmp(s, "warning") == 0)
      warnings++;
    else
      infos++;
  }
  *drift = errors + warnings > 0;
  json_t *models = json_array();
  for (size_t k = 0; models && k < inv->ngpus; k++) {
    const char *m = inv->gpus[k].model;
    bool dup = false;
    json_t *e;
    size_t j;
    json_array_foreach(models, j, e) dup = dup || (m && json_string_value(e) && strcmp(json_string_value(e), m) == 0);
    if (!dup && json_array_append_new(models, m ? json_string(m) : json_string("unknown"))) f.oom = true;
  }
  json_t *r =
      json_pack("{s:s,s:{s:s,s:I,s:o},s:{s:s,s:b,s:o,s:I,s:o,s:o},s:o,s:{s:i,s:i,s:i}}", "result",
                *drift ? "drift" : "conformant", "plan", "vmSize", p->vm_size, "generation", (json_int_t)p->generation,
                "kubernetesVersion", str(p->k8s_version), "node", "source", inv->source, "driverLoaded",
                inv->driver_present, "driverVersion", str(inv->driver_version), "gpuCount", (json_int_t)inv->ngpus,
                "gpuModels", models ? models : json_null(), "allocatable", node_alloc ? node_alloc : json_null(),
                "findings", f.list, "summary", "errors", errors, "warnings", warnings, "info", infos);
  if (f.oom || !models || !node_alloc) {
    json_decref(r);
    return NULL;
  }
  return r;
}

static void print_value(FILE *out, json_t *v) {
  if (json_is_string(v)) {
    fputs(json_string_value(v), out);
    return;
  }
  if (json_is_null(v)) {
    fputs("-", out);
    return;
  }
  char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  fputs(s ? s : "?", out);
  free(s);
}

void ag_check_print_findings(FILE *out, const json_t *list) {
  json_t *x;
  size_t i;
  json_array_foreach(list, i, x) {
    const char *sev = json_string_value(json_object_get(x, "severity"));
    fprintf(out, "%-8s %-16s %s",
            strcmp(sev, "error") == 0     ? "ERROR"
            : strcmp(sev, "warning") == 0 ? "WARNING"
                                          : "INFO",
            json_string_value(json_object_get(x, "check")), json_string_value(json_object_get(x, "what")));
    json_t *gpus = json_object_get(x, "gpus"), *g;
    size_t j;
    json_array_foreach(gpus, j, g) fprintf(out, "%s%lld", j ? "," : (json_array_size(gpus) > 1 ? " (GPUs " : " (GPU "),
                                           (long long)json_integer_value(g));
    if (gpus) fputc(')', out);
    fputs("\n         expected: ", out);
    print_value(out, json_object_get(x, "expected"));
    fputs("\n         found:    ", out);
    print_value(out, json_object_get(x, "found"));
    fprintf(out, "\n         to do:    %s\n\n", json_string_value(json_object_get(x, "action")));
  }
}

bool ag_finding_refuses(const json_t *f) {
  const char *check = json_string_value(json_object_get(f, "check")),
             *severity = json_string_value(json_object_get(f, "severity"));
  if (!check || !severity || strcmp(severity, "error") != 0) return false;
  /* another GPU model, another GPU count, or no MIG where the plan has a layout: the machine is not
   * one of the plan's VM size, whatever apply does */
  const char *found = json_string_value(json_object_get(f, "found"));
  return strcmp(check, "gpu-count") == 0 || strcmp(check, "gpu-model") == 0 ||
         (strcmp(check, "mig-mode") == 0 && found && strcmp(found, "not MIG-capable") == 0);
}

void ag_check_print_text(FILE *out, const json_t *r) {
  json_t *plan = json_object_get(r, "plan"), *node = json_object_get(r, "node");
  fprintf(out, "plan: %s, generation %lld, Kubernetes %s\n", json_string_value(json_object_get(plan, "vmSize")),
          (long long)json_integer_value(json_object_get(plan, "generation")),
          json_string_value(json_object_get(plan, "kubernetesVersion"))
              ? json_string_value(json_object_get(plan, "kubernetesVersion"))
              : "?");
  fprintf(out, "node: %s, ", json_string_value(json_object_get(node, "source")));
  if (json_is_true(json_object_get(node, "driverLoaded")))
    fprintf(out, "driver %s, ",
            json_string_value(json_object_get(node, "driverVersion"))
                ? json_string_value(json_object_get(node, "driverVersion"))
                : "?");
  else
    fputs("no NVIDIA driver, ", out);
  json_int_t n = json_integer_value(json_object_get(node, "gpuCount"));
  fprintf(out, "%lld GPU%s", (long long)n, n == 1 ? "" : "s");
  json_t *models = json_object_get(node, "gpuModels"), *m;
  size_t i;
  json_array_foreach(models, i, m) fprintf(out, "%s%s", i ? ", " : " (", json_string_value(m));
  if (json_array_size(models)) fputc(')', out);
  fputs(", allocatable ", out);
  print_value(out, json_object_get(node, "allocatable"));
  fputs("\n\n", out);
  ag_check_print_findings(out, json_object_get(r, "findings"));
  json_t *s = json_object_get(r, "summary");
  long long e = json_integer_value(json_object_get(s, "errors")),
            w = json_integer_value(json_object_get(s, "warnings")), in = json_integer_value(json_object_get(s, "info"));
  fprintf(out, "result: %s (%lld error%s, %lld warning%s, %lld note%s)\n",
          strcmp(json_string_value(json_object_get(r, "result")), "drift") == 0 ? "DRIFT" : "conformant", e,
          e == 1 ? "" : "s", w, w == 1 ? "" : "s", in, in == 1 ? "" : "s");
}
