/* run.c - `gpupool-agent run`, the node daemon. One loop, one thread for it, driven by a libcurl
 * multi handle and a wake-up pipe:
 *
 *   discover (NVML) -> report (PUT the machine) -> long-poll the machine's plan
 *   (GET .../plan?waitSeconds=60, If-None-Match) -> when the plan's generation is not the applied
 *   one: drain if needed, apply, check, uncordon (a worker thread, step.c) -> report.
 *
 * Beside it the health watcher thread (watch.c) waits for Xid events and polls the error counters;
 * a change wakes the loop, which reports at once (the long-poll stays held: the report is a second
 * transfer on the same multi handle) and, with --execute, taints a node whose GPU failed. Signals
 * (SIGTERM, SIGINT) wake it through the same pipe. The server being away is retried with
 * exponential backoff and jitter (1 s doubling to 60 s); the plan, the applied generation, the
 * ETag and the health memory are on disk (state.c, health_state.c), so a restart resumes.
 *
 * Without --execute it reports, long-polls and logs what it would do; it runs no command that
 * changes the node and writes nothing outside its state directory (the only command it runs is
 * the read-only node status command). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define WAIT_SECONDS 60
#define BACKOFF_CAP_S 60.0
#define APPLY_RETRY_CAP_S 600.0
#define STATUS_TIMEOUT_S 15.0
#define TAINT_KEY "gpupool.io/gpu-unhealthy"
#define REPORT_REUSE_MAX_S 10 /* reports closer than this keep their connection for the next one */

typedef struct {
  ag_run_opts o;
  char *report_url, *plan_url;
  int wake[2];
  CURLM *multi;
  ag_xfer put, get;
  ag_watch *watch;
  ag_health health;
  char *health_path;
  ag_inventory inv;
  bool have_inv;
  char discover_error[256];
  ag_saved saved;
  ag_plan plan; /* saved.plan_text, parsed */
  bool have_plan;
  char rejected_etag[256];
  ag_node_status node;
  double next_node_status;
  json_t *findings;
  char *os_sku;
  char vm_size[128];
  char last_report[32];
  char *body_in_flight;
  bool report_now, first_report_done;
  double next_report, next_poll;
  unsigned put_fails, get_fails;
  /* the apply worker */
  bool working;
  pthread_t worker;
  ag_step_job job;
  atomic_bool job_done;
  double next_apply;
  unsigned apply_fails;
  long long failed_generation, previewed_generation;
  /* the taint command */
  ag_child taint;
  char taint_value[32];
  bool taint_removal;
  double next_taint;
  char dry_taint_logged[32];
  unsigned long long rng;
} agent;

static volatile sig_atomic_t got_stop;
static int wake_fd = -1;
static atomic_bool stopping;

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGTERM || sig == SIGINT) got_stop = 1;
  if (wake_fd >= 0) {
    ssize_t n = write(wake_fd, "s", 1);
    (void)n;
  }
  errno = saved;
}

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Exponential backoff with jitter: 1 s doubling per failure up to 60 s, drawn from [d/2, d] so that
 * a fleet that lost its server does not come back in lockstep. */
static double backoff(agent *a, unsigned fails) {
  double d = fails >= 7 ? BACKOFF_CAP_S : pow(2.0, fails ? fails - 1 : 0);
  if (d > BACKOFF_CAP_S) d = BACKOFF_CAP_S;
  a->rng ^= a->rng << 13;
  a->rng ^= a->rng >> 7;
  a->rng ^= a->rng << 17;
  return d / 2 + (d / 2) * (double)(a->rng % 1000) / 1000.0;
}

/* ---- options ------------------------------------------------------------------------------------ */

