/* watch.c - the daemon's GPU health watcher: a thread that keeps NVML open, waits for Xid events on
 * an event set (nvmlEventSetCreate, nvmlDeviceRegisterEvents for critical Xids,
 * nvmlEventSetWait_v2) and polls each GPU's error counters (volatile uncorrectable ECC, remapped
 * rows pending/failure, retired pages pending, clock event reasons). NVML_ERROR_GPU_IS_LOST from
 * any call marks the GPU lost. What it sees is queued for the main loop, which it wakes through a
 * pipe so that a health change is reported at once rather than at the next interval.
 *
 * Read-only: it registers for events and reads counters, nothing else. Classification is not done
 * here: the main loop hands the facts to the core (gpupool/health.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "nvml_abi.h"

#define QUEUE_MAX 256
#define RETRY_INIT_S 10

typedef struct {
  void *lib;
  nvmlInit_v2_fn init;
  nvmlShutdown_fn shutdown;
  nvmlDeviceGetCount_v2_fn count;
  nvmlDeviceGetHandleByIndex_v2_fn handle;
  nvmlEventSetCreate_fn set_create;
  nvmlEventSetFree_fn set_free;
  nvmlDeviceGetSupportedEventTypes_fn supported;
  nvmlDeviceRegisterEvents_fn register_events;
  nvmlEventSetWait_v2_fn wait;
  nvmlDeviceGetTotalEccErrors_fn ecc;
  nvmlDeviceGetRemappedRows_fn remapped;
  nvmlDeviceGetRetiredPagesPendingStatus_fn retired;
  nvmlDeviceGetCurrentClocksEventReasons_fn clocks;
} watch_api;

struct ag_watch {
  watch_api api;
  bool inited;
  unsigned ndev;
  nvmlDevice_t dev[AG_WATCH_MAX_GPUS];
  bool lost[AG_WATCH_MAX_GPUS];
  nvmlEventSet_t set; /* NULL when no GPU takes Xid events */
  int wake_fd;
  unsigned poll_ms;
  pthread_t thread;
  bool started;
  atomic_bool stop;
  /* shared with the main loop, under mu */
  pthread_mutex_t mu;
  ag_xid_event queue[QUEUE_MAX];
  size_t nqueue;
  unsigned dropped;
  ag_gpu_counters counters[AG_WATCH_MAX_GPUS];
  unsigned ncounters;
};

static void wake(ag_watch *w) {
  if (w->wake_fd < 0) return;
  ssize_t n = write(w->wake_fd, "h", 1);
  (void)n; /* a full pipe already holds a wake-up */
}

static bool load(ag_watch *w) {
  watch_api *a = &w->api;
  a->lib = dlopen(ag_nvml_library(), RTLD_NOW | RTLD_LOCAL);
  if (!a->lib) return false;
#define NEED(field, name) ag_nvml_sym(a->lib, name, &a->field, sizeof a->field)
  bool ok = NEED(init, "nvmlInit_v2") && NEED(shutdown, "nvmlShutdown") && NEED(count, "nvmlDeviceGetCount_v2") &&
            NEED(handle, "nvmlDeviceGetHandleByIndex_v2");
  NEED(set_create, "nvmlEventSetCreate");
  NEED(set_free, "nvmlEventSetFree");
  NEED(supported, "nvmlDeviceGetSupportedEventTypes");
  NEED(register_events, "nvmlDeviceRegisterEvents");
  NEED(wait, "nvmlEventSetWait_v2");
  NEED(ecc, "nvmlDeviceGetTotalEccErrors");
  NEED(remapped, "nvmlDeviceGetRemappedRows");
  NEED(retired, "nvmlDeviceGetRetiredPagesPendingStatus");
  if (!NEED(clocks, "nvmlDeviceGetCurrentClocksEventReasons"))
    NEED(clocks, "nvmlDeviceGetCurrentClocksThrottleReasons");
#undef NEED
  if (!ok) {
    dlclose(a->lib);
    memset(a, 0, sizeof *a);
  }
  return ok;
}

