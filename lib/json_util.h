/* json_util.h - internal helpers for reading untrusted JSON: typed getters that record a
 * violation (InvalidParameter with the JSON path as target) instead of trusting the input. */
#ifndef GPUPOOL_JSON_UTIL_H
#define GPUPOOL_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gpupool/enums.h"
#include "gpupool/error.h"

#define GP_PATH_MAX 320

/* out = prefix + "." + key (or key alone when prefix is empty). */
void gpj_path(char *out, size_t size, const char *prefix, const char *key);

/* Optional string member: true with *out = NULL when absent, true with the value when a string of
 * at most maxlen bytes, false (violation recorded) otherwise. null counts as a wrong type. */
bool gpj_string(const json_t *obj, const char *key, const char *path, size_t maxlen, const char **out, gp_error *err);

/* Optional enum member (case-insensitive): *out = 0 when absent. */
bool gpj_enum(const json_t *obj, const char *key, const char *path, const gp_enum_names *names, int *out,
              gp_error *err);

/* Optional object member whose values are all strings (nodeLabels, tags). */
bool gpj_string_map(const json_t *obj, const char *key, const char *path, size_t max_entries, size_t max_key,
                    size_t max_value, const json_t **out, gp_error *err);

/* Records InvalidParameter for every member of obj not in allowed (NULL-terminated). */
/* hint (may be NULL) is appended to the message. */
bool gpj_only_known(const json_t *obj, const char *path, const char *const *allowed, const char *hint, gp_error *err);

/* Property names match case-insensitively, as in AKS (Go's encoding/json): obj with every member
 * whose name matches one of names or also (NULL-terminated lists; also may be NULL) in any case
 * renamed to that spelling, so that the parser reads canonical names and unknown members keep
 * theirs. Shares obj when nothing needs renaming (the usual case). Two members naming the same
 * property ("gpuProfile" and "GPUProfile") are an InvalidParameter at path: NULL. NULL with
 * err->oom when memory runs out. */
json_t *gpj_canonical(const json_t *obj, const char *path, const char *const *names, const char *const *also,
                      gp_error *err);

/* Copy of obj without the listed members (NULL-terminated); NULL on OOM. */
json_t *gpj_copy_without(const json_t *obj, const char *const *skip);

/* Another reference to an immutable JSON value (NULL stays NULL): parsed input is never modified,
 * so pools, requests and views share sub-values instead of deep-copying them. */
static inline json_t *gpj_share(const json_t *v) { return json_incref((json_t *)v); }

/* Sets o[k] to the string v; nothing when v is NULL. 0 or -1 (jansson's convention). */
int gpj_set_str(json_t *o, const char *k, const char *v);

/* Adds to dst every member of extra that dst does not have yet (sharing the values). */
int gpj_merge_missing(json_t *dst, const json_t *extra);

/* strdup that treats NULL as NULL. */
char *gpj_strdup(const char *s);
/* *dst = a copy of src (nothing when src is NULL); false with err->oom set when the copy fails. */
bool gpj_dup_into(char **dst, const char *src, gp_error *err);

/* Case-insensitive equality of two possibly-NULL strings. */
bool gpj_streq_ci(const char *a, const char *b);

/* Name of a JSON type for messages ("a number"). */
const char *gpj_type_name(const json_t *v);

#endif