static const char run_help[] =
    "Usage: gpupool-agent run --endpoint URL --machine RESOURCE_ID [--interval 30s] [--execute]\n"
    "                         [--state-dir DIR] [--drain-command CMD] [--uncordon-command CMD]\n"
    "                         [--taint-command CMD] [--node-status-command CMD] [--token T] [--cacert FILE]\n"
    "\n"
    "The node daemon: reads the node's GPUs through NVML, reports the machine to gpupoold (PUT of\n"
    "{URL}{RESOURCE_ID}), long-polls its plan ({URL}{RESOURCE_ID}/plan?waitSeconds=60) and, when the plan's\n"
    "generation is not the one it applied, drains the node if the change needs idle GPUs (MIG layout, driver,\n"
    "driver mode), applies the plan, checks the node, uncordons it and reports. It watches GPU health (Xid\n"
    "events, uncorrectable ECC errors, row remapping, retired pages, lost GPUs, thermal/power slowdown) and\n"
    "reports a change at once; with --execute a node whose GPU failed is tainted\n"
    "gpupool.io/gpu-unhealthy=<xid>:NoSchedule. Without --execute nothing on the node is changed: it reports\n"
    "and logs what it would do. SIGTERM or SIGINT stop it cleanly (exit 0).\n"
    "\n"
    "  --endpoint URL              gpupoold's base URL, e.g. https://gpupool.example:8443\n"
    "  --machine ID                the machine's resource id: /subscriptions/{sub}/resourceGroups/{rg}/providers/\n"
    "                              Microsoft.ContainerService/managedClusters/{c}/agentPools/{p}/machines/{node}\n"
    "  --interval D                report every D (default 30s; 1s-1h; 500ms, 30s, 2m, 1h)\n"
    "  --execute                   change the node (drain, apply, uncordon, taint); needs root\n"
    "  --state-dir DIR             plan, applied generation, ETag, health (default /var/lib/gpupool-agent)\n"
    "  --root DIR                  where apply writes the node's files (default /)\n"
    "  --node-name NAME            the Kubernetes node (default: the machine's name)\n"
    "  --vm-size SIZE              the VM size to report (default: Azure's instance metadata, else unknown)\n"
    "  --drain-command CMD         default 'kubectl drain --ignore-daemonsets --delete-emptydir-data';\n"
    "                              run as CMD --timeout=<drainTimeoutInMinutes*60>s NODE\n"
    "  --uncordon-command CMD      default 'kubectl uncordon'; run as CMD NODE\n"
    "  --taint-command CMD         default 'kubectl taint nodes --overwrite'; run as\n"
    "                              CMD NODE gpupool.io/gpu-unhealthy=VALUE:NoSchedule (and ...:NoSchedule- to remove)\n"
    "  --node-status-command CMD   default 'kubectl get node -o json'; run as CMD NODE; its Node JSON gives\n"
    "                              ready (the Ready condition) and unschedulable\n"
    "  --token T                   bearer token (default: $GPUPOOL_TOKEN; none when unset)\n"
    "  --cacert FILE               CA certificates (PEM) for an https endpoint (default: the system's)\n"
    "  --api-version V             default " AG_RUN_API_VERSION "\n"
    "  --health-interval D         how often the GPU error counters are read (default 5s)\n"
    "  --log-format text|json      one line per event on stderr (default text)\n"
    "\n"
    "Commands are shell command lines; the agent appends its arguments. The state directory holds\n"
    "state.json, plan.json, applied-plan.json, last-report.json and health.json.\n"
    "Environment: GPUPOOL_TOKEN, GPUPOOL_NVML_LIBRARY, GPUPOOL_BOOT_ID_FILE (default\n"
    "/proc/sys/kernel/random/boot_id: a GPU Failed stays Failed until it changes).\n"
    "Exit status: 0 stopped by a signal, 1 cannot start (state directory, root), 2 usage.\n";

/* "30s", "2m", "1h", "500ms", "30" (seconds) -> milliseconds; 0 when malformed. */
static unsigned long long duration_ms(const char *s) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < 0 || v > 1e7) return 0;
  double mult = 1000;
  if (strcmp(end, "ms") == 0)
    mult = 1;
  else if (strcmp(end, "s") == 0 || !*end)
    mult = 1000;
  else if (strcmp(end, "m") == 0)
    mult = 60000;
  else if (strcmp(end, "h") == 0)
    mult = 3600000;
  else
    return 0;
  return (unsigned long long)(v * mult + 0.5);
}

static bool plain_url(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || *s == 0x7f) return false;
  return true;
}

/* /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{c}/
 * agentPools/{p}/machines/{m}; *name = m. */
static bool machine_id_ok(const char *id, const char **name) {
  static const char *const fixed[] = {
      "subscriptions",   NULL, "resourceGroups", NULL, "providers", "Microsoft.ContainerService",
      "managedClusters", NULL, "agentPools",     NULL, "machines",  NULL};
  const char *p = id;
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
    if (*p != '/') return false;
    p++;
    size_t n = strcspn(p, "/");
    if (!n) return false;
    for (size_t k = 0; k < n; k++)
      if (!((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') || (p[k] >= '0' && p[k] <= '9') ||
            strchr("._-()", p[k])))
        return false;
    if (fixed[i] && (strlen(fixed[i]) != n || strncasecmp(p, fixed[i], n) != 0)) return false;
    if (i == sizeof fixed / sizeof *fixed - 1) *name = p;
    p += n;
  }
  return *p == '\0';
}

/* A Kubernetes node name: an RFC 1123 subdomain. */
static bool node_name_ok(const char *s) {
  size_t n = strlen(s);
  if (!n || n > 253 || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.') return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.')) return false;
  return true;
}

