/* nvml.c - GPU discovery through NVML, loaded at run time with dlopen so that the agent builds and
 * runs on nodes without the NVIDIA driver (a CPU node, or a GPU node before the driver is
 * installed). $GPUPOOL_NVML_LIBRARY names another library (the tests' fake NVML).
 *
 * Read-only: the agent only queries NVML; MIG changes go through nvidia-smi in `apply`. A missing
 * library or an unloaded driver is a fact about the node (driver absent), not an error; any other
 * NVML failure is an error naming the call and the GPU. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "gpupool/catalog.h"
#include "nvml_abi.h"

typedef struct {
  void *lib;
  nvmlInit_v2_fn init;
  nvmlShutdown_fn shutdown;
  nvmlErrorString_fn error_string;
  nvmlSystemGetDriverVersion_fn driver_version;
  nvmlSystemGetCudaDriverVersion_v2_fn cuda_version;
  nvmlDeviceGetCount_v2_fn count;
  nvmlDeviceGetHandleByIndex_v2_fn handle;
  nvmlDeviceGetName_fn name;
  nvmlDeviceGetUUID_fn uuid;
  nvmlDeviceGetPciInfo_v3_fn pci;
  nvmlDeviceGetMemoryInfo_fn memory;
  nvmlDeviceGetMigMode_fn mig_mode;
  nvmlDeviceGetGpuInstanceProfileInfo_fn profile_v1;
  nvmlDeviceGetGpuInstanceProfileInfoV_fn profile_v2;
  nvmlDeviceGetGpuInstances_fn instances;
  nvmlGpuInstanceGetInfo_fn instance_info;
} nvml_api;

const char *ag_nvml_library(void) {
  const char *p = getenv("GPUPOOL_NVML_LIBRARY");
  return p && *p ? p : "libnvidia-ml.so.1";
}

/* dlsym returns an object pointer; memcpy moves it into a function pointer without a cast that
 * ISO C leaves undefined. */
bool ag_nvml_sym(void *lib, const char *name, void *fnptr, size_t size) {
  void *p = dlsym(lib, name);
  memcpy(fnptr, &p, size);
  return p != NULL;
}
#define SYM(api, field, name) ag_nvml_sym((api)->lib, name, &(api)->field, sizeof(api)->field)

const char *ag_nvml_rc_name(int rc) {
  switch (rc) {
  case NVML_SUCCESS: return "SUCCESS";
  case NVML_ERROR_UNINITIALIZED: return "UNINITIALIZED";
  case NVML_ERROR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
  case NVML_ERROR_NOT_SUPPORTED: return "NOT_SUPPORTED";
  case NVML_ERROR_NO_PERMISSION: return "NO_PERMISSION";
  case NVML_ERROR_NOT_FOUND: return "NOT_FOUND";
  case NVML_ERROR_INSUFFICIENT_SIZE: return "INSUFFICIENT_SIZE";
  case NVML_ERROR_DRIVER_NOT_LOADED: return "DRIVER_NOT_LOADED";
  case NVML_ERROR_TIMEOUT: return "TIMEOUT";
  case NVML_ERROR_LIBRARY_NOT_FOUND: return "LIBRARY_NOT_FOUND";
  case NVML_ERROR_FUNCTION_NOT_FOUND: return "FUNCTION_NOT_FOUND";
  case NVML_ERROR_GPU_IS_LOST: return "GPU_IS_LOST";
  case NVML_ERROR_RESET_REQUIRED: return "RESET_REQUIRED";
  case NVML_ERROR_LIB_RM_VERSION_MISMATCH: return "LIB_RM_VERSION_MISMATCH";
  case NVML_ERROR_MEMORY: return "MEMORY";
  case NVML_ERROR_ARGUMENT_VERSION_MISMATCH: return "ARGUMENT_VERSION_MISMATCH";
  case NVML_ERROR_GPU_NOT_FOUND: return "GPU_NOT_FOUND";
  case NVML_ERROR_UNKNOWN: return "UNKNOWN";
  default: return "ERROR";
  }
}

