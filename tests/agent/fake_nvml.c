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
 *   devices[].event_types: 8                                            events the GPU supports
 *                                                                       (default Xid | 1- and 2-bit ECC)
 *   devices[].ecc_uncorrected, .remap_pending, .remap_failure, .retired_pending, .clocks_event_reasons
 *                                                                       starting counter values (0)
 * Error names are NVML_ERROR_* suffixes or nvmlErrorString texts ("Not Supported"). A device
 * without mig_mode is not MIG-capable (NOT_SUPPORTED), like a T4.
 *
 * Health events are injected through a text file named by $GPUPOOL_FAKE_NVML_EVENTS, which a test
 * appends to while the agent runs; the fake reads new complete lines on every call. One event a
 * line ('#' comments and blank lines are ignored; GPU is the device index):
 *   xid GPU XID [at SECONDS]    an Xid critical error on the GPU, delivered by nvmlEventSetWait_v2 to
 *                               event sets that registered the GPU for Xid events: at once, or
 *                               SECONDS after this process first called nvmlInit_v2
 *   lost GPU                    the GPU falls off the bus: every later call on it answers GPU_IS_LOST
 *   ecc GPU COUNT               volatile uncorrectable ECC errors (nvmlDeviceGetTotalEccErrors)
 *   remap GPU PENDING FAILURE   nvmlDeviceGetRemappedRows' pending and failure flags (0 or 1)
 *   retired GPU PENDING         nvmlDeviceGetRetiredPagesPendingStatus (0 or 1)
 *   clocks GPU MASK             nvmlDeviceGetCurrentClocksEventReasons (decimal or 0x hex)
 * Lines already in the file when a process first initialises set the state (lost, counters) and
 * schedule their `at` events; an `xid` line without `at` fires only in processes running when it is
 * appended, so a restarted agent does not see old events again. A malformed line is reported on
 * stderr and skipped.
 *
 * NVML is thread-safe and the agent calls it from several threads (its health watcher waits on
 * events while discovery runs), so every entry point holds one lock; nvmlEventSetWait_v2 drops it
 * while it sleeps. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "nvml_abi.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_DEVICES 64
#define MAX_GIS 16
#define MAX_PENDING 256
#define DEFAULT_EVENT_TYPES (AG_NVML_EVENT_XID_CRITICAL | AG_NVML_EVENT_SINGLE_BIT_ECC | AG_NVML_EVENT_DOUBLE_BIT_ECC)

struct nvmlGpuInstance_st {
  int dev;
  unsigned id, profile_id, start, size;
};

struct nvmlDevice_st {
  int index;
  json_t *desc;
  struct nvmlGpuInstance_st gis[MAX_GIS];
  unsigned ngis;
  /* health state, from the description and then the events file */
  int lost;
  unsigned long long ecc_uncorrected, clocks;
  unsigned remap_pending, remap_failure, retired_pending;
};

struct nvmlEventSet_st {
  unsigned long long types[MAX_DEVICES]; /* registered event types per device */
};

typedef struct {
  int dev;
  unsigned xid;
  double due; /* seconds since the first nvmlInit_v2 */
} pending_event;

static struct {
  int inits;
  json_t *root;
  struct nvmlDevice_st devs[MAX_DEVICES];
  unsigned ndevs;
  /* the events file */
  int started;     /* the first nvmlInit_v2 of this process has happened */
  double start;    /* its time (CLOCK_MONOTONIC seconds) */
  long events_off; /* bytes of the events file already read */
  pending_event pending[MAX_PENDING];
  unsigned npending;
} fake;

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static void unlock_guard(int *unused) {
  (void)unused;
  pthread_mutex_unlock(&fake_lock);
}
/* Holds the lock until the function returns. */
#define GUARD                                                                                                          \
  __attribute__((cleanup(unlock_guard))) int guard_ = (pthread_mutex_lock(&fake_lock), 0);                             \
  (void)guard_

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fake_warn(const char *line, const char *why) {
  fprintf(stderr, "fake NVML: events file: %s: %s\n", why, line);
}

/* One line of the events file. initial: 0 a new line; 1 read at the first init (on-demand Xids
 * are old: skipped); 2 read again at a later init (only the state: every Xid was seen already). */