static int parse_options(int argc, char **argv, agent *a, char *node_buf, size_t node_size) {
  ag_run_opts *o = &a->o;
  o->state_dir = "/var/lib/gpupool-agent";
  o->root = "/";
  o->api_version = AG_RUN_API_VERSION;
  o->token = getenv("GPUPOOL_TOKEN");
  o->drain_cmd = "kubectl drain --ignore-daemonsets --delete-emptydir-data";
  o->uncordon_cmd = "kubectl uncordon";
  o->taint_cmd = "kubectl taint nodes --overwrite";
  o->status_cmd = "kubectl get node -o json";
  o->interval_s = 30;
  o->health_poll_ms = 5000;
  const char *log_format = "text";
  static const char *const names[] = {"--endpoint",
                                      "--machine",
                                      "--interval",
                                      "--state-dir",
                                      "--root",
                                      "--node-name",
                                      "--vm-size",
                                      "--drain-command",
                                      "--uncordon-command",
                                      "--taint-command",
                                      "--node-status-command",
                                      "--token",
                                      "--cacert",
                                      "--api-version",
                                      "--health-interval",
                                      "--log-format"};
  const char **slots[] = {&o->endpoint,     &o->machine,     NULL,           &o->state_dir,
                          &o->root,         &o->node_name,   &o->vm_size,    &o->drain_cmd,
                          &o->uncordon_cmd, &o->taint_cmd,   &o->status_cmd, &o->token,
                          &o->cacert,       &o->api_version, NULL,           &log_format};
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      fputs(run_help, stdout);
      return -1;
    }
    if (strcmp(arg, "--execute") == 0) {
      o->execute = true;
      continue;
    }
    size_t k = 0;
    while (k < sizeof names / sizeof *names && strcmp(arg, names[k]) != 0)
      k++;
    if (k == sizeof names / sizeof *names) return ag_usage_error("run", "unknown argument '%s'", arg);
    if (i + 1 >= argc) return ag_usage_error("run", "option '%s' needs a value", arg);
    const char *v = argv[++i];
    if (slots[k]) {
      *slots[k] = v;
    } else if (k == 2) {
      unsigned long long ms = duration_ms(v);
      if (ms < 1000 || ms > 3600000) return ag_usage_error("run", "--interval must be 1s-1h, not '%s'", v);
      o->interval_s = (unsigned)(ms / 1000);
    } else {
      unsigned long long ms = duration_ms(v);
      if (ms < 100 || ms > 600000) return ag_usage_error("run", "--health-interval must be 100ms-10m, not '%s'", v);
      o->health_poll_ms = (unsigned)ms;
    }
  }
  if (!o->endpoint || !o->machine) return ag_usage_error("run", "--endpoint and --machine are required");
  if ((strncmp(o->endpoint, "http://", 7) != 0 && strncmp(o->endpoint, "https://", 8) != 0) || !plain_url(o->endpoint))
    return ag_usage_error("run", "--endpoint must be an http:// or https:// URL");
  const char *name = NULL;
  if (!machine_id_ok(o->machine, &name))
    return ag_usage_error("run", "--machine must be a machine's resource id, /subscriptions/{sub}/resourceGroups/{rg}/"
                                 "providers/Microsoft.ContainerService/managedClusters/{cluster}/agentPools/{pool}/"
                                 "machines/{name}");
  if (!o->node_name) {
    size_t n = 0;
    for (; name[n] && n + 1 < node_size; n++)
      node_buf[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] - 'A' + 'a' : name[n]);
    node_buf[n] = '\0';
    o->node_name = node_buf;
  }
  if (!node_name_ok(o->node_name))
    return ag_usage_error("run",
                          "the node name '%s' is not a Kubernetes node name (lower-case letters, digits, '-', "
                          "'.'); give --node-name",
                          o->node_name);
  if (o->token && !plain_url(o->token)) return ag_usage_error("run", "control characters or spaces in --token");
  for (const char *c = o->api_version; *c; c++)
    if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz-", *c))
      return ag_usage_error("run", "--api-version '%s' is not an api-version", o->api_version);
  if (o->vm_size && (!*o->vm_size || !plain_url(o->vm_size)))
    return ag_usage_error("run", "--vm-size must be a VM size name");
  if (!*o->state_dir || !*o->root) return ag_usage_error("run", "--state-dir and --root must not be empty");
  if (strcmp(log_format, "text") != 0 && strcmp(log_format, "json") != 0)
    return ag_usage_error("run", "--log-format must be text or json");
  o->log_json = strcmp(log_format, "json") == 0;
  const char *cmds[] = {o->drain_cmd, o->uncordon_cmd, o->taint_cmd, o->status_cmd};
  for (size_t i = 0; i < 4; i++)
    if (!*cmds[i]) return ag_usage_error("run", "a command option must not be empty");
  return 0;
}

/* ---- node facts ----------------------------------------------------------------------------------- */

static size_t imds_body(char *data, size_t size, size_t nmemb, void *userp) {
  char *out = userp;
  size_t n = size * nmemb, have = strlen(out);
  if (have + n < 128) {
    memcpy(out + have, data, n);
    out[have + n] = '\0';
  }
  return n;
}

/* The VM size from Azure's instance metadata service (a link-local address every Azure VM has);
 * "" elsewhere. Asked once, at start. */
static void imds_vm_size(char *out, size_t size) {
  char buf[128] = "";
  CURL *h = curl_easy_init();
  struct curl_slist *hdrs = curl_slist_append(NULL, "Metadata: true");
  long status = 0;
  out[0] = '\0';
  if (h && hdrs) {
    curl_easy_setopt(h, CURLOPT_URL,
                     "http://169.254.169.254/metadata/instance/compute/vmSize?api-version=2021-02-01&format=text");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, imds_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, (void *)buf);
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  }
  if (status == 200 && strncmp(buf, "Standard_", 9) == 0 && plain_url(buf)) snprintf(out, size, "%s", buf);
  curl_slist_free_all(hdrs);
  if (h) curl_easy_cleanup(h);
}

static void boot_id(char *out, size_t size) {
  const char *path = getenv("GPUPOOL_BOOT_ID_FILE");
  ag_err e;
  char *s = ag_read_file(path && *path ? path : "/proc/sys/kernel/random/boot_id", 256, NULL, &e);
  snprintf(out, size, "%s", s ? s : "unknown");
  out[strcspn(out, "\r\n ")] = '\0';
  free(s);
}

