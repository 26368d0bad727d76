/* hlib.h - what the hardening tests (tests/hardening/) share beyond the HTTP harness: raw TCP
 * connections from a chosen loopback source address (so that hostile connections do not count
 * against the address the test's own client uses), raw requests and what came back, the server's
 * resident size, and the open-file limit. */
#ifndef GPT_HLIB_H
#define GPT_HLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* Raises RLIMIT_NOFILE's soft limit to the hard one; returns the soft limit now in effect. */
long hl_raise_nofile(void);

/* A TCP connection to 127.0.0.1:port from source address src (NULL: any), blocking; -1 on failure. */
int hl_connect(const char *src, int port);
/* Sends all of buf (blocking); false when the peer is gone. */
bool hl_send_all(int fd, const void *buf, size_t len);

/* What came back on a connection. */
typedef struct {
  char *data; /* NUL-terminated */
  size_t len;
  bool eof;       /* the server closed (or reset) the connection */
  bool timed_out; /* nothing more came for the quiet time */
} hl_reply;

/* Reads until the server closes, or nothing arrives for quiet_ms, or total_ms passed. */
void hl_read(int fd, int quiet_ms, int total_ms, hl_reply *out);
/* Reads one whole answer (status line, headers, Content-Length bytes of body), or until the server
 * closes or total_ms passed. */
void hl_read_answer(int fd, int total_ms, hl_reply *out);
void hl_reply_free(hl_reply *r);
/* Sends raw on a new connection from src and reads the reply (hl_read). False if it could not connect. */
bool hl_exchange(const char *src, int port, const char *raw, size_t len, int quiet_ms, hl_reply *out);
/* How many HTTP status lines ("HTTP/1.x NNN ") the reply holds, anywhere in it (pipelined
 * answers follow each other's bodies directly); the first status in *first. */
int hl_status_lines(const hl_reply *r, int *first);
/* Waits until the server closes fd (read returns 0 or an error); the milliseconds it took, or -1. */
long hl_wait_closed(int fd, int timeout_ms);

/* The resident set size of pid in KiB (VmRSS), -1 when unknown. */
long hl_rss_kb(pid_t pid);
/* A /metrics sample's value ("name{labels}" as written), -1 when absent or not answered. */
double hl_metric(const char *base_url, const char *sample, const char *auth_header);

/* Appends a tokens-file line for token (its SHA-256, through sha256sum) to path. */
bool hl_add_token(const char *path, const char *token, const char *principal, const char *role, const char *scope);
/* The first line of the file at path that contains text, copied into out; false when none does. */
bool hl_file_line(const char *path, const char *text, char *out, size_t size);

/* The test's arguments: takes --pg URL (harness.h), returns --server's value, or exits 2 with the
 * usage line of the test named gpt_test_name. Starts the HTTP client too. */
const char *hl_setup(int *argc, char **argv);
/* Stops s (it must exit 0), shows its log after a failure, removes its directory and store. */
void hl_stop(gpt_server *s);
/* "NAME: ok" when nothing failed; the exit status for main. */
int hl_result(void);
/* Runs argv (NULL-terminated) with stdout and stderr into out_path; its exit status, or -1 when
 * it ran past timeout_ms (it is killed then) or did not exit normally. */
int hl_run(const char *const *argv, const char *out_path, int timeout_ms);

#endif
