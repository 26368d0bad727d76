/* config.c - parsing gpupoold's flags (see `gpupoold --help`). */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char usage[] =
    "Usage: gpupoold [options]\n"
    "\n"
    "The gpupool control plane: an ARM-compatible Microsoft.ContainerService API for managed clusters and\n"
    "GPU agent pools, with Microsoft.Features registrations, asynchronous operations and a reconciler\n"
    "that computes each pool's install plan.\n"
    "\n"
    "Options:\n"
    "      --listen HOST:PORT          address to serve on (default 127.0.0.1:8080; port 0 picks a free\n"
    "                                  port; the address is printed on stdout)\n"
    "      --db sqlite:PATH            the store (default sqlite:./var/gpupool.db; created on first start,\n"
    "                                  when none of PATH, PATH-wal, PATH-shm and PATH.lock exists; one\n"
    "                                  gpupoold per file, however the path is spelled)\n"
    "      --db postgres://USER@HOST:PORT/DB\n"
    "                                  PostgreSQL (libpq URI, postgresql:// too, ?param=value allowed;\n"
    "                                  PGPASSWORD or ~/.pgpass keep a password off the command line);\n"
    "                                  any number of gpupoold replicas may share one database\n"
    "      --init                      create a new, empty SQLite store although PATH.lock (or a PATH-wal)\n"
    "                                  shows one was there and its file is gone (restore it from a backup\n"
    "                                  if you can); a leftover PATH-wal/-shm is renamed *.orphaned-TIME\n"
    "      --phase preview|ga          rollout phase of the managed GPU experience (default preview)\n"
    "      --ga-kubernetes-version V   first Kubernetes version that defaults to Managed when ga\n"
    "                                  (default " GP_DEFAULT_GA_KUBERNETES_VERSION ")\n"
    "      --public-url URL            base of the absolute URLs in Azure-AsyncOperation, Location and\n"
    "                                  nextLink (default: http:// and the request's Host)\n"
    "      --retry-after SECONDS       the longest Retry-After of an operation (default 1); it says\n"
    "                                  when the operation is due: 0 once it is\n"
    "      --log-format text|json      one log line per request on stderr (default text)\n"
    "      --metrics-listen HOST:PORT  also serve GET /metrics and /healthz, without authentication, on this\n"
    "                                  address (for Prometheus on a private network); with --auth tokens|jwt\n"
    "                                  the API address serves /metrics to authenticated callers only\n"
    "      --threads N                 HTTP worker threads (default 64; a write holds its thread\n"
    "                                  until its group commit is durable)\n"
    "      --operation-delay-ms MS     keep each operation InProgress at least this long, to mimic\n"
    "                                  provisioning time (default 0)\n"
    "      --operation-lease-ms MS     how long past its due time an operation claimed by a replica\n"
    "                                  that died waits before another takes it over (default 30000)\n"
    "      --report-coalesce-ms MS     a machine report that changes nothing but lastSeen is kept in memory\n"
    "                                  and stored with others at most this long after (and never later than\n"
    "                                  the machine's report interval); 0 to 30000 (default 10000)\n"
    "      --rollout-minute-ms MS      how long a minute of a pool's upgradeSettings (drain timeout, soak)\n"
    "                                  lasts for the rollouts: a test and benchmark knob; 10 to 60000\n"
    "                                  (default 60000)\n"
    "      --no-ui                     do not serve the web console (default: served under /ui/)\n"
    "  -h, --help                      this help\n"
    "      --version                   print the version and exit\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "gpupoold: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'gpupoold --help'.\n");
  return 2;
}

static bool parse_int(const char *s, long lo, long hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = (int)v;
  return true;
}

/* HOST:PORT, [V6]:PORT or :PORT into host (256 bytes) and port. */
static bool parse_listen(const char *s, char *out_host, int *out_port) {
  const char *colon = strrchr(s, ':');
  const char *host = s;
  size_t hlen;
  if (!colon || !parse_int(colon + 1, 0, 65535, out_port)) return false;
  hlen = (size_t)(colon - s);
  if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
    host++;
    hlen -= 2;
  }
  if (hlen >= 256) return false;
  if (hlen == 0) {
    strcpy(out_host, "0.0.0.0");
  } else {
    memcpy(out_host, host, hlen);
    out_host[hlen] = '\0';
  }
  return true;
}