static void refresh_node_status(agent *a) {
  const char *args[] = {a->o.node_name, NULL};
  char *out = NULL;
  int rc = ag_exec_run(a->o.status_cmd, args, STATUS_TIMEOUT_S, &out, &stopping);
  ag_node_status st;
  if (rc == 0) {
    ag_node_status_parse(out, &st);
  } else {
    memset(&st, 0, sizeof st);
    snprintf(st.why, sizeof st.why, "'%s %s' %s (exit %d)", a->o.status_cmd, a->o.node_name,
             rc == 124 ? "timed out"
             : rc < 0  ? "could not be started"
                       : "failed",
             rc);
  }
  free(out);
  if (!st.known && (a->node.known || strcmp(st.why, a->node.why) != 0))
    ag_log("warn", "node", "node status unknown, reported as not ready: %s", st.why);
  else if (st.known && (!a->node.known || st.ready != a->node.ready || st.unschedulable != a->node.unschedulable))
    ag_log("info", "node", "node %s: %s%s", a->o.node_name, st.ready ? "Ready" : "not Ready",
           st.unschedulable ? ", unschedulable" : "");
  a->node = st;
  a->next_node_status = mono() + a->o.interval_s;
}

static void discover(agent *a) {
  ag_inventory inv;
  ag_err err;
  ag_inventory_init(&inv, "nvml");
  if (!ag_nvml_discover_keep_lost(&inv, &err)) {
    if (strcmp(err.msg, a->discover_error) != 0)
      ag_log("error", "discover", "%s; reporting the last inventory read", err.msg);
    snprintf(a->discover_error, sizeof a->discover_error, "%s", err.msg);
    ag_inventory_free(&inv);
    return;
  }
  if (a->discover_error[0] || !a->have_inv)
    ag_log("info", "discover", "%s: driver %s, %zu GPU%s", inv.driver_present ? "NVML" : "no NVIDIA driver",
           inv.driver_version ? inv.driver_version : "-", inv.ngpus, inv.ngpus == 1 ? "" : "s");
  a->discover_error[0] = '\0';
  if (a->have_inv) ag_inventory_free(&a->inv);
  a->inv = inv;
  a->have_inv = true;
  ag_health_sync_inventory(&a->health, &a->inv);
}

static void save_health(agent *a) {
  ag_err err;
  if (!ag_health_save(&a->health, a->health_path, &err)) ag_log("error", "state", "%s", err.msg);
}

static void save_state(agent *a) {
  ag_err err;
  if (!ag_state_save(a->o.state_dir, a->o.machine, &a->saved, a->last_report[0] ? a->last_report : NULL, &err))
    ag_log("error", "state", "%s", err.msg);
}

static void log_health(agent *a) {
  ag_buf b = {0};
  ag_buf_addf(&b, "node %s", gp_health_state_name(a->health.node));
  if (a->health.missing) ag_buf_addf(&b, "; %u GPU(s) missing", a->health.missing);
  for (unsigned i = 0; i < a->health.ngpus; i++) {
    const ag_gpu_memory *g = &a->health.gpus[i];
    if (g->health.state == GP_HEALTH_HEALTHY) continue;
    ag_buf_addf(&b, "; GPU %u %s: %s", i, gp_health_state_name(g->health.state),
                g->health.nreasons ? g->health.reasons[0] : "");
  }
  char *s = ag_buf_take(&b);
  ag_log(a->health.node == GP_HEALTH_HEALTHY ? "info" : "warn", "health", "%s", s ? s : "?");
  free(s);
}

/* Xid events and counters from the watcher; a change of health is reported at once. */
static void take_health(agent *a) {
  ag_xid_event ev[64];
  ag_gpu_counters counters[AG_WATCH_MAX_GPUS];
  unsigned ngpus = 0, dropped = 0;
  size_t n = ag_watch_take(a->watch, ev, 64, counters, &ngpus, &dropped);
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    gp_health_class cls = gp_xid_class(ev[i].xid);
    ag_log(cls == GP_HEALTH_CLASS_APPLICATION ? "info" : "warn", "xid", "GPU %u: Xid %u (%s)", ev[i].gpu, ev[i].xid,
           gp_health_class_name(cls));
    ag_health_xid(&a->health, &ev[i]);
  }
  if (dropped) ag_log("warn", "xid", "%u Xid events dropped (more than the queue holds)", dropped);
  for (unsigned i = 0; i < ngpus; i++)
    ag_health_counters(&a->health, i, &counters[i], now);
  size_t events_before = a->health.nevents;
  bool changed = ag_health_evaluate(&a->health);
  if (changed) {
    log_health(a);
    a->report_now = true;
  }
  if (changed || n || a->health.nevents != events_before) save_health(a);
}

/* ---- the report ---------------------------------------------------------------------------------- */

