/* defaults.c - reading and writing the CLI's saved defaults (see defaults.h). */
#include "defaults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const cli_default_keys[] = {"group", "cluster", "location", "output", "endpoint", "subscription", NULL};
const char *const cli_default_key_help[] = {"-g/--resource-group",
                                            "--cluster-name (nodepool commands)",
                                            "-l/--location (cluster create)",
                                            "-o/--output",
                                            "--endpoint (after GPUPOOL_ENDPOINT)",
                                            "--subscription (after GPUPOOL_SUBSCRIPTION)",
                                            NULL};

static json_t *loaded; /* the "defaults" object, read once */
static bool tried;

bool cli_defaults_path(char *out, size_t size) {
  const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
  int n;
  if (xdg && *xdg == '/')
    n = snprintf(out, size, "%s/gpupool/config.json", xdg);
  else if (home && *home)
    n = snprintf(out, size, "%s/.config/gpupool/config.json", home);
  else
    return false;
  return n > 0 && (size_t)n < size;
}

json_t *cli_defaults_load(void) {
  char path[4096];
  if (!cli_defaults_path(path, sizeof path)) return json_object();
  if (access(path, F_OK) != 0) return json_object();
  json_error_t e;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
  json_t *d = json_object_get(doc, "defaults");
  if (!doc || (d && !json_is_object(d))) {
    fprintf(stderr, "gpupool: ignoring %s: %s\n", path, doc ? "\"defaults\" is not an object" : e.text);
    json_decref(doc);
    return NULL;
  }
  json_t *out = d ? json_incref(d) : json_object();
  json_decref(doc);
  /* only strings count */
  const char *k;
  json_t *v;
  void *tmp;
  json_object_foreach_safe(out, tmp, k, v) {
    if (!json_is_string(v)) json_object_del(out, k);
  }
  return out;
}

static void forget(void) { json_decref(loaded); }

const char *cli_default(const char *key) {
  if (!tried) {
    tried = true;
    loaded = cli_defaults_load();
    if (loaded) atexit(forget);
  }
  const char *v = json_string_value(json_object_get(loaded, key));
  return v && *v ? v : NULL;
}

static bool make_dirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
    *p = '/';
    if (!ok) return false;
  }
  return true;
}

bool cli_defaults_save(const json_t *defaults) {
  char path[4096], tmp[4200];
  if (!cli_defaults_path(path, sizeof path)) {
    fprintf(stderr, "gpupool configure: neither XDG_CONFIG_HOME nor HOME is set: nowhere to save defaults\n");
    return false;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  json_t *doc = json_pack("{s:O}", "defaults", defaults);
  bool ok = doc && make_dirs(path) && json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
            rename(tmp, path) == 0;
  if (!ok) {
    fprintf(stderr, "gpupool configure: cannot write %s: %s\n", path, strerror(errno));
    unlink(tmp);
  }
  json_decref(doc);
  return ok;
}