/* "GPU is lost (NVML_ERROR_GPU_IS_LOST = 15)": the library's words and the code, for bug reports. */
static void nvml_fail(ag_err *err, const nvml_api *api, nvmlReturn_t rc, const char *call, long gpu) {
  const char *text = api->error_string ? api->error_string(rc) : NULL;
  char where[32] = "";
  if (gpu >= 0) snprintf(where, sizeof where, " for GPU %ld", gpu);
  err->nvml_rc = rc;
  ag_seterr(err, "NVML: %s failed%s: %s (NVML_ERROR_%s = %d)", call, where, text ? text : "no description",
            ag_nvml_rc_name(rc), rc);
}

/* Copies an NVML string buffer that the library may not have terminated. */
static char *bufdup(const char *buf, size_t size, bool *oom) {
  char tmp[128];
  size_t n = strnlen(buf, size < sizeof tmp - 1 ? size : sizeof tmp - 1);
  memcpy(tmp, buf, n);
  tmp[n] = '\0';
  return ag_strdup(tmp, oom);
}

/* "MIG 1g.10gb" -> "1g.10gb". */
static const char *strip_mig(const char *s) { return strncmp(s, "MIG ", 4) == 0 ? s + 4 : s; }

static const char *catalog_profile_name(const char *model, unsigned id) {
  for (int p = 1; p <= GP_MIG_PROFILE_COUNT; p++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, (gp_mig_profile)p);
    if (mp && mp->profile_id == (int)id) return mp->nvidia_name;
  }
  return NULL;
}