static void start_report(agent *a) {
  discover(a);
  time_t now = time(NULL);
  unsigned expected = 0;
  if (a->have_plan && a->plan.has_gpu && a->have_inv && a->inv.driver_present && a->plan.gpu_vendor &&
      strcmp(a->plan.gpu_vendor, "NVIDIA") == 0)
    expected = (unsigned)a->plan.gpu_count;
  ag_health_missing(&a->health, expected, a->have_inv ? (unsigned)a->inv.ngpus : 0, now);
  if (ag_health_evaluate(&a->health)) {
    log_health(a);
    save_health(a);
  }
  if (mono() >= a->next_node_status) refresh_node_status(a);
  /* findings against the applied plan; before any apply, against the plan the node is to run */
  if (!a->working && a->have_inv) {
    const char *text = a->saved.applied_text ? a->saved.applied_text : a->saved.plan_text;
    ag_plan p;
    ag_err err;
    if (text && ag_plan_parse(text, strlen(text), "plan", &p, &err)) {
      json_t *f = ag_step_findings(&p, &a->inv);
      if (f) {
        json_decref(a->findings);
        a->findings = f;
      }
      ag_plan_free(&p);
    }
  }
  ag_report_input in = {.vm_size = a->vm_size[0] ? a->vm_size : NULL,
                        .os_sku = a->os_sku,
                        .node_name = a->o.node_name,
                        .node = &a->node,
                        .interval_s = a->o.interval_s,
                        .applied_generation = a->saved.applied_generation,
                        .inv = a->have_inv ? &a->inv : NULL,
                        .findings = a->findings,
                        .health = &a->health};
  json_t *body = ag_report_body(&in);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  /* A connection kept for the next report would sit idle on the server until it closes it
   * (gpupoold's --header-timeout, 10 s) and hold one of its connection slots all that time: with
   * reports further apart than that it is closed at once (fleet simulator, bench/RESULTS.md). */
  ag_xfer_req r = {.url = a->report_url,
                   .token = a->o.token,
                   .cacert = a->o.cacert,
                   .body = text,
                   .timeout_s = 30,
                   .close_after = a->o.interval_s >= REPORT_REUSE_MAX_S};
  if (!text || !ag_xfer_start(a->multi, &a->put, &r)) {
    ag_log("error", "report", "out of memory");
    free(text);
    a->next_report = mono() + a->o.interval_s;
    return;
  }
  free(a->body_in_flight);
  a->body_in_flight = text;
  a->report_now = false;
}

static void report_done(agent *a, ag_xfer *x, CURLcode cc) {
  double now = mono();
  long status = x->status;
  double started = x->started;
  char *err = cc != CURLE_OK ? ag_xfer_error(cc, x) : NULL;
  char *body = ag_xfer_take_body(x);
  a->first_report_done = true;
  if (cc == CURLE_OK && (status == 200 || status == 201)) {
    if (a->put_fails)
      ag_log("info", "report", "gpupoold is back after %u failed report%s", a->put_fails, a->put_fails == 1 ? "" : "s");
    a->put_fails = 0;
    ag_rfc3339(time(NULL), a->last_report, sizeof a->last_report);
    ag_log("info", "report", "HTTP %ld: health %s, appliedGeneration %lld, %zu GPU%s", status,
           gp_health_state_name(a->health.node), a->saved.applied_generation, a->have_inv ? a->inv.ngpus : 0,
           a->have_inv && a->inv.ngpus == 1 ? "" : "s");
    ag_err e;
    if (a->body_in_flight && !ag_state_write(a->o.state_dir, "last-report.json", a->body_in_flight, &e))
      ag_log("error", "state", "%s", e.msg);
    save_state(a);
    a->next_report = started + a->o.interval_s;
  } else {
    char *why = err ? err : ag_arm_error(status, body);
    a->put_fails++;
    double d = backoff(a, a->put_fails);
    ag_log("warn", "report", "%s: %s; retrying in %.1f s", a->report_url, why ? why : "failed", d);
    if (why != err) free(why);
    a->next_report = now + d;
  }
  if (a->report_now && a->put_fails == 0) a->next_report = now;
  free(err);
  free(body);
}

/* ---- the plan ------------------------------------------------------------------------------------- */

static void start_poll(agent *a) {
  char *url = ag_fmt("%s&waitSeconds=%d", a->plan_url, WAIT_SECONDS);
  const char *inm = a->rejected_etag[0]                      ? a->rejected_etag
                    : a->saved.plan_text && a->saved.etag[0] ? a->saved.etag
                                                             : NULL;
  ag_xfer_req r = {
      .url = url, .token = a->o.token, .cacert = a->o.cacert, .if_none_match = inm, .timeout_s = WAIT_SECONDS + 30};
  if (!url || !ag_xfer_start(a->multi, &a->get, &r)) {
    ag_log("error", "plan", "out of memory");
    a->next_poll = mono() + a->o.interval_s;
  }
  free(url);
}

static void set_plan(agent *a, char *body, const char *etag) {
  ag_plan p;
  ag_err err;
  if (!ag_plan_parse(body, strlen(body), "the plan", &p, &err)) {
    ag_log("error", "plan", "the server's plan is not usable, the last one is kept: %s", err.msg);
    snprintf(a->rejected_etag, sizeof a->rejected_etag, "%s", etag);
    free(body);
    return;
  }
  if (a->have_plan) ag_plan_free(&a->plan);
  a->plan = p;
  a->have_plan = true;
  free(a->saved.plan_text);
  a->saved.plan_text = body;
  snprintf(a->saved.etag, sizeof a->saved.etag, "%s", etag);
  a->rejected_etag[0] = '\0';
  ag_log("info", "plan", "generation %lld (ETag %s)%s", p.generation, etag[0] ? etag : "none",
         p.generation == a->saved.applied_generation ? ", already applied" : "");
  if (!ag_state_write(a->o.state_dir, "plan.json", body, &err)) ag_log("error", "state", "%s", err.msg);
  save_state(a);
  if (p.generation != a->failed_generation) {
    a->next_apply = 0;
    a->apply_fails = 0;
  }
}

