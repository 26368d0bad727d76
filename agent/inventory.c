/* inventory.c - the node inventory: what the node has, whichever source said it (NVML or
 * nvidia-smi XML), and its JSON form (`gpupool-agent discover`). Both sources fill the same
 * structure, so the same node gives the same JSON from either (tests compare them). */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "gpupool/catalog.h"

void ag_inventory_init(ag_inventory *inv, const char *source) {
  memset(inv, 0, sizeof *inv);
  inv->source = source;
  inv->driver_present = true;
}

void ag_gpu_clear(ag_gpu *g) {
  unsigned index = g->index;
  for (size_t j = 0; j < g->ninst; j++) {
    free(g->inst[j].profile);
    free(g->inst[j].candidates);
  }
  free(g->inst);
  free(g->uuid);
  free(g->name);
  free(g->bus_id);
  memset(g, 0, sizeof *g);
  g->index = index;
  g->memory_mib = AG_UNKNOWN;
  g->mig_current = g->mig_pending = AG_UNKNOWN;
}

void ag_inventory_free(ag_inventory *inv) {
  for (size_t i = 0; i < inv->ngpus; i++)
    ag_gpu_clear(&inv->gpus[i]);
  free(inv->gpus);
  free(inv->driver_version);
  free(inv->cuda_version);
  free(inv->driver_absent_reason);
  memset(inv, 0, sizeof *inv);
}

ag_gpu *ag_inventory_add_gpu(ag_inventory *inv) {
  ag_gpu *gpus = realloc(inv->gpus, (inv->ngpus + 1) * sizeof *gpus);
  if (!gpus) return NULL;
  inv->gpus = gpus;
  ag_gpu *g = &gpus[inv->ngpus];
  memset(g, 0, sizeof *g);
  g->index = (unsigned)inv->ngpus;
  ag_gpu_clear(g);
  inv->ngpus++;
  return g;
}

ag_mig_instance *ag_gpu_add_instance(ag_gpu *g) {
  ag_mig_instance *in = realloc(g->inst, (g->ninst + 1) * sizeof *in);
  if (!in) return NULL;
  g->inst = in;
  ag_mig_instance *m = &in[g->ninst++];
  memset(m, 0, sizeof *m);
  m->profile_id = m->start = m->size = AG_UNKNOWN;
  m->memory_mib = AG_UNKNOWN;
  return m;
}

static int by_start(const void *a, const void *b) {
  const ag_mig_instance *x = a, *y = b;
  /* Unknown placements (XML) sort after known ones, then by GPU instance id. */
  unsigned xs = x->start < 0 ? 99u : (unsigned)x->start, ys = y->start < 0 ? 99u : (unsigned)y->start;
  if (xs != ys) return xs < ys ? -1 : 1;
  return x->gi_id < y->gi_id ? -1 : x->gi_id > y->gi_id;
}

void ag_inventory_finish(ag_inventory *inv) {
  for (size_t i = 0; i < inv->ngpus; i++) {
    ag_gpu *g = &inv->gpus[i];
    const gp_gpu_model *m = g->pci_device_id ? gp_catalog_gpu_model_by_pci(g->pci_device_id) : NULL;
    if (!m && g->name) m = gp_catalog_gpu_model_by_name(g->name);
    g->model = m ? m->model : NULL;
    if (g->ninst > 1) qsort(g->inst, g->ninst, sizeof *g->inst, by_start);
  }
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }
static json_t *int_or_null(long long v) { return v < 0 ? json_null() : json_integer(v); }
static json_t *mode_json(int v) { return v < 0 ? json_null() : json_string(v ? "Enabled" : "Disabled"); }

json_t *ag_inventory_to_json(const ag_inventory *inv) {
  json_t *root = json_object(), *gpus = json_array();
  bool bad = !root || !gpus;
  if (bad) goto out;
  char pci[16];
  for (size_t i = 0; i < inv->ngpus; i++) {
    const ag_gpu *g = &inv->gpus[i];
    json_t *insts = json_array();
    for (size_t j = 0; insts && j < g->ninst; j++) {
      const ag_mig_instance *m = &g->inst[j];
      json_t *o =
          json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}", "gpuInstanceId", (json_int_t)m->gi_id, "profile",
                    str_or_null(m->profile), "profileId", int_or_null(m->profile_id), "start", int_or_null(m->start),
                    "size", int_or_null(m->size), "memoryMiB", int_or_null(m->memory_mib));
      if (o && m->candidates) {
        if (json_object_set_new(o, "profileCandidates", json_string(m->candidates))) bad = true;
      }
      if (json_array_append_new(insts, o)) bad = true;
    }
    if (g->pci_device_id) snprintf(pci, sizeof pci, "0x%08X", g->pci_device_id);
    json_t *o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:{s:o,s:o},s:o}", "index", (json_int_t)g->index, "uuid",
                          str_or_null(g->uuid), "name", str_or_null(g->name), "model", str_or_null(g->model),
                          "memoryMiB", int_or_null(g->memory_mib), "pciDeviceId",
                          g->pci_device_id ? json_string(pci) : json_null(), "pciBusId", str_or_null(g->bus_id),
                          "migCapable", g->mig_capable, "migMode", "current", mode_json(g->mig_current), "pending",
                          mode_json(g->mig_pending), "migInstances", insts ? insts : json_null());
    if (!insts || json_array_append_new(gpus, o)) bad = true;
  }
  if (json_object_set_new(root, "source", json_string(inv->source)) ||
      json_object_set_new(root, "driverLoaded", json_boolean(inv->driver_present)) ||
      json_object_set_new(root, "driverVersion", str_or_null(inv->driver_version)) ||
      json_object_set_new(root, "cudaVersion", str_or_null(inv->cuda_version)) ||
      json_object_set_new(root, "gpuCount", json_integer((json_int_t)inv->ngpus)))
    bad = true;
  if (!inv->driver_present && inv->driver_absent_reason &&
      json_object_set_new(root, "driverAbsentReason", json_string(inv->driver_absent_reason)))
    bad = true;
  if (json_object_set(root, "gpus", gpus)) bad = true;
out:
  json_decref(gpus);
  if (bad) {
    json_decref(root);
    return NULL;
  }
  return root;
}

bool ag_discover(const char *xml_path, ag_inventory *inv, ag_err *err) {
  if (xml_path) return ag_xml_discover(xml_path, inv, err);
  return ag_nvml_discover(inv, err);
}