int gpd_config_parse(gpd_config *c, int argc, char **argv) {
  enum {
    O_LISTEN = 256,
    O_DB,
    O_PHASE,
    O_GA,
    O_PUBLIC,
    O_RETRY,
    O_LOG,
    O_THREADS,
    O_DELAY,
    O_LEASE,
    O_NO_UI,
    O_RC,
    O_MINUTE,
    O_INIT,
    O_METRICS,
    O_LIM,
    O_SEC = O_LIM + GPD_LIM_NOPTS
  };
  static const struct option opts[] = {{"listen", required_argument, NULL, O_LISTEN},
                                       {"db", required_argument, NULL, O_DB},
                                       {"phase", required_argument, NULL, O_PHASE},
                                       {"ga-kubernetes-version", required_argument, NULL, O_GA},
                                       {"public-url", required_argument, NULL, O_PUBLIC},
                                       {"retry-after", required_argument, NULL, O_RETRY},
                                       {"log-format", required_argument, NULL, O_LOG},
                                       {"threads", required_argument, NULL, O_THREADS},
                                       {"operation-delay-ms", required_argument, NULL, O_DELAY},
                                       {"operation-lease-ms", required_argument, NULL, O_LEASE},
                                       {"report-coalesce-ms", required_argument, NULL, O_RC},
                                       {"rollout-minute-ms", required_argument, NULL, O_MINUTE},
                                       {"init", no_argument, NULL, O_INIT},
                                       {"metrics-listen", required_argument, NULL, O_METRICS},
                                       GPD_LIMITS_LONG_OPTIONS(O_LIM),
                                       {"no-ui", no_argument, NULL, O_NO_UI},
                                       GPD_SECURITY_LONG_OPTIONS(O_SEC),
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  memset(c, 0, sizeof *c);
  strcpy(c->host, "127.0.0.1");
  c->port = 8080;
  c->db = "sqlite:./var/gpupool.db";
  c->phase = GP_PHASE_PREVIEW;
  gp_k8s_version_parse(GP_DEFAULT_GA_KUBERNETES_VERSION, &c->ga_version);
  c->retry_after = 1;
  c->threads = 64;
  c->operation_lease_ms = 30000;
  c->report_coalesce_ms = 10000;
  c->rollout_minute_ms = 60000;
  gpd_limits_defaults(&c->limits);
  c->metrics_port = -1;
  c->ui = true;
  optind = 1;
  opterr = 0;
  int o;
  while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (o) {
    case O_LISTEN:
      if (!parse_listen(optarg, c->host, &c->port)) return bad("--listen must be HOST:PORT, not '%s'", optarg);
      break;
    case O_DB: c->db = optarg; break;
    case O_PHASE:
      if (strcasecmp(optarg, "preview") == 0)
        c->phase = GP_PHASE_PREVIEW;
      else if (strcasecmp(optarg, "ga") == 0)
        c->phase = GP_PHASE_GA;
      else
        return bad("--phase must be preview or ga, not '%s'", optarg);
      break;
    case O_GA:
      if (!gp_k8s_version_parse(optarg, &c->ga_version))
        return bad("--ga-kubernetes-version must look like 1.36, not '%s'", optarg);
      break;
    case O_PUBLIC: {
      size_t n = strlen(optarg);
      if ((strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) || n > 512)
        return bad("--public-url must be an http:// or https:// URL, not '%s'", optarg);
      while (n > 0 && optarg[n - 1] == '/')
        optarg[--n] = '\0'; /* the paths bring their own '/' */
      c->public_url = optarg;
      break;
    }
    case O_RETRY:
      if (!parse_int(optarg, 0, 3600, &c->retry_after))
        return bad("--retry-after must be whole seconds from 0 to 3600, not '%s'", optarg);
      break;
    case O_LOG:
      if (strcmp(optarg, "text") == 0)
        c->log_json = false;
      else if (strcmp(optarg, "json") == 0)
        c->log_json = true;
      else
        return bad("--log-format must be text or json, not '%s'", optarg);
      break;
    case O_THREADS:
      if (!parse_int(optarg, 1, 256, &c->threads)) return bad("--threads must be 1 to 256, not '%s'", optarg);
      break;
    case O_DELAY:
      if (!parse_int(optarg, 0, 3600000, &c->operation_delay_ms))
        return bad("--operation-delay-ms must be 0 to 3600000, not '%s'", optarg);
      break;
    case O_LEASE:
      if (!parse_int(optarg, 100, 3600000, &c->operation_lease_ms))
        return bad("--operation-lease-ms must be 100 to 3600000, not '%s'", optarg);
      break;
    case O_RC:
      if (!parse_int(optarg, 0, 30000, &c->report_coalesce_ms))
        return bad("--report-coalesce-ms must be 0 to 30000, not '%s'", optarg);
      break;
    case O_MINUTE:
      if (!parse_int(optarg, 10, 60000, &c->rollout_minute_ms))
        return bad("--rollout-minute-ms must be 10 to 60000, not '%s'", optarg);
      break;
    case O_INIT: c->init_store = true; break;
    case O_METRICS:
      if (!parse_listen(optarg, c->metrics_host, &c->metrics_port))
        return bad("--metrics-listen must be HOST:PORT, not '%s'", optarg);
      break;
    case O_NO_UI: c->ui = false; break;
    case 'h':
      fputs(usage, stdout);
      fputs(gpd_limits_usage, stdout);
      fputs(gpd_security_usage, stdout);
      return 0;
    case ':': return bad("option '%s' needs a value", argv[optind - 1]);
    default: {
      char why[256];
      if (o >= O_LIM && o < O_LIM + GPD_LIM_NOPTS) {
        if (!gpd_limits_option(&c->limits, o - O_LIM, optarg, why, sizeof why)) return bad("%s", why);
        break;
      }
      if (o < O_SEC || o >= O_SEC + GPD_SEC_NOPTS) return bad("unknown option '%s'", argv[optind - 1]);
      if (!gpd_security_option(&c->sec, o - O_SEC, optarg, why, sizeof why)) return bad("%s", why);
    }
    }
  }
  if (optind < argc) return bad("unexpected argument '%s'", argv[optind]);
  char why[512];
  if (!gpd_security_config_check(&c->sec, c->host, why, sizeof why)) return bad("%s", why);
  return -1;
}
