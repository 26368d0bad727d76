/* fleetserver.c - a small stand-in for gpupoold in the tests of `gpupool-agent run`: it implements
 * only what the agent calls, and records it. (The agent against the real gpupoold is the fleet
 * integration test's job.)
 *
 *   fleetserver DIR [PORT]
 *
 * Listens on 127.0.0.1:PORT (default: a free port), writes the port to DIR/port once listening,
 * and serves, for any machine resource id under /subscriptions/.../agentPools/{p}/machines/{m},
 * with ?api-version=2026-10-02-preview (another api-version gets 400):
 *   PUT  {machine}            the report: appended as one line to DIR/puts.jsonl, also written to
 *                             DIR/last-put.json; 200 with the body echoed. A body that is not a JSON
 *                             object gets 400 InvalidRequestContent.
 *   GET  {machine}/plan       DIR/plan.json with ETag "<FNV-1a of the content>" (404 when the file
 *                             is missing). With If-None-Match equal to the current ETag: 304, after
 *                             holding the request until the plan file changes (then 200 at once) or
 *                             ?waitSeconds=N (0-60) pass, unless DIR/mode says "nohold" (304 at
 *                             once, like a server without long-poll support) or "ignore-inm" (200
 *                             with the plan every time, like a server that ignores If-None-Match).
 * DIR/mode "error" answers 503 to everything. Each request is appended to DIR/requests.log as
 * "METHOD TARGET if-none-match=... authorization=...". Thread per connection, so a held GET does
 * not delay a PUT. It exits by itself after 10 minutes so that a failed test never leaves it. */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define API_VERSION "2026-10-02-preview"
#define BODY_MAX (1024 * 1024)

static const char *dir;
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;

static char *path_in(const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static char *slurp(const char *name, size_t *len) {
  char *path = path_in(name);
  FILE *f = path ? fopen(path, "rb") : NULL;
  free(path);
  if (!f) return NULL;
  char *buf = malloc(BODY_MAX + 1);
  size_t n = buf ? fread(buf, 1, BODY_MAX, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

static void append(const char *name, const char *text) {
  pthread_mutex_lock(&file_lock);
  char *path = path_in(name);
  FILE *f = path ? fopen(path, "a") : NULL;
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  free(path);
  pthread_mutex_unlock(&file_lock);
}

static void write_file(const char *name, const char *text) {
  pthread_mutex_lock(&file_lock);
  char *path = path_in(name), *tmp = path_in("tmp.write");
  FILE *f = tmp ? fopen(tmp, "w") : NULL;
  if (f) {
    fputs(text, f);
    fclose(f);
    rename(tmp, path);
  }
  free(path);
  free(tmp);
  pthread_mutex_unlock(&file_lock);
}

static bool mode_is(const char *m) {
  char *mode = slurp("mode", NULL);
  bool is = mode && strncmp(mode, m, strlen(m)) == 0;
  free(mode);
  return is;
}

/* The plan and its ETag; NULL when there is none. */
static char *plan(char *etag, size_t size) {
  size_t len = 0;
  char *text = slurp("plan.json", &len);
  if (!text) return NULL;
  unsigned long long h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
  snprintf(etag, size, "\"%016llx\"", h);
  return text;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, const char *etag) {
  struct MHD_Response *r =
      MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "application/json");
  if (etag) MHD_add_response_header(r, "ETag", etag);
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result arm_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg) {
  char body[512];
  snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, msg);
  return reply(c, status, body, NULL);
}

typedef struct {
  char *body;
  size_t len;
  bool too_big;
} upload;

static bool is_machine(const char *url, bool *is_plan) {
  const char *m = strstr(url, "/machines/");
  if (strncmp(url, "/subscriptions/", 15) != 0 || !strstr(url, "/agentPools/") || !m) return false;
  const char *name = m + 10, *slash = strchr(name, '/');
  *is_plan = slash && strcmp(slash, "/plan") == 0;
  return *name && *name != '/' && (!slash || *is_plan);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **con_cls) {
  (void)cls;
  (void)version;
  if (!*con_cls) {
    upload *u = calloc(1, sizeof *u);
    if (!u) return MHD_NO;
    *con_cls = u;
    return MHD_YES;
  }
  upload *u = *con_cls;
  if (*size) {
    if (u->len + *size > BODY_MAX) {
      u->too_big = true;
    } else {
      char *b = realloc(u->body, u->len + *size + 1);
      if (!b) return MHD_NO;
      memcpy(b + u->len, data, *size);
      u->body = b;
      u->len += *size;
      b[u->len] = '\0';
    }
    *size = 0;
    return MHD_YES;
  }
  const char *api = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api-version");
  const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  const char *wait = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "waitSeconds");
  char line[2048];
  snprintf(line, sizeof line, "%s %s api-version=%s waitSeconds=%s if-none-match=%s authorization=%s\n", method, url,
           api ? api : "-", wait ? wait : "-", inm ? inm : "-", auth ? auth : "-");
  append("requests.log", line);
  bool is_plan = false;
  if (mode_is("error")) return arm_error(c, 503, "ServiceUnavailable", "The stand-in is told to fail.");
  if (!is_machine(url, &is_plan)) return arm_error(c, 404, "NotFound", "Not a machine of this stand-in.");
  if (!api || strcmp(api, API_VERSION) != 0)
    return arm_error(c, 400, "NoRegisteredProviderFound", "Unsupported api-version for machines.");
  if (strcmp(method, "PUT") == 0 && !is_plan) {
    json_t *body = u->body && !u->too_big ? json_loads(u->body, 0, NULL) : NULL;
    if (!json_is_object(body)) {
      json_decref(body);
      return arm_error(c, 400, "InvalidRequestContent", "The report is not a JSON object.");
    }
    char *compact = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!compact) return MHD_NO;
    size_t n = strlen(compact);
    char *entry = malloc(n + 2);
    if (entry) {
      memcpy(entry, compact, n);
      entry[n] = '\n';
      entry[n + 1] = '\0';
      append("puts.jsonl", entry);
      write_file("last-put.json", entry);
    }
    free(entry);
    enum MHD_Result r = reply(c, 200, compact, NULL);
    free(compact);
    return r;
  }
  if (strcmp(method, "GET") == 0 && is_plan) {
    char etag[64];
    int secs = wait ? atoi(wait) : 0;
    if (secs < 0) secs = 0;
    if (secs > 60) secs = 60;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += secs;
    for (;;) {
      char *text = plan(etag, sizeof etag);
      if (!text) return arm_error(c, 404, "ResourceNotFound", "No plan for this machine yet.");
      if (!inm || strcmp(inm, etag) != 0 || mode_is("ignore-inm")) {
        enum MHD_Result r = reply(c, 200, text, etag);
        free(text);
        return r;
      }
      free(text);
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (mode_is("nohold") || now.tv_sec > until.tv_sec ||
          (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
        return reply(c, 304, NULL, etag);
      struct timespec nap = {0, 50 * 1000 * 1000};
      nanosleep(&nap, NULL);
    }
  }
  return arm_error(c, 405, "MethodNotAllowed", "The stand-in serves PUT machine and GET machine/plan.");
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  upload *u = *con_cls;
  if (u) free(u->body);
  free(u);
  *con_cls = NULL;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: fleetserver DIR [PORT]\n");
    return 2;
  }
  dir = argv[1];
  int port = argc == 3 ? atoi(argv[2]) : 0;
  alarm(600);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
      handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
      MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "fleetserver: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  char text[32];
  snprintf(text, sizeof text, "%u\n", info ? (unsigned)info->port : (unsigned)port);
  write_file("port", text);
  for (;;)
    pause();
}