/* The GPU instances of a MIG-enabled GPU: every profile index, then the instances of each. */
static bool read_instances(const nvml_api *api, nvmlDevice_t dev, ag_gpu *g, const char *model, ag_err *err) {
  bool use_v1 = !api->profile_v2, oom = false;
  unsigned seen[AG_NVML_PROFILE_INDEX_MAX];
  size_t nseen = 0;
  if (!api->instances || !api->instance_info || (!api->profile_v1 && !api->profile_v2)) {
    ag_seterr(err, "NVML: this libnvidia-ml has no GPU instance functions; cannot read the MIG instances of GPU %u",
              g->index);
    return false;
  }
  for (unsigned idx = 0; idx < AG_NVML_PROFILE_INDEX_MAX; idx++) {
    nvmlGpuInstanceProfileInfo_v2_t info;
    nvmlReturn_t rc = NVML_ERROR_FUNCTION_NOT_FOUND;
    char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE + 1] = "";
    memset(&info, 0, sizeof info);
    if (!use_v1) {
      info.version = AG_NVML_GI_PROFILE_INFO_V2;
      rc = api->profile_v2(dev, idx, &info);
      if (rc == NVML_ERROR_ARGUMENT_VERSION_MISMATCH || rc == NVML_ERROR_FUNCTION_NOT_FOUND)
        use_v1 = true;
      else if (rc == NVML_SUCCESS) {
        memcpy(name, info.name, sizeof info.name);
        name[sizeof info.name] = '\0';
      }
    }
    if (use_v1) {
      if (!api->profile_v1) {
        nvml_fail(err, api, rc, "nvmlDeviceGetGpuInstanceProfileInfoV", g->index);
        return false;
      }
      nvmlGpuInstanceProfileInfo_t v1;
      memset(&v1, 0, sizeof v1);
      rc = api->profile_v1(dev, idx, &v1);
      info.id = v1.id;
      info.instanceCount = v1.instanceCount;
      info.sliceCount = v1.sliceCount;
      info.memorySizeMB = v1.memorySizeMB;
      const char *cat = rc == NVML_SUCCESS ? catalog_profile_name(model, v1.id) : NULL;
      snprintf(name, sizeof name, "%s", cat ? cat : "");
    }
    if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_INVALID_ARGUMENT || rc == NVML_ERROR_NOT_FOUND) continue;
    if (rc != NVML_SUCCESS) {
      nvml_fail(err, api, rc, use_v1 ? "nvmlDeviceGetGpuInstanceProfileInfo" : "nvmlDeviceGetGpuInstanceProfileInfoV",
                g->index);
      return false;
    }
    bool dup = false;
    for (size_t i = 0; i < nseen; i++)
      dup = dup || seen[i] == info.id;
    if (dup) continue;
    seen[nseen++] = info.id;

    /* NVML writes up to the profile's instance count; never trust a huge count from a broken lib. */
    unsigned cap = info.instanceCount < 8 ? 8 : info.instanceCount;
    if (cap > 64) cap = 64;
    nvmlGpuInstance_t *gis = calloc(cap, sizeof *gis);
    if (!gis) {
      ag_seterr(err, "out of memory");
      return false;
    }
    unsigned count = 0;
    rc = api->instances(dev, info.id, gis, &count);
    if (rc == NVML_ERROR_NOT_SUPPORTED || rc == NVML_ERROR_NOT_FOUND)
      count = 0;
    else if (rc != NVML_SUCCESS) {
      free(gis);
      nvml_fail(err, api, rc, "nvmlDeviceGetGpuInstances", g->index);
      if (rc == NVML_ERROR_NO_PERMISSION)
        strncat(err->msg, "; run gpupool-agent as root", sizeof err->msg - strlen(err->msg) - 1);
      return false;
    }
    if (count > cap) count = cap;
    for (unsigned i = 0; i < count; i++) {
      nvmlGpuInstanceInfo_t gi;
      memset(&gi, 0, sizeof gi);
      rc = api->instance_info(gis[i], &gi);
      if (rc != NVML_SUCCESS) {
        free(gis);
        nvml_fail(err, api, rc, "nvmlGpuInstanceGetInfo", g->index);
        return false;
      }
      ag_mig_instance *m = ag_gpu_add_instance(g);
      if (!m) {
        free(gis);
        ag_seterr(err, "out of memory");
        return false;
      }
      m->gi_id = gi.id;
      m->profile_id = (int)gi.profileId;
      m->profile = name[0] ? ag_strdup(strip_mig(name), &oom) : NULL;
      m->start = (int)gi.placement.start;
      m->size = (int)gi.placement.size;
      m->memory_mib = (long long)info.memorySizeMB;
    }
    free(gis);
    if (oom) {
      ag_seterr(err, "out of memory");
      return false;
    }
  }
  return true;
}