static void poll_done(agent *a, ag_xfer *x, CURLcode cc) {
  double now = mono(), started = x->started, elapsed = x->elapsed;
  long status = x->status;
  char etag[256];
  snprintf(etag, sizeof etag, "%s", ag_header_safe(x->resp.etag) ? x->resp.etag : "");
  char *err = cc != CURLE_OK ? ag_xfer_error(cc, x) : NULL;
  char *body = ag_xfer_take_body(x);
  /* a server that does not hold the request (answers at once) is asked again after an interval,
   * never in a loop; and never more than once a second */
  bool held_short = elapsed < WAIT_SECONDS - 2;
  double not_before = started + 1.0;
  if (cc == CURLE_OK && status == 304) {
    if (a->get_fails) ag_log("info", "plan", "gpupoold is back");
    a->get_fails = 0;
    a->next_poll = held_short ? started + a->o.interval_s : now;
  } else if (cc == CURLE_OK && status == 200 && body) {
    if (a->get_fails) ag_log("info", "plan", "gpupoold is back");
    a->get_fails = 0;
    bool same = a->saved.plan_text && strcmp(body, a->saved.plan_text) == 0;
    if (same) {
      a->next_poll = held_short ? started + a->o.interval_s : now;
      if (etag[0] && strcmp(etag, a->saved.etag) != 0) {
        snprintf(a->saved.etag, sizeof a->saved.etag, "%s", etag);
        save_state(a);
      }
      free(body);
    } else {
      set_plan(a, body, etag);
      a->next_poll = a->rejected_etag[0] ? now + backoff(a, ++a->get_fails) : now;
    }
    body = NULL;
  } else {
    char *why = err ? err : ag_arm_error(status, body);
    a->get_fails++;
    double d = backoff(a, a->get_fails);
    ag_log("warn", "plan", "%s&waitSeconds=%d: %s; retrying in %.1f s", a->plan_url, WAIT_SECONDS, why ? why : "failed",
           d);
    if (why != err) free(why);
    a->next_poll = now + d;
  }
  if (a->next_poll < not_before) a->next_poll = not_before;
  free(err);
  free(body);
}

/* ---- applying ------------------------------------------------------------------------------------- */

static void *step_thread(void *arg) {
  agent *a = arg;
  ag_step_run(&a->job, &stopping);
  atomic_store(&a->job_done, true);
  if (wake_fd >= 0) {
    ssize_t n = write(wake_fd, "a", 1);
    (void)n;
  }
  return NULL;
}

/* Threads get no signals: SIGTERM and SIGINT go to the main loop. */
static bool start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  bool ok = pthread_create(t, NULL, fn, arg) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return ok;
}

static void maybe_apply(agent *a, double now) {
  if (!a->have_plan || a->working || a->plan.generation == a->saved.applied_generation) return;
  if (!a->o.execute) {
    if (a->previewed_generation != a->plan.generation && a->have_inv) {
      ag_step_preview(&a->o, a->saved.plan_text, a->saved.applied_text, &a->inv);
      a->previewed_generation = a->plan.generation;
    }
    return;
  }
  if (now < a->next_apply) return;
  memset(&a->job, 0, sizeof a->job);
  a->job.opts = &a->o;
  a->job.plan_text = strdup(a->saved.plan_text);
  a->job.applied_text = a->saved.applied_text ? strdup(a->saved.applied_text) : NULL;
  for (unsigned i = 0; i < a->health.ngpus; i++) {
    const ag_gpu_memory *g = &a->health.gpus[i];
    a->job.reset[i] = !g->lost && !g->fatal_xid &&
                      (g->reset_xid || g->counters.ecc_uncorrected > 0 || g->counters.remap_pending == 1 ||
                       g->counters.retired_pending == 1);
  }
  atomic_store(&a->job_done, false);
  if (!a->job.plan_text || (a->saved.applied_text && !a->job.applied_text) ||
      !start_thread(&a->worker, step_thread, a)) {
    ag_log("error", "apply", "cannot start the apply step (out of memory or threads)");
    free(a->job.plan_text);
    free(a->job.applied_text);
    a->next_apply = now + 30;
    return;
  }
  a->working = true;
  ag_log("info", "apply", "generation %lld: applying (applied: %lld)", a->plan.generation, a->saved.applied_generation);
}

