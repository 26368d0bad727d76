/* json_util.c - typed, size-checked reads of untrusted JSON (see json_util.h). */
#include "json_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gpj_path(char *out, size_t size, const char *prefix, const char *key) {
  /* memcpy rather than snprintf: request parsing builds a prefix per nested object */
  size_t used = 0;
  if (size == 0) return;
  if (prefix && *prefix) {
    size_t n = strlen(prefix);
    if (n > size - 1) n = size - 1;
    memcpy(out, prefix, n);
    used = n;
    if (used < size - 1) out[used++] = '.';
  }
  size_t k = strlen(key);
  if (k > size - 1 - used) k = size - 1 - used;
  memcpy(out + used, key, k);
  out[used + k] = '\0';
}

const char *gpj_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER:
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "a value";
}

bool gpj_string(const json_t *obj, const char *key, const char *path, size_t maxlen, const char **out, gp_error *err) {
  char p[GP_PATH_MAX];
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v) return true;
  if (json_is_string(v) && json_string_length(v) <= maxlen && strlen(json_string_value(v)) == json_string_length(v)) {
    *out = json_string_value(v);
    return true;
  }
  gpj_path(p, sizeof p, path, key);
  if (!json_is_string(v))
    gp_error_add(err, "InvalidParameter", p, "'%s' must be a string, not %s.", p, gpj_type_name(v));
  else if (json_string_length(v) > maxlen)
    gp_error_add(err, "InvalidParameter", p, "'%s' is %zu characters long; at most %zu are allowed.", p,
                 json_string_length(v), maxlen);
  else
    gp_error_add(err, "InvalidParameter", p, "'%s' must not contain NUL characters.", p);
  return false;
}

bool gpj_enum(const json_t *obj, const char *key, const char *path, const gp_enum_names *names, int *out,
              gp_error *err) {
  const char *s;
  char p[GP_PATH_MAX], list[256];
  *out = 0;
  if (!gpj_string(obj, key, path, 64, &s, err)) {
    if (err->count) { /* add the allowed values to the type error */
      gp_violation *v = &err->items[err->count - 1];
      char *m = NULL;
      gp_enum_list(names, list, sizeof list);
      if (asprintf(&m, "%s Allowed values: %s.", v->message, list) >= 0) {
        free(v->message);
        v->message = m;
      } else {
        err->oom = true; /* the message would lack what to do */
      }
    }
    return false;
  }
  if (!s) return true;
  int e = gp_enum_parse(names, s);
  if (!e) {
    gpj_path(p, sizeof p, path, key);
    gp_enum_list(names, list, sizeof list);
    gp_error_add(err, "InvalidParameter", p, "'%.64s' is not a valid value for '%s'. Allowed values: %s.", s, p, list);
    return false;
  }
  *out = e;
  return true;
}

bool gpj_string_map(const json_t *obj, const char *key, const char *path, size_t max_entries, size_t max_key,
                    size_t max_value, const json_t **out, gp_error *err) {
  char p[GP_PATH_MAX];
  const json_t *m = json_object_get(obj, key);
  const char *k;
  json_t *v;
  bool ok = true;
  *out = NULL;
  if (!m) return true;
  p[0] = '\0';
  if (!json_is_object(m) || json_object_size(m) > max_entries) gpj_path(p, sizeof p, path, key);
  if (!json_is_object(m)) {
    gp_error_add(err, "InvalidParameter", p, "'%s' must be an object of strings, not %s.", p, gpj_type_name(m));
    return false;
  }
  if (json_object_size(m) > max_entries) {
    gp_error_add(err, "InvalidParameter", p, "'%s' has %zu entries; at most %zu are allowed.", p, json_object_size(m),
                 max_entries);
    return false;
  }
  json_object_foreach((json_t *)m, k, v) {
    bool bad = strlen(k) == 0 || strlen(k) > max_key || !json_is_string(v) || json_string_length(v) > max_value ||
               strlen(json_string_value(v)) != json_string_length(v);
    if (!bad) continue;
    if (!p[0]) gpj_path(p, sizeof p, path, key);
    if (strlen(k) == 0 || strlen(k) > max_key) {
      gp_error_add(err, "InvalidParameter", p, "Keys of '%s' must be 1 to %zu characters long.", p, max_key);
      ok = false;
    } else if (!json_is_string(v)) {
      gp_error_add(err, "InvalidParameter", p, "'%s' values must be strings; '%.64s' is %s.", p, k, gpj_type_name(v));
      ok = false;
    } else if (json_string_length(v) > max_value || strlen(json_string_value(v)) != json_string_length(v)) {
      gp_error_add(err, "InvalidParameter", p, "The value of '%.64s' in '%s' must be at most %zu characters.", k, p,
                   max_value);
      ok = false;
    }
  }
  if (ok) *out = m;
  return ok;
}

