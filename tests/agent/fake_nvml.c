/* fake_nvml.c - a fake libnvidia-ml for the agent's tests: exports the NVML subset gpupool-agent
 * uses (agent/nvml_abi.h) and answers from a JSON description of GPUs named by $GPUPOOL_FAKE_NVML.
 *
 * The description format is the one of the real capture (tests/fixtures/nvidia-h100-80gb-hbm3/
 * nvml.json: driver, cuda, devices[] with name, uuid, pci_bus_id, pci_device_id, mem_total,
 * mig_mode [current, pending], gi_profiles[] by profile index, gi_profiles_v[] with names), so a
 * capture from a real machine is a test case as it is. Additions for tests:
 *   devices[].gpu_instances: [{"id", "profile_id", "start", "size"}]   existing MIG GPU instances
 *   errors: {"nvmlInit_v2": "DRIVER_NOT_LOADED", ...}                   top-level call failures
 *   devices[].errors: {"nvmlDeviceGetUUID": "GPU_IS_LOST", ...}         per-device call failures
 * Error names are NVML_ERROR_* suffixes or nvmlErrorString texts ("Not Supported"). A device
 * without mig_mode is not MIG-capable (NOT_SUPPORTED), like a T4. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nvml_abi.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_DEVICES 64
#define MAX_GIS 16

struct nvmlGpuInstance_st {
  int dev;
  unsigned id, profile_id, start, size;
};

struct nvmlDevice_st {
  int index;
  json_t *desc;
  struct nvmlGpuInstance_st gis[MAX_GIS];
  unsigned ngis;
};

static struct {
  int inits;
  json_t *root;
  struct nvmlDevice_st devs[MAX_DEVICES];
  unsigned ndevs;
} fake;

static const struct {
  const char *name, *text;
  nvmlReturn_t rc;
} codes[] = {
    {"SUCCESS", "Success", NVML_SUCCESS},
    {"UNINITIALIZED", "Uninitialized", NVML_ERROR_UNINITIALIZED},
    {"INVALID_ARGUMENT", "Invalid Argument", NVML_ERROR_INVALID_ARGUMENT},
    {"NOT_SUPPORTED", "Not Supported", NVML_ERROR_NOT_SUPPORTED},
    {"NO_PERMISSION", "Insufficient Permissions", NVML_ERROR_NO_PERMISSION},
    {"NOT_FOUND", "Not Found", NVML_ERROR_NOT_FOUND},
    {"INSUFFICIENT_SIZE", "Insufficient Size", NVML_ERROR_INSUFFICIENT_SIZE},
    {"DRIVER_NOT_LOADED", "Driver Not Loaded", NVML_ERROR_DRIVER_NOT_LOADED},
    {"LIBRARY_NOT_FOUND", "NVML Shared Library Not Found", NVML_ERROR_LIBRARY_NOT_FOUND},
    {"FUNCTION_NOT_FOUND", "Function Not Found", NVML_ERROR_FUNCTION_NOT_FOUND},
    {"GPU_IS_LOST", "GPU is lost", NVML_ERROR_GPU_IS_LOST},
    {"LIB_RM_VERSION_MISMATCH", "RM has detected an NVML/RM version mismatch", NVML_ERROR_LIB_RM_VERSION_MISMATCH},
    {"ARGUMENT_VERSION_MISMATCH", "Argument version mismatch", NVML_ERROR_ARGUMENT_VERSION_MISMATCH},
    {"UNKNOWN", "Unknown Error", NVML_ERROR_UNKNOWN},
};

static nvmlReturn_t parse_rc(const char *s) {
  if (!s) return NVML_ERROR_UNKNOWN;
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
    if (strcasecmp(s, codes[i].name) == 0 || strcasecmp(s, codes[i].text) == 0) return codes[i].rc;
  return NVML_ERROR_UNKNOWN;
}

/* An injected failure of call `fn` (for a device, or top-level when dev is NULL). */
static nvmlReturn_t injected(const struct nvmlDevice_st *dev, const char *fn) {
  json_t *errs = json_object_get(dev ? dev->desc : fake.root, "errors");
  json_t *e = json_object_get(errs, fn);
  return e ? parse_rc(json_string_value(e)) : NVML_SUCCESS;
}