/* NVML up, devices listed, Xid events registered. false (quietly) when there is no driver yet. */
static bool open_nvml(ag_watch *w) {
  watch_api *a = &w->api;
  if (!a->lib && !load(w)) return false;
  if (a->init() != NVML_SUCCESS) return false;
  unsigned n = 0;
  if (a->count(&n) != NVML_SUCCESS) {
    a->shutdown();
    return false;
  }
  if (n > AG_WATCH_MAX_GPUS) n = AG_WATCH_MAX_GPUS;
  w->ndev = 0;
  for (unsigned i = 0; i < n; i++) {
    nvmlReturn_t rc = a->handle(i, &w->dev[i]);
    w->lost[i] = rc == NVML_ERROR_GPU_IS_LOST;
    if (rc != NVML_SUCCESS) w->dev[i] = NULL;
    w->ndev = i + 1;
  }
  w->inited = true;
  unsigned registered = 0;
  if (a->set_create && a->register_events && a->wait && a->set_create(&w->set) == NVML_SUCCESS) {
    for (unsigned i = 0; i < w->ndev; i++) {
      unsigned long long types = 0;
      if (!w->dev[i]) continue;
      if (a->supported && a->supported(w->dev[i], &types) == NVML_SUCCESS && !(types & AG_NVML_EVENT_XID_CRITICAL)) {
        ag_log("warn", "health", "GPU %u does not report Xid events; its counters are still watched", i);
        continue;
      }
      nvmlReturn_t rc = a->register_events(w->dev[i], AG_NVML_EVENT_XID_CRITICAL, w->set);
      if (rc == NVML_SUCCESS)
        registered++;
      else
        ag_log("warn", "health",
               "GPU %u: nvmlDeviceRegisterEvents failed (NVML_ERROR_%s); its counters are still watched", i,
               ag_nvml_rc_name(rc));
    }
  } else {
    w->set = NULL;
    ag_log("warn", "health", "this NVML has no event sets; Xid events are not watched, only the error counters");
  }
  if (!registered && w->set) {
    if (a->set_free) a->set_free(w->set);
    w->set = NULL;
  }
  ag_log("info", "health", "watching %u GPU%s through NVML (Xid events on %u, counters every %u ms)", w->ndev,
         w->ndev == 1 ? "" : "s", registered, w->poll_ms);
  return true;
}

/* Reads one GPU's counters; a lost GPU stays lost. */
static void read_counters(ag_watch *w, unsigned i, ag_gpu_counters *c) {
  watch_api *a = &w->api;
  memset(c, 0, sizeof *c);
  c->known = true;
  c->ecc_uncorrected = c->remap_pending = c->remap_failure = c->retired_pending = c->clocks = -1;
  if (w->lost[i] || !w->dev[i]) {
    c->lost = w->lost[i];
    return;
  }
  nvmlDevice_t d = w->dev[i];
  nvmlReturn_t rc[4] = {NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_NOT_SUPPORTED,
                        NVML_ERROR_NOT_SUPPORTED};
  unsigned long long v = 0;
  if (a->ecc && (rc[0] = a->ecc(d, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, &v)) == NVML_SUCCESS)
    c->ecc_uncorrected = (long long)v;
  unsigned corr = 0, unc = 0, pending = 0, failure = 0;
  if (a->remapped && (rc[1] = a->remapped(d, &corr, &unc, &pending, &failure)) == NVML_SUCCESS) {
    c->remap_pending = pending != 0;
    c->remap_failure = failure != 0;
  }
  int retired = 0;
  if (a->retired && (rc[2] = a->retired(d, &retired)) == NVML_SUCCESS) c->retired_pending = retired != 0;
  if (a->clocks && (rc[3] = a->clocks(d, &v)) == NVML_SUCCESS) c->clocks = (long long)(v & 0x7fffffffffffffffull);
  for (size_t k = 0; k < 4; k++)
    if (rc[k] == NVML_ERROR_GPU_IS_LOST) w->lost[i] = true;
  if (w->lost[i]) {
    memset(c, 0, sizeof *c);
    c->known = c->lost = true;
    c->ecc_uncorrected = c->remap_pending = c->remap_failure = c->retired_pending = c->clocks = -1;
  }
}

static void poll_counters(ag_watch *w) {
  ag_gpu_counters now[AG_WATCH_MAX_GPUS];
  for (unsigned i = 0; i < w->ndev; i++)
    read_counters(w, i, &now[i]);
  pthread_mutex_lock(&w->mu);
  bool changed = w->ncounters != w->ndev || memcmp(w->counters, now, w->ndev * sizeof *now) != 0;
  memcpy(w->counters, now, w->ndev * sizeof *now);
  w->ncounters = w->ndev;
  pthread_mutex_unlock(&w->mu);
  if (changed) wake(w);
}