bool gpj_only_known(const json_t *obj, const char *path, const char *const *allowed, const char *hint, gp_error *err) {
  const char *k;
  json_t *v;
  bool ok = true;
  json_object_foreach((json_t *)obj, k, v) {
    bool known = false;
    for (size_t i = 0; allowed[i]; i++)
      if (strcmp(allowed[i], k) == 0) known = true;
    if (!known) {
      char p[GP_PATH_MAX];
      gpj_path(p, sizeof p, path, k);
      char list[256] = "";
      size_t used = 0;
      for (size_t i = 0; allowed[i]; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "", allowed[i]);
        if (n < 0 || (size_t)n >= sizeof list - used) break;
        used += (size_t)n;
      }
      gp_error_add(err, "InvalidParameter", p, "'%.200s' is not a known property. '%s' accepts only %s.%s%s", p, path,
                   used ? list : "no properties", hint ? " " : "", hint ? hint : "");
      ok = false;
    }
  }
  return ok;
}

/* The canonical spelling of key among the two lists; NULL when it names none of them. */
static const char *canonical_name(const char *key, const char *const *names, const char *const *also) {
  for (size_t i = 0; names[i]; i++)
    if (strcasecmp(names[i], key) == 0) return names[i];
  for (size_t i = 0; also && also[i]; i++)
    if (strcasecmp(also[i], key) == 0) return also[i];
  return NULL;
}

json_t *gpj_canonical(const json_t *obj, const char *path, const char *const *names, const char *const *also,
                      gp_error *err) {
  const char *k;
  json_t *v;
  bool rename = false;
  json_object_foreach((json_t *)obj, k, v) {
    const char *c = canonical_name(k, names, also);
    if (c && strcmp(c, k) != 0) rename = true;
  }
  if (!rename) { /* two members can name one property only if one of them is spelt otherwise */
    json_t *same = gpj_share(obj);
    if (!same) err->oom = true;
    return same;
  }
  json_t *out = json_object();
  if (!out) {
    err->oom = true;
    return NULL;
  }
  json_object_foreach((json_t *)obj, k, v) {
    const char *c = canonical_name(k, names, also);
    const char *name = c ? c : k;
    if (c && json_object_get(out, c)) {
      char p[GP_PATH_MAX];
      gpj_path(p, sizeof p, path, c);
      gp_error_add(err, "InvalidParameter", p,
                   "'%s' is given twice: property names are case-insensitive, so '%.64s' is '%s' too. Send it once.", p,
                   k, c);
      json_decref(out);
      return NULL;
    }
    if (json_object_set_new(out, name, gpj_share(v))) {
      err->oom = true;
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

json_t *gpj_copy_without(const json_t *obj, const char *const *skip) {
  json_t *out = json_object();
  const char *k;
  json_t *v;
  if (!out) return NULL;
  json_object_foreach((json_t *)obj, k, v) {
    bool drop = false;
    for (size_t i = 0; skip[i] && !drop; i++)
      drop = skip[i][0] == k[0] && strcmp(skip[i], k) == 0; /* first-byte filter: this runs per request */
    if (drop) continue;
    json_t *c = gpj_share(v);
    if (!c || json_object_set_new(out, k, c)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

char *gpj_strdup(const char *s) { return s ? strdup(s) : NULL; }

bool gpj_dup_into(char **dst, const char *src, gp_error *err) {
  if (!src) return true;
  if (!(*dst = strdup(src))) {
    err->oom = true;
    return false;
  }
  return true;
}

bool gpj_streq_ci(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcasecmp(a, b) == 0;
}

int gpj_set_str(json_t *o, const char *k, const char *v) { return v ? json_object_set_new(o, k, json_string(v)) : 0; }

int gpj_merge_missing(json_t *dst, const json_t *extra) {
  const char *k;
  json_t *v;
  if (!extra) return 0;
  json_object_foreach((json_t *)extra, k, v) {
    if (json_object_get(dst, k)) continue;
    if (json_object_set_new(dst, k, gpj_share(v))) return -1;
  }
  return 0;
}