static nvmlReturn_t copy_str(const char *s, char *buf, unsigned len) {
  if (!buf) return NVML_ERROR_INVALID_ARGUMENT;
  if (!s) s = "";
  if (strlen(s) + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(buf, s, strlen(s) + 1);
  return NVML_SUCCESS;
}

static const struct nvmlDevice_st *device(nvmlDevice_t d) {
  if (!fake.inits) return NULL;
  for (unsigned i = 0; i < fake.ndevs; i++)
    if (d == &fake.devs[i]) return d;
  return NULL;
}

#define NEED_DEVICE(d, fn)                                                                                             \
  const struct nvmlDevice_st *dv = device(d);                                                                          \
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;                                                                    \
  if (!dv) return NVML_ERROR_INVALID_ARGUMENT;                                                                         \
  nvmlReturn_t inj = injected(dv, fn);                                                                                 \
  if (inj != NVML_SUCCESS) return inj

static unsigned long hex(const char *s) { return s ? strtoul(s, NULL, 16) : 0; }

static void load_instances(struct nvmlDevice_st *d) {
  json_t *list = json_object_get(d->desc, "gpu_instances"), *g;
  size_t i;
  d->ngis = 0;
  json_array_foreach(list, i, g) {
    if (d->ngis >= MAX_GIS) break;
    struct nvmlGpuInstance_st *gi = &d->gis[d->ngis++];
    gi->dev = d->index;
    gi->id = (unsigned)json_integer_value(json_object_get(g, "id"));
    gi->profile_id = (unsigned)json_integer_value(json_object_get(g, "profile_id"));
    gi->start = (unsigned)json_integer_value(json_object_get(g, "start"));
    gi->size = (unsigned)json_integer_value(json_object_get(g, "size"));
  }
}

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  if (fake.inits) {
    fake.inits++;
    return NVML_SUCCESS;
  }
  const char *path = getenv("GPUPOOL_FAKE_NVML");
  if (!path) {
    fprintf(stderr, "fake NVML: set GPUPOOL_FAKE_NVML to a GPU description (JSON)\n");
    return NVML_ERROR_UNKNOWN;
  }
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root) {
    fprintf(stderr, "fake NVML: %s: %s (line %d)\n", path, je.text, je.line);
    return NVML_ERROR_UNKNOWN;
  }
  fake.root = root;
  nvmlReturn_t inj = injected(NULL, "nvmlInit_v2");
  if (inj != NVML_SUCCESS) {
    json_decref(root);
    fake.root = NULL;
    return inj;
  }
  json_t *devs = json_object_get(root, "devices"), *d;
  size_t i;
  fake.ndevs = 0;
  json_array_foreach(devs, i, d) {
    if (fake.ndevs >= MAX_DEVICES) break;
    struct nvmlDevice_st *dev = &fake.devs[fake.ndevs];
    memset(dev, 0, sizeof *dev);
    dev->index = (int)fake.ndevs++;
    dev->desc = d;
    load_instances(dev);
  }
  fake.inits = 1;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (--fake.inits == 0) {
    json_decref(fake.root);
    fake.root = NULL;
    fake.ndevs = 0;
  }
  return NVML_SUCCESS;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t rc) {
  for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
    if (codes[i].rc == rc) return codes[i].text;
  return "Unknown Error";
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *buf, unsigned len) {
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  nvmlReturn_t inj = injected(NULL, "nvmlSystemGetDriverVersion");
  if (inj != NVML_SUCCESS) return inj;
  return copy_str(json_string_value(json_object_get(fake.root, "driver")), buf, len);
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) {
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!v) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t inj = injected(NULL, "nvmlSystemGetCudaDriverVersion_v2");
  if (inj != NVML_SUCCESS) return inj;
  *v = (int)json_integer_value(json_object_get(fake.root, "cuda"));
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n) {
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!n) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t inj = injected(NULL, "nvmlDeviceGetCount_v2");
  if (inj != NVML_SUCCESS) return inj;
  *n = fake.ndevs;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t *out) {
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!out || i >= fake.ndevs) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t inj = injected(&fake.devs[i], "nvmlDeviceGetHandleByIndex_v2");
  if (inj != NVML_SUCCESS) return inj;
  *out = &fake.devs[i];
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *buf, unsigned len) {
  NEED_DEVICE(d, "nvmlDeviceGetName");
  return copy_str(json_string_value(json_object_get(dv->desc, "name")), buf, len);
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *buf, unsigned len) {
  NEED_DEVICE(d, "nvmlDeviceGetUUID");
  return copy_str(json_string_value(json_object_get(dv->desc, "uuid")), buf, len);
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t *pci) {
  NEED_DEVICE(d, "nvmlDeviceGetPciInfo_v3");
  if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
  memset(pci, 0, sizeof *pci);
  const char *bus = json_string_value(json_object_get(dv->desc, "pci_bus_id"));
  if (bus) {
    snprintf(pci->busId, sizeof pci->busId, "%s", bus);
    unsigned dom = 0, b = 0, dev = 0, fn = 0;
    if (sscanf(bus, "%x:%x:%x.%x", &dom, &b, &dev, &fn) == 4) {
      pci->domain = dom;
      pci->bus = b;
      pci->device = dev;
      snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.%X", dom & 0xFFFF, b, dev, fn);
    }
  }
  pci->pciDeviceId = (unsigned)hex(json_string_value(json_object_get(dv->desc, "pci_device_id")));
  pci->pciSubSystemId = (unsigned)hex(json_string_value(json_object_get(dv->desc, "pci_subsystem_id")));
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
  NEED_DEVICE(d, "nvmlDeviceGetMemoryInfo");
  if (!m) return NVML_ERROR_INVALID_ARGUMENT;
  m->total = (unsigned long long)json_integer_value(json_object_get(dv->desc, "mem_total"));
  m->free = m->total;
  m->used = 0;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned *cur, unsigned *pend) {
  NEED_DEVICE(d, "nvmlDeviceGetMigMode");
  json_t *mm = json_object_get(dv->desc, "mig_mode");
  if (!json_is_array(mm)) return NVML_ERROR_NOT_SUPPORTED;
  if (!cur || !pend) return NVML_ERROR_INVALID_ARGUMENT;
  *cur = (unsigned)json_integer_value(json_array_get(mm, 0));
  *pend = (unsigned)json_integer_value(json_array_get(mm, 1));
  return NVML_SUCCESS;
}

