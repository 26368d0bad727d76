/* limits_config.c - the connection limit flags and the open-file limit (see limits_config.h). */
#include "limits_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

const char gpd_limits_usage[] =
    "\n"
    "Connections (docs/decisions.md, Hardening):\n"
    "      --max-connections N         connections kept open at once, held long-polls included (default\n"
    "                                  20000, lowered to fit the open-file limit, which gpupoold raises\n"
    "                                  to its hard limit at start); further ones are closed at once\n"
    "      --max-connections-per-ip N  connections from one client address (default 1024, 0 = no cap);\n"
    "                                  agents behind a NAT or a proxy share its address: allow two per\n"
    "                                  node behind it\n"
    "      --header-timeout S          a connection that has not sent complete request headers S seconds\n"
    "                                  after it opened (or after its previous answer) is closed\n"
    "                                  (default 10)\n"
    "      --idle-timeout S            a request whose body or answer stalls S seconds is closed\n"
    "                                  (default 30; held long-polls never are)\n"
    "      --connection-memory BYTES   memory of each connection for its request headers and the head of\n"
    "                                  its answer (default 12288: headers up to about 11 KB; larger ones\n"
    "                                  are refused 431); a held long-poll keeps all of it\n";

void gpd_limits_defaults(gpd_limits_config *l) {
  l->max_connections = GPD_DEFAULT_MAX_CONNECTIONS;
  l->max_per_ip = GPD_DEFAULT_MAX_PER_IP;
  l->header_timeout = GPD_DEFAULT_HEADER_TIMEOUT;
  l->idle_timeout = GPD_DEFAULT_IDLE_TIMEOUT;
  l->conn_memory = GPD_DEFAULT_CONNECTION_MEMORY;
}

static bool whole(const char *s, long lo, long hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return false;
  *out = (int)v;
  return true;
}

bool gpd_limits_option(gpd_limits_config *l, int which, const char *arg, char *err, size_t errlen) {
  switch (which) {
  case GPD_LIM_MAX_CONNECTIONS:
    if (whole(arg, 16, 1000000, &l->max_connections)) return true;
    snprintf(err, errlen, "--max-connections must be 16 to 1000000, not '%s'", arg);
    return false;
  case GPD_LIM_MAX_PER_IP:
    if (whole(arg, 0, 1000000, &l->max_per_ip)) return true;
    snprintf(err, errlen, "--max-connections-per-ip must be 0 (no cap) to 1000000, not '%s'", arg);
    return false;
  case GPD_LIM_HEADER_TIMEOUT:
    if (whole(arg, 1, 3600, &l->header_timeout)) return true;
    snprintf(err, errlen, "--header-timeout must be whole seconds from 1 to 3600, not '%s'", arg);
    return false;
  case GPD_LIM_IDLE_TIMEOUT:
    if (whole(arg, 1, 3600, &l->idle_timeout)) return true;
    snprintf(err, errlen, "--idle-timeout must be whole seconds from 1 to 3600, not '%s'", arg);
    return false;
  case GPD_LIM_CONN_MEMORY:
    if (whole(arg, 8192, 1048576, &l->conn_memory)) return true;
    snprintf(err, errlen, "--connection-memory must be 8192 to 1048576 bytes, not '%s'", arg);
    return false;
  default: snprintf(err, errlen, "unknown limits option"); return false;
  }
}

void gpd_limits_apply(gpd_limits_config *l, int reserve, char *info, size_t infolen) {
  struct rlimit rl;
  long soft = -1, hard = -1;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    if (rl.rlim_cur < rl.rlim_max) {
      struct rlimit up = {rl.rlim_max, rl.rlim_max};
      if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
    }
    soft = rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
    hard = rl.rlim_max == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_max;
  }
  int asked = l->max_connections;
  if (soft > 0 && soft - reserve < l->max_connections)
    l->max_connections = soft - reserve > 16 ? (int)(soft - reserve) : 16;
  char per_ip[32];
  if (l->max_per_ip)
    snprintf(per_ip, sizeof per_ip, "%d", l->max_per_ip);
  else
    snprintf(per_ip, sizeof per_ip, "no cap");
  snprintf(info, infolen,
           "limits: open files %ld (hard %ld); connections %d%s; per client address %s; request headers within %d "
           "s; idle %d s; %d bytes a connection",
           soft, hard, l->max_connections,
           l->max_connections < asked ? " (lowered from --max-connections to fit the open-file limit; raise that "
                                        "with ulimit -n or LimitNOFILE=)"
                                      : "",
           per_ip, l->header_timeout, l->idle_timeout, l->conn_memory);
}