static void push_xid(ag_watch *w, const nvmlEventData_t *e) {
  unsigned gpu = AG_WATCH_MAX_GPUS;
  for (unsigned i = 0; i < w->ndev; i++)
    if (w->dev[i] && w->dev[i] == e->device) gpu = i;
  if (gpu == AG_WATCH_MAX_GPUS) return; /* not one of ours */
  pthread_mutex_lock(&w->mu);
  if (w->nqueue < QUEUE_MAX) {
    ag_xid_event *q = &w->queue[w->nqueue++];
    q->gpu = gpu;
    q->xid = e->eventData > 0xFFFFFFFFull ? 0xFFFFFFFFu : (unsigned)e->eventData;
    q->time = time(NULL);
  } else {
    w->dropped++;
  }
  pthread_mutex_unlock(&w->mu);
  wake(w);
}

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static void *watch_main(void *arg) {
  ag_watch *w = arg;
  double next_poll = 0, next_init = mono() + RETRY_INIT_S;
  bool wait_broken = false;
  while (!atomic_load(&w->stop)) {
    if (!w->inited) {
      if (mono() >= next_init) {
        if (open_nvml(w)) {
          next_poll = 0;
          continue;
        }
        next_init = mono() + RETRY_INIT_S;
      }
      nap_ms(200);
      continue;
    }
    double t = mono();
    if (t >= next_poll) {
      poll_counters(w);
      next_poll = t + w->poll_ms / 1000.0;
    }
    if (!w->set || wait_broken) {
      nap_ms(200);
      continue;
    }
    /* one second at most, so that stop is noticed */
    double left = next_poll - mono();
    unsigned ms = left <= 0 ? 0 : left > 1.0 ? 1000 : (unsigned)(left * 1000);
    nvmlEventData_t e;
    memset(&e, 0, sizeof e);
    nvmlReturn_t rc = w->api.wait(w->set, &e, ms);
    if (rc == NVML_SUCCESS && (e.eventType & AG_NVML_EVENT_XID_CRITICAL))
      push_xid(w, &e);
    else if (rc == NVML_ERROR_GPU_IS_LOST)
      next_poll = 0; /* find which: the counters tell */
    else if (rc != NVML_SUCCESS && rc != NVML_ERROR_TIMEOUT) {
      ag_log("warn", "health", "nvmlEventSetWait_v2 failed (NVML_ERROR_%s); Xid events are no longer watched",
             ag_nvml_rc_name(rc));
      wait_broken = true;
    }
  }
  return NULL;
}

ag_watch *ag_watch_start(int wake_fd, unsigned poll_ms) {
  ag_watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->wake_fd = wake_fd;
  w->poll_ms = poll_ms ? poll_ms : 5000;
  pthread_mutex_init(&w->mu, NULL);
  atomic_init(&w->stop, false);
  /* The first attempt here, so that events are registered before the agent's first report. */
  if (!open_nvml(w))
    ag_log("info", "health", "NVML is not available (%s); GPU health is watched once it is", ag_nvml_library());
  else
    poll_counters(w);
  if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
    ag_log("error", "health", "cannot start the health watcher thread: %s", strerror(errno));
  } else {
    w->started = true;
  }
  return w;
}

size_t ag_watch_take(ag_watch *w, ag_xid_event *events, size_t max, ag_gpu_counters *counters, unsigned *ngpus,
                     unsigned *dropped) {
  pthread_mutex_lock(&w->mu);
  size_t n = w->nqueue < max ? w->nqueue : max;
  memcpy(events, w->queue, n * sizeof *events);
  memmove(w->queue, w->queue + n, (w->nqueue - n) * sizeof *w->queue);
  w->nqueue -= n;
  memcpy(counters, w->counters, w->ncounters * sizeof *counters);
  *ngpus = w->ncounters;
  *dropped = w->dropped;
  w->dropped = 0;
  pthread_mutex_unlock(&w->mu);
  return n;
}

void ag_watch_stop(ag_watch *w) {
  if (!w) return;
  atomic_store(&w->stop, true);
  if (w->started) pthread_join(w->thread, NULL);
  if (w->inited) {
    if (w->set && w->api.set_free) w->api.set_free(w->set);
    w->api.shutdown();
  }
  if (w->api.lib) dlclose(w->api.lib);
  pthread_mutex_destroy(&w->mu);
  free(w);
}