static void finish_step(agent *a) {
  pthread_join(a->worker, NULL);
  a->working = false;
  ag_step_job *j = &a->job;
  double now = mono();
  for (unsigned i = 0; i < AG_WATCH_MAX_GPUS; i++)
    if (j->reset_done[i]) ag_health_gpu_reset(&a->health, i, time(NULL));
  if (j->outcome == AG_STEP_APPLIED) {
    ag_err err;
    a->saved.applied_generation = j->generation;
    free(a->saved.applied_text);
    a->saved.applied_text = j->plan_text;
    j->plan_text = NULL;
    if (!ag_state_write(a->o.state_dir, "applied-plan.json", a->saved.applied_text, &err))
      ag_log("error", "state", "%s", err.msg);
    save_state(a);
    if (j->findings) {
      json_decref(a->findings);
      a->findings = j->findings;
      j->findings = NULL;
    }
    a->apply_fails = 0;
    ag_log("info", "apply", "generation %lld applied (%zu finding%s)%s", j->generation, json_array_size(a->findings),
           json_array_size(a->findings) == 1 ? "" : "s",
           j->left_cordoned ? "; the uncordon failed: the node is still unschedulable" : "");
  } else if (j->outcome != AG_STEP_ABANDONED) {
    a->apply_fails++;
    a->failed_generation = j->generation;
    double d = j->outcome == AG_STEP_REBOOT ? APPLY_RETRY_CAP_S : 30.0 * pow(2.0, a->apply_fails - 1);
    if (d > APPLY_RETRY_CAP_S) d = APPLY_RETRY_CAP_S;
    a->next_apply = now + d;
    ag_log("warn", "apply", "generation %lld not applied; trying again in %.0f s (or when the plan changes)",
           j->generation, d);
  }
  json_decref(j->findings);
  free(j->plan_text);
  free(j->applied_text);
  memset(j, 0, sizeof *j);
  if (ag_health_evaluate(&a->health)) log_health(a);
  save_health(a);
  a->report_now = true;
}

/* ---- the taint ------------------------------------------------------------------------------------ */

static void taint_step(agent *a, double now) {
  ag_health *h = &a->health;
  if (a->taint.pid) {
    int rc = ag_exec_poll(&a->taint);
    if (rc == -2) return;
    if (rc == 0) {
      if (a->taint_removal) {
        ag_log("info", "taint", "removed %s from node %s (the GPUs are healthy since the reboot)", TAINT_KEY,
               a->o.node_name);
      } else {
        ag_log("warn", "taint", "node %s tainted %s=%s:NoSchedule", a->o.node_name, TAINT_KEY, a->taint_value);
        snprintf(h->tainted, sizeof h->tainted, "%s", a->taint_value);
      }
      h->stale_taint[0] = '\0';
      save_health(a);
    } else {
      ag_log("error", "taint", "'%s' failed (exit %d); trying again in 30 s", a->o.taint_cmd, rc);
      a->next_taint = now + 30;
    }
    return;
  }
  if (now < a->next_taint) return;
  char arg[96];
  if (h->taint[0] && strcmp(h->taint, h->tainted) != 0) {
    snprintf(arg, sizeof arg, "%s=%s:NoSchedule", TAINT_KEY, h->taint);
    if (!a->o.execute) {
      if (strcmp(a->dry_taint_logged, h->taint) != 0)
        ag_log("warn", "dry-run", "a GPU failed: would run %s %s %s", a->o.taint_cmd, a->o.node_name, arg);
      snprintf(a->dry_taint_logged, sizeof a->dry_taint_logged, "%s", h->taint);
      return;
    }
    a->taint_removal = false;
    snprintf(a->taint_value, sizeof a->taint_value, "%s", h->taint);
  } else if (!h->taint[0] && h->stale_taint[0] && a->o.execute) {
    snprintf(arg, sizeof arg, "%s:NoSchedule-", TAINT_KEY);
    a->taint_removal = true;
  } else {
    return;
  }
  const char *args[] = {a->o.node_name, arg, NULL};
  ag_log("info", "taint", "run %s %s %s", a->o.taint_cmd, a->o.node_name, arg);
  if (!ag_exec_start(&a->taint, "taint", a->o.taint_cmd, args, 60)) {
    ag_log("error", "taint", "cannot run '%s'; trying again in 30 s", a->o.taint_cmd);
    a->next_taint = now + 30;
  }
}

/* ---- the loop ------------------------------------------------------------------------------------- */

static void drain_pipe(int fd) {
  char buf[256];
  while (read(fd, buf, sizeof buf) > 0)
    ;
}

static int loop(agent *a) {
  while (!got_stop) {
    double now = mono();
    take_health(a);
    taint_step(a, now);
    if (a->working && atomic_load(&a->job_done)) finish_step(a);
    maybe_apply(a, now);
    if (!a->put.active && (a->report_now || now >= a->next_report) && (a->put_fails == 0 || now >= a->next_report))
      start_report(a);
    if (!a->get.active && a->first_report_done && now >= a->next_poll) start_poll(a);

    double wait = 1.0; /* at least once a second: the taint child, the apply worker */
    if (!a->put.active && a->next_report - now < wait) wait = a->next_report - now;
    if (!a->get.active && a->first_report_done && a->next_poll - now < wait) wait = a->next_poll - now;
    if (wait < 0) wait = 0;
    struct curl_waitfd extra = {.fd = a->wake[0], .events = CURL_WAIT_POLLIN};
    int running = 0;
    curl_multi_poll(a->multi, &extra, 1, (int)(wait * 1000), NULL);
    drain_pipe(a->wake[0]);
    curl_multi_perform(a->multi, &running);
    CURLcode cc;
    ag_xfer *x;
    while ((x = ag_xfer_done(a->multi, &cc))) {
      if (x == &a->put)
        report_done(a, x, cc);
      else
        poll_done(a, x, cc);
    }
  }
  return 0;
}