static bool read_gpu_facts(const nvml_api *api, unsigned i, ag_inventory *inv, ag_err *err) {
  nvmlDevice_t dev = NULL;
  bool oom = false;
  nvmlReturn_t rc = api->handle(i, &dev);
  if (rc != NVML_SUCCESS) {
    nvml_fail(err, api, rc, "nvmlDeviceGetHandleByIndex_v2", i);
    return false;
  }
  ag_gpu *g = ag_inventory_add_gpu(inv);
  if (!g) {
    ag_seterr(err, "out of memory");
    return false;
  }
  g->index = i;
  char buf[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
  memset(buf, 0, sizeof buf);
  if ((rc = api->name(dev, buf, sizeof buf)) != NVML_SUCCESS) {
    nvml_fail(err, api, rc, "nvmlDeviceGetName", i);
    return false;
  }
  g->name = bufdup(buf, sizeof buf, &oom);
  memset(buf, 0, sizeof buf);
  if ((rc = api->uuid(dev, buf, sizeof buf)) != NVML_SUCCESS) {
    nvml_fail(err, api, rc, "nvmlDeviceGetUUID", i);
    return false;
  }
  g->uuid = bufdup(buf, sizeof buf, &oom);
  nvmlPciInfo_t pci;
  memset(&pci, 0, sizeof pci);
  if ((rc = api->pci(dev, &pci)) != NVML_SUCCESS) {
    nvml_fail(err, api, rc, "nvmlDeviceGetPciInfo_v3", i);
    return false;
  }
  g->pci_device_id = pci.pciDeviceId;
  g->bus_id = bufdup(pci.busId, sizeof pci.busId, &oom);
  nvmlMemory_t mem;
  memset(&mem, 0, sizeof mem);
  if ((rc = api->memory(dev, &mem)) != NVML_SUCCESS) {
    nvml_fail(err, api, rc, "nvmlDeviceGetMemoryInfo", i);
    return false;
  }
  g->memory_mib = (long long)(mem.total / (1024ull * 1024ull));
  if (oom) {
    ag_seterr(err, "out of memory");
    return false;
  }
  if (api->mig_mode) {
    unsigned cur = 0, pend = 0;
    rc = api->mig_mode(dev, &cur, &pend);
    if (rc == NVML_SUCCESS) {
      g->mig_capable = true;
      g->mig_current = cur == NVML_DEVICE_MIG_ENABLE;
      g->mig_pending = pend == NVML_DEVICE_MIG_ENABLE;
    } else if (rc != NVML_ERROR_NOT_SUPPORTED) {
      nvml_fail(err, api, rc, "nvmlDeviceGetMigMode", i);
      return false;
    }
  }
  if (g->mig_current == 1) {
    const gp_gpu_model *m = gp_catalog_gpu_model_by_pci(g->pci_device_id);
    if (!m) m = gp_catalog_gpu_model_by_name(g->name);
    if (!read_instances(api, dev, g, m ? m->model : NULL, err)) return false;
  }
  return true;
}

/* One GPU; with keep_lost a GPU that answers GPU_IS_LOST stays in the inventory, marked lost, with
 * nothing else known (what was read before the loss is dropped as unreliable). */
static bool read_gpu(const nvml_api *api, unsigned i, ag_inventory *inv, bool keep_lost, ag_err *err) {
  size_t before = inv->ngpus;
  err->nvml_rc = NVML_SUCCESS;
  if (read_gpu_facts(api, i, inv, err)) return true;
  if (!keep_lost || err->nvml_rc != NVML_ERROR_GPU_IS_LOST) return false;
  ag_gpu *g = inv->ngpus > before ? &inv->gpus[before] : ag_inventory_add_gpu(inv);
  if (!g) {
    ag_seterr(err, "out of memory");
    return false;
  }
  g->index = i;
  ag_gpu_clear(g);
  g->lost = true;
  return true;
}

static bool load(nvml_api *api, ag_inventory *inv, ag_err *err) {
  const char *path = ag_nvml_library();
  bool oom = false;
  api->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!api->lib) {
    const char *why = dlerror();
    inv->driver_present = false;
    inv->driver_absent_reason = ag_fmt("cannot load %s: %s", path, why ? why : "unknown reason");
    if (!inv->driver_absent_reason) oom = true;
    if (oom) ag_seterr(err, "out of memory");
    return !oom;
  }
  const char *missing = NULL;
  if (!SYM(api, init, "nvmlInit_v2"))
    missing = "nvmlInit_v2";
  else if (!SYM(api, shutdown, "nvmlShutdown"))
    missing = "nvmlShutdown";
  else if (!SYM(api, driver_version, "nvmlSystemGetDriverVersion"))
    missing = "nvmlSystemGetDriverVersion";
  else if (!SYM(api, count, "nvmlDeviceGetCount_v2"))
    missing = "nvmlDeviceGetCount_v2";
  else if (!SYM(api, handle, "nvmlDeviceGetHandleByIndex_v2"))
    missing = "nvmlDeviceGetHandleByIndex_v2";
  else if (!SYM(api, name, "nvmlDeviceGetName"))
    missing = "nvmlDeviceGetName";
  else if (!SYM(api, uuid, "nvmlDeviceGetUUID"))
    missing = "nvmlDeviceGetUUID";
  else if (!SYM(api, pci, "nvmlDeviceGetPciInfo_v3"))
    missing = "nvmlDeviceGetPciInfo_v3";
  else if (!SYM(api, memory, "nvmlDeviceGetMemoryInfo"))
    missing = "nvmlDeviceGetMemoryInfo";
  if (missing) {
    ag_seterr(err, "NVML: %s has no function %s; the NVIDIA driver is too old for gpupool-agent", path, missing);
    return false;
  }
  SYM(api, error_string, "nvmlErrorString");
  if (!SYM(api, cuda_version, "nvmlSystemGetCudaDriverVersion_v2"))
    SYM(api, cuda_version, "nvmlSystemGetCudaDriverVersion");
  SYM(api, mig_mode, "nvmlDeviceGetMigMode");
  SYM(api, profile_v1, "nvmlDeviceGetGpuInstanceProfileInfo");
  SYM(api, profile_v2, "nvmlDeviceGetGpuInstanceProfileInfoV");
  SYM(api, instances, "nvmlDeviceGetGpuInstances");
  SYM(api, instance_info, "nvmlGpuInstanceGetInfo");
  return true;
}