/* gi_profiles[index] (and the name from gi_profiles_v[index]); an "error" entry is returned. */
static nvmlReturn_t profile(const struct nvmlDevice_st *dv, unsigned index, json_t **info, const char **name) {
  if (!json_is_array(json_object_get(dv->desc, "mig_mode"))) return NVML_ERROR_NOT_SUPPORTED;
  json_t *list = json_object_get(dv->desc, "gi_profiles");
  if (index >= json_array_size(list)) return NVML_ERROR_INVALID_ARGUMENT;
  json_t *p = json_array_get(list, index);
  if (json_object_get(p, "error")) return parse_rc(json_string_value(json_object_get(p, "error")));
  *info = p;
  json_t *v = json_array_get(json_object_get(dv->desc, "gi_profiles_v"), index);
  *name = json_string_value(json_object_get(v, "name"));
  return NVML_SUCCESS;
}

static unsigned u(json_t *o, const char *k) { return (unsigned)json_integer_value(json_object_get(o, k)); }

EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfo(nvmlDevice_t d, unsigned index,
                                                        nvmlGpuInstanceProfileInfo_t *out) {
  NEED_DEVICE(d, "nvmlDeviceGetGpuInstanceProfileInfo");
  json_t *p = NULL;
  const char *name = NULL;
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t rc = profile(dv, index, &p, &name);
  if (rc != NVML_SUCCESS) return rc;
  memset(out, 0, sizeof *out);
  out->id = u(p, "id");
  out->isP2pSupported = u(p, "isP2pSupported");
  out->sliceCount = u(p, "sliceCount");
  out->instanceCount = u(p, "instanceCount");
  out->multiprocessorCount = u(p, "multiprocessorCount");
  out->memorySizeMB = (unsigned long long)json_integer_value(json_object_get(p, "memorySizeMB"));
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetGpuInstanceProfileInfoV(nvmlDevice_t d, unsigned index,
                                                         nvmlGpuInstanceProfileInfo_v2_t *out) {
  NEED_DEVICE(d, "nvmlDeviceGetGpuInstanceProfileInfoV");
  json_t *p = NULL;
  const char *name = NULL;
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (out->version != AG_NVML_GI_PROFILE_INFO_V2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  nvmlReturn_t rc = profile(dv, index, &p, &name);
  if (rc != NVML_SUCCESS) return rc;
  unsigned version = out->version;
  memset(out, 0, sizeof *out);
  out->version = version;
  out->id = u(p, "id");
  out->isP2pSupported = u(p, "isP2pSupported");
  out->sliceCount = u(p, "sliceCount");
  out->instanceCount = u(p, "instanceCount");
  out->multiprocessorCount = u(p, "multiprocessorCount");
  out->memorySizeMB = (unsigned long long)json_integer_value(json_object_get(p, "memorySizeMB"));
  snprintf(out->name, sizeof out->name, "%s", name ? name : "");
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetGpuInstances(nvmlDevice_t d, unsigned profile_id, nvmlGpuInstance_t *out,
                                              unsigned *count) {
  NEED_DEVICE(d, "nvmlDeviceGetGpuInstances");
  if (!out || !count) return NVML_ERROR_INVALID_ARGUMENT;
  json_t *mm = json_object_get(dv->desc, "mig_mode");
  if (!json_is_array(mm) || json_integer_value(json_array_get(mm, 0)) != NVML_DEVICE_MIG_ENABLE)
    return NVML_ERROR_NOT_SUPPORTED;
  /* Like NVML, write at most the profile's instance count. */
  unsigned cap = 0;
  json_t *list = json_object_get(dv->desc, "gi_profiles"), *p;
  size_t i;
  json_array_foreach(list, i, p) if (!json_object_get(p, "error") && u(p, "id") == profile_id) cap =
      u(p, "instanceCount");
  *count = 0;
  for (unsigned k = 0; k < dv->ngis; k++)
    if (dv->gis[k].profile_id == profile_id && *count < cap) out[(*count)++] = (nvmlGpuInstance_t)&dv->gis[k];
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlGpuInstanceGetInfo(nvmlGpuInstance_t gi, nvmlGpuInstanceInfo_t *info) {
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!gi || !info) return NVML_ERROR_INVALID_ARGUMENT;
  const struct nvmlDevice_st *dv = &fake.devs[gi->dev];
  nvmlReturn_t inj = injected(dv, "nvmlGpuInstanceGetInfo");
  if (inj != NVML_SUCCESS) return inj;
  info->device = (nvmlDevice_t)dv;
  info->id = gi->id;
  info->profileId = gi->profile_id;
  info->placement.start = gi->start;
  info->placement.size = gi->size;
  return NVML_SUCCESS;
}
