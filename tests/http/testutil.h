/* testutil.h - what the HTTP test programs share beyond the harness and the client: failures counted
 * and reported, clocks, a request to a test server by path, waiting for provisioning to end, and
 * replicas on one store. */
#ifndef GPT_TESTUTIL_H
#define GPT_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "harness.h"

/* Failures so far; gpt_fail prints "FAIL <name>: …" (gpt_test_name, set by each program). */
extern int gpt_failures;
extern const char *gpt_test_name;
void gpt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void gpt_sleep_ms(long ms);
int64_t gpt_now_ms(void); /* monotonic */

/* One request to s: path is appended to its base URL unless it is a full URL; body is JSON or NULL;
 * extra is one more header line or NULL. Returns the status (0 when the server did not answer). */
long gpt_call(const gpt_server *s, const char *method, const char *path, const char *body, const char *extra,
              gpt_response *r);
/* properties.provisioningState of a resource body, or NULL. */
const char *gpt_state_of(const json_t *v);
/* Polls GET path on s until its provisioningState is state; false after timeout_ms. */
bool gpt_wait_state(const gpt_server *s, const char *path, const char *state, int64_t timeout_ms);
/* Polls /metrics on s until no operation is InProgress; false after timeout_ms. */
bool gpt_wait_idle(const gpt_server *s, int64_t timeout_ms);

/* An acknowledged create or update is there: GET path on s answers 200 with that ETag header and
 * provisioningState Succeeded. When it is not and report is true, says so (gpt_fail). */
bool gpt_acked_there(const gpt_server *s, const char *path, const char *etag, bool report);

/* n replicas of bin on one fresh store (the first one's), each with args. */
bool gpt_replicas_start(gpt_server *rep, int n, const char *bin, const char *const *args);
/* Stops the replicas still running (each must exit 0), shows their logs after a failure, removes
 * their directories and store, prints "NAME: ok" when nothing failed; the exit status for main. */
int gpt_replicas_finish(gpt_server *rep, int n);

#endif