static void apply_line(char *line, int initial) {
  char word[16] = "";
  int gpu = -1, n = 0;
  char *hash = strchr(line, '#');
  if (hash) *hash = '\0';
  if (sscanf(line, " %15s%n", word, &n) != 1) return; /* blank */
  const char *rest = line + n;
  if (sscanf(rest, " %d%n", &gpu, &n) != 1 || gpu < 0 || (unsigned)gpu >= fake.ndevs) {
    fake_warn(line, "no such GPU");
    return;
  }
  rest += n;
  struct nvmlDevice_st *d = &fake.devs[gpu];
  unsigned a = 0, b = 0;
  unsigned long long v = 0;
  if (strcmp(word, "xid") == 0) {
    double at = -1;
    char kw[8] = "";
    if (sscanf(rest, " %u %7s %lf", &a, kw, &at) >= 1 && (at < 0 || strcmp(kw, "at") == 0)) {
      if ((initial == 1 && at < 0) || initial == 2) return;
      if (fake.npending == MAX_PENDING) {
        fake_warn(line, "too many pending events");
        return;
      }
      pending_event *e = &fake.pending[fake.npending++];
      e->dev = gpu;
      e->xid = a;
      e->due = at < 0 ? now_s() - fake.start : at;
      return;
    }
  } else if (strcmp(word, "lost") == 0) {
    d->lost = 1;
    return;
  } else if (strcmp(word, "ecc") == 0 && sscanf(rest, " %llu", &v) == 1) {
    d->ecc_uncorrected = v;
    return;
  } else if (strcmp(word, "remap") == 0 && sscanf(rest, " %u %u", &a, &b) == 2 && a <= 1 && b <= 1) {
    d->remap_pending = a;
    d->remap_failure = b;
    return;
  } else if (strcmp(word, "retired") == 0 && sscanf(rest, " %u", &a) == 1 && a <= 1) {
    d->retired_pending = a;
    return;
  } else if (strcmp(word, "clocks") == 0 && sscanf(rest, " %lli", (long long *)&v) == 1) {
    d->clocks = v;
    return;
  }
  fake_warn(line, "not an event");
}

/* Reads the complete lines appended to the events file since the last call. */
static void read_events(int initial) {
  const char *path = getenv("GPUPOOL_FAKE_NVML_EVENTS");
  if (!path || !*path || !fake.inits) return;
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fseek(f, fake.events_off, SEEK_SET) == 0) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      size_t len = strlen(line);
      if (len == 0 || line[len - 1] != '\n') break; /* a line still being written: next time */
      fake.events_off += (long)len;
      line[len - 1] = '\0';
      apply_line(line, initial);
    }
  }
  fclose(f);
}

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
  read_events(0);
  if (dev && dev->lost) return NVML_ERROR_GPU_IS_LOST;
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

static struct nvmlDevice_st *device(nvmlDevice_t d) {
  if (!fake.inits) return NULL;
  for (unsigned i = 0; i < fake.ndevs; i++)
    if (d == &fake.devs[i]) return d;
  return NULL;
}

#define NEED_DEVICE(d, fn)                                                                                             \
  GUARD;                                                                                                               \
  struct nvmlDevice_st *dv = device(d);                                                                                \
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

static unsigned long long desc_u64(json_t *desc, const char *key) {
  return (unsigned long long)json_integer_value(json_object_get(desc, key));
}

EXPORT nvmlReturn_t nvmlInit_v2(void) {
  GUARD;
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
    dev->ecc_uncorrected = desc_u64(d, "ecc_uncorrected");
    dev->remap_pending = (unsigned)desc_u64(d, "remap_pending");
    dev->remap_failure = (unsigned)desc_u64(d, "remap_failure");
    dev->retired_pending = (unsigned)desc_u64(d, "retired_pending");
    dev->clocks = desc_u64(d, "clocks_event_reasons");
  }
  fake.inits = 1;
  int first = !fake.started;
  if (first) {
    fake.started = 1;
    fake.start = now_s();
  }
  fake.events_off = 0;
  read_events(first ? 1 : 2);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
  GUARD;
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
  GUARD;
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  nvmlReturn_t inj = injected(NULL, "nvmlSystemGetDriverVersion");
  if (inj != NVML_SUCCESS) return inj;
  return copy_str(json_string_value(json_object_get(fake.root, "driver")), buf, len);
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *v) {
  GUARD;
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!v) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t inj = injected(NULL, "nvmlSystemGetCudaDriverVersion_v2");
  if (inj != NVML_SUCCESS) return inj;
  *v = (int)json_integer_value(json_object_get(fake.root, "cuda"));
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n) {
  GUARD;
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!n) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t inj = injected(NULL, "nvmlDeviceGetCount_v2");
  if (inj != NVML_SUCCESS) return inj;
  *n = fake.ndevs;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t *out) {
  GUARD;
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
  GUARD;
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

/* ---- health: events and counters ---------------------------------------------------------------- */

EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
  GUARD;
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  if (!set) return NVML_ERROR_INVALID_ARGUMENT;
  nvmlReturn_t inj = injected(NULL, "nvmlEventSetCreate");
  if (inj != NVML_SUCCESS) return inj;
  *set = calloc(1, sizeof **set);
  return *set ? NVML_SUCCESS : NVML_ERROR_MEMORY;
}

EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
  GUARD;
  if (!fake.inits) return NVML_ERROR_UNINITIALIZED;
  free(set);
  return NVML_SUCCESS;
}

static unsigned long long supported_events(const struct nvmlDevice_st *dv) {
  json_t *t = json_object_get(dv->desc, "event_types");
  return t ? (unsigned long long)json_integer_value(t) : DEFAULT_EVENT_TYPES;
}

EXPORT nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t d, unsigned long long *types) {
  NEED_DEVICE(d, "nvmlDeviceGetSupportedEventTypes");
  if (!types) return NVML_ERROR_INVALID_ARGUMENT;
  *types = supported_events(dv);
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long types, nvmlEventSet_t set) {
  NEED_DEVICE(d, "nvmlDeviceRegisterEvents");
  if (!set) return NVML_ERROR_INVALID_ARGUMENT;
  if (types & ~supported_events(dv)) return NVML_ERROR_NOT_SUPPORTED; /* like NVML: any unsupported type */
  set->types[dv->index] |= types;
  return NVML_SUCCESS;
}

/* The first due Xid for a GPU this set registered; events for GPUs nobody registered are dropped
 * when due, as the driver drops them. */
static int take_event(nvmlEventSet_t set, nvmlEventData_t *data) {
  double t = now_s() - fake.start;
  unsigned i = 0;
  while (i < fake.npending) {
    pending_event e = fake.pending[i];
    if (e.due > t) {
      i++;
      continue;
    }
    memmove(&fake.pending[i], &fake.pending[i + 1], (fake.npending - i - 1) * sizeof *fake.pending);
    fake.npending--;
    if (!(set->types[e.dev] & AG_NVML_EVENT_XID_CRITICAL)) continue;
    memset(data, 0, sizeof *data);
    data->device = &fake.devs[e.dev];
    data->eventType = AG_NVML_EVENT_XID_CRITICAL;
    data->eventData = e.xid;
    data->gpuInstanceId = data->computeInstanceId = 0xFFFFFFFFu;
    return 1;
  }
  return 0;
}

EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeout_ms) {
  double until = now_s() + timeout_ms / 1000.0;
  for (;;) {
    pthread_mutex_lock(&fake_lock);
    nvmlReturn_t rc = NVML_ERROR_TIMEOUT;
    if (!fake.inits)
      rc = NVML_ERROR_UNINITIALIZED;
    else if (!set || !data)
      rc = NVML_ERROR_INVALID_ARGUMENT;
    else if ((rc = injected(NULL, "nvmlEventSetWait_v2")) == NVML_SUCCESS)
      rc = take_event(set, data) ? NVML_SUCCESS : NVML_ERROR_TIMEOUT;
    pthread_mutex_unlock(&fake_lock);
    if (rc != NVML_ERROR_TIMEOUT || now_s() >= until) return rc;
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
}

EXPORT nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, int type, int counter, unsigned long long *count) {
  NEED_DEVICE(d, "nvmlDeviceGetTotalEccErrors");
  if (!count || (type != NVML_MEMORY_ERROR_TYPE_CORRECTED && type != NVML_MEMORY_ERROR_TYPE_UNCORRECTED) ||
      (counter != NVML_VOLATILE_ECC && counter != NVML_AGGREGATE_ECC))
    return NVML_ERROR_INVALID_ARGUMENT;
  *count = type == NVML_MEMORY_ERROR_TYPE_UNCORRECTED ? dv->ecc_uncorrected : 0;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t d, unsigned *corr, unsigned *unc, unsigned *pending,
                                              unsigned *failure) {
  NEED_DEVICE(d, "nvmlDeviceGetRemappedRows");
  if (!corr || !unc || !pending || !failure) return NVML_ERROR_INVALID_ARGUMENT;
  *corr = 0;
  *unc = dv->remap_pending || dv->remap_failure;
  *pending = dv->remap_pending;
  *failure = dv->remap_failure;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetRetiredPagesPendingStatus(nvmlDevice_t d, int *pending) {
  NEED_DEVICE(d, "nvmlDeviceGetRetiredPagesPendingStatus");
  if (!pending) return NVML_ERROR_INVALID_ARGUMENT;
  *pending = dv->retired_pending ? NVML_FEATURE_ENABLED : NVML_FEATURE_DISABLED;
  return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t d, unsigned long long *reasons) {
  NEED_DEVICE(d, "nvmlDeviceGetCurrentClocksEventReasons");
  if (!reasons) return NVML_ERROR_INVALID_ARGUMENT;
  *reasons = dv->clocks;
  return NVML_SUCCESS;
}