static bool discover(ag_inventory *inv, bool keep_lost, ag_err *err) {
  nvml_api api;
  bool ok = false, inited = false, oom = false;
  memset(&api, 0, sizeof api);
  if (!load(&api, inv, err)) goto out;
  if (!api.lib) return true; /* no library: the driver is absent */

  nvmlReturn_t rc = api.init();
  if (rc == NVML_ERROR_DRIVER_NOT_LOADED || rc == NVML_ERROR_LIBRARY_NOT_FOUND) {
    const char *text = api.error_string ? api.error_string(rc) : NULL;
    inv->driver_present = false;
    inv->driver_absent_reason = ag_fmt("nvmlInit_v2: %s (NVML_ERROR_%s): the NVIDIA kernel driver is not loaded",
                                       text ? text : "no description", ag_nvml_rc_name(rc));
    ok = inv->driver_absent_reason != NULL;
    if (!ok) ag_seterr(err, "out of memory");
    goto out;
  }
  if (rc != NVML_SUCCESS) {
    nvml_fail(err, &api, rc, "nvmlInit_v2", -1);
    goto out;
  }
  inited = true;

  char ver[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE];
  memset(ver, 0, sizeof ver);
  if ((rc = api.driver_version(ver, sizeof ver)) != NVML_SUCCESS) {
    nvml_fail(err, &api, rc, "nvmlSystemGetDriverVersion", -1);
    goto out;
  }
  inv->driver_version = bufdup(ver, sizeof ver, &oom);
  int cuda = 0;
  if (api.cuda_version && api.cuda_version(&cuda) == NVML_SUCCESS && cuda > 0) {
    inv->cuda_version = ag_fmt("%d.%d", cuda / 1000, (cuda % 1000) / 10);
    if (!inv->cuda_version) oom = true;
  }
  if (oom) {
    ag_seterr(err, "out of memory");
    goto out;
  }
  unsigned n = 0;
  if ((rc = api.count(&n)) != NVML_SUCCESS) {
    nvml_fail(err, &api, rc, "nvmlDeviceGetCount_v2", -1);
    goto out;
  }
  if (n > 64) {
    ag_seterr(err, "NVML reports %u GPUs; gpupool-agent handles at most 64", n);
    goto out;
  }
  for (unsigned i = 0; i < n; i++)
    if (!read_gpu(&api, i, inv, keep_lost, err)) goto out;
  ag_inventory_finish(inv);
  ok = true;
out:
  if (inited) api.shutdown();
  if (api.lib) dlclose(api.lib);
  return ok;
}

bool ag_nvml_discover(ag_inventory *inv, ag_err *err) { return discover(inv, false, err); }

bool ag_nvml_discover_keep_lost(ag_inventory *inv, ag_err *err) { return discover(inv, true, err); }
