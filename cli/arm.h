/* arm.h - talking ARM to gpupoold from the CLI: resource URLs, error bodies printed as
 * "(Code) Message", and long-running operations (polling Azure-AsyncOperation with a progress
 * line on a terminal, or returning at once with --no-wait). */
#ifndef GPUPOOL_CLI_ARM_H
#define GPUPOOL_CLI_ARM_H

#include <jansson.h>
#include <stdbool.h>

#include "args.h"
#include "http.h"

#define CLI_API_VERSION "2026-10-02-preview"
#define CLI_FEATURES_API_VERSION "2021-07-01"

typedef struct {
  cli_args *args;
  http_client http;
} arm_ctx;

void arm_init(arm_ctx *c, cli_args *a);

/* URL of a path under the subscription: endpoint + "/subscriptions/{sub}" + path + api-version. */
void arm_url(const arm_ctx *c, char *out, size_t size, const char *path, const char *api_version);

/* Path pieces, percent-encoded. */
void arm_cluster_path(char *out, size_t size, const char *rg, const char *cluster);
void arm_pool_path(char *out, size_t size, const char *rg, const char *cluster, const char *pool);

/* Sends a request; on a transport error prints it and returns false. Body parsed into *json when
 * the response has one (NULL otherwise). */
bool arm_call(const arm_ctx *c, const char *method, const char *url, const json_t *body, const http_conditions *cond,
              http_response *resp, json_t **json);

/* A write (PUT/DELETE/POST) end to end: send, print an error, or wait for its operation and print
 * the resource from get_url (or, with no_wait, the accepted body). Returns the exit status. */
int arm_write(const arm_ctx *c, const char *method, const char *url, const json_t *body, const http_conditions *cond,
              bool no_wait, const char *get_url, int kind);

/* A PUT that creates (If-None-Match: *): like arm_write, but an existing resource is reported as
 * "(AlreadyExists) WHAT already exists: nothing was changed. FIX" (FIX names the gpupool commands
 * that update or show it) rather than as the HTTP precondition the user never wrote. */
int arm_create(const arm_ctx *c, const char *url, const json_t *body, bool no_wait, int kind, const char *what,
               const char *fix);

/* Prints "Warning: TEXT" on stderr, once per warning per run (texts that agree up to their first
 * '.' or ';' are the same warning). */
void arm_warn(const char *text);

/* GETs one resource and prints it (or its error). Returns the exit status. */
int arm_show(const arm_ctx *c, const char *url, int kind);

/* GETs a list with all its pages and prints it (or the error). Returns the exit status. */
int arm_list(const arm_ctx *c, const char *url, int kind);

/* GETs a list and every page after it (following nextLink) into *out (a new array). */
int cli_list_all(const arm_ctx *c, const char *url, json_t **out);

/* Prints an ARM error body ({"error":{code,message,target,details}}) the same way; returns CLI_ERROR. */
int arm_print_error_body(const json_t *json);

/* Prints an ARM error response ("(Code) Message", "Target: …") to stderr; returns CLI_ERROR. */
int arm_print_error(const http_response *resp, const json_t *json);

/* Finishes a write: waits for its operation unless no_wait (printing progress on a TTY; polls after
 * 50 ms, doubling up to 5 s, never sooner than Retry-After), then
 * GETs get_url (if non-NULL) into *result. Returns CLI_OK or CLI_ERROR (error printed). */
int arm_finish(const arm_ctx *c, const http_response *resp, bool no_wait, const char *get_url, json_t **result);

#endif