static void shutdown_agent(agent *a) {
  atomic_store(&stopping, true);
  if (a->working) {
    ag_log("info", "stop", "waiting for the apply step to end safely");
    finish_step(a);
  }
  if (a->taint.pid) {
    ag_log("info", "stop", "waiting for the taint command");
    while (ag_exec_poll(&a->taint) == -2) {
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  ag_xfer_cancel(a->multi, &a->put);
  ag_xfer_cancel(a->multi, &a->get);
  take_health(a); /* what the watcher saw last is kept */
  ag_watch_stop(a->watch);
  a->watch = NULL;
  save_health(a);
  save_state(a);
}

int ag_cmd_daemon(int argc, char **argv) {
  agent *a = calloc(1, sizeof *a);
  char node_buf[256];
  if (!a) {
    fprintf(stderr, "gpupool-agent run: out of memory\n");
    return AG_EXIT_ERROR;
  }
  int rc = parse_options(argc, argv, a, node_buf, sizeof node_buf);
  if (rc) {
    free(a);
    return rc < 0 ? AG_EXIT_OK : rc;
  }
  ag_run_opts *o = &a->o;
  ag_log_init(o->log_json);
  a->wake[0] = a->wake[1] = -1;
  rc = AG_EXIT_ERROR;
  if (o->execute && strcmp(o->root, "/") == 0 && geteuid() != 0) {
    fprintf(stderr, "gpupool-agent run: --execute needs root (it drains, writes systemd files, runs nvidia-smi and "
                    "systemctl)\n");
    goto out;
  }
  char *probe = ag_fmt("%s/.probe", o->state_dir);
  ag_err err;
  snprintf(err.msg, sizeof err.msg, "out of memory");
  bool dir_ok = probe && ag_mkdirs_for(probe, &err);
  free(probe);
  if (dir_ok && access(o->state_dir, W_OK) != 0) {
    snprintf(err.msg, sizeof err.msg, "%s", strerror(errno));
    dir_ok = false;
  }
  if (!dir_ok) {
    fprintf(stderr, "gpupool-agent run: cannot use the state directory %s: %s\n", o->state_dir, err.msg);
    goto out;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(a->multi = curl_multi_init()) ||
      pipe2(a->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    fprintf(stderr, "gpupool-agent run: cannot initialise (libcurl or a pipe)\n");
    goto out;
  }
  wake_fd = a->wake[1];
  size_t elen = strlen(o->endpoint);
  while (elen && o->endpoint[elen - 1] == '/')
    elen--;
  a->report_url = ag_fmt("%.*s%s?api-version=%s", (int)elen, o->endpoint, o->machine, o->api_version);
  a->plan_url = ag_fmt("%.*s%s/plan?api-version=%s", (int)elen, o->endpoint, o->machine, o->api_version);
  a->health_path = ag_fmt("%s/health.json", o->state_dir);
  if (!a->report_url || !a->plan_url || !a->health_path) {
    fprintf(stderr, "gpupool-agent run: out of memory\n");
    goto out;
  }
  a->rng = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;

  /* what the last run left */
  char boot[64];
  boot_id(boot, sizeof boot);
  ag_state_load(o->state_dir, o->machine, &a->saved);
  ag_health_load(&a->health, a->health_path, boot);
  if (a->saved.plan_text) {
    ag_err perr;
    a->have_plan = ag_plan_parse(a->saved.plan_text, strlen(a->saved.plan_text), "plan.json", &a->plan, &perr);
  }
  ag_log("info", "start",
         "gpupool-agent %s: machine %s, node %s, %s, state in %s; resuming with plan generation %lld, applied %lld",
         AG_AGENT_VERSION, o->machine, o->node_name, o->execute ? "--execute" : "dry run (no --execute)", o->state_dir,
         a->have_plan ? a->plan.generation : 0, a->saved.applied_generation);
  if (o->vm_size)
    snprintf(a->vm_size, sizeof a->vm_size, "%s", o->vm_size);
  else
    imds_vm_size(a->vm_size, sizeof a->vm_size);
  if (!a->vm_size[0]) ag_log("warn", "start", "VM size unknown (no --vm-size, no Azure instance metadata)");
  char os_id[64];
  a->os_sku = ag_os_sku("/etc/os-release", os_id, sizeof os_id);
  if (!a->os_sku)
    ag_log("info", "start",
           "OS '%s' is none of the OS SKUs AKS names (Ubuntu, AzureLinux, CBLMariner): osSKU reported "
           "as unknown",
           os_id[0] ? os_id : "unknown");

  /* signals: to the main loop only (threads block them); SIGCHLD wakes it to reap the taint command */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  a->watch = ag_watch_start(a->wake[1], o->health_poll_ms);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!a->watch) {
    fprintf(stderr, "gpupool-agent run: out of memory\n");
    goto out;
  }
  discover(a);
  rc = loop(a);
  ag_log("info", "stop", "signal received: stopping");
  shutdown_agent(a);
  ag_log("info", "stop", "stopped");
out:
  if (a->watch) ag_watch_stop(a->watch);
  if (a->multi) curl_multi_cleanup(a->multi);
  wake_fd = -1;
  if (a->wake[0] >= 0) close(a->wake[0]);
  if (a->wake[1] >= 0) close(a->wake[1]);
  curl_global_cleanup();
  if (a->have_plan) ag_plan_free(&a->plan);
  if (a->have_inv) ag_inventory_free(&a->inv);
  ag_saved_free(&a->saved);
  json_decref(a->findings);
  free(a->body_in_flight);
  free(a->os_sku);
  free(a->report_url);
  free(a->plan_url);
  free(a->health_path);
  free(a);
  return rc;
}
