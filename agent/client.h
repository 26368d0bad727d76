/* client.h - the daemon's HTTP transfers (client.c), driven by a libcurl multi handle. */
#ifndef GPUPOOL_AGENT_CLIENT_H
#define GPUPOOL_AGENT_CLIENT_H

#include <curl/curl.h>

#include "daemon.h"

typedef struct {
  CURL *h;
  struct curl_slist *hdrs;
  char *upload;
  ag_http_response resp; /* body and ETag */
  bool active;
  char errbuf[CURL_ERROR_SIZE];
  long status;
  double started, elapsed; /* monotonic seconds */
} ag_xfer;

typedef struct {
  const char *url, *token, *cacert;
  const char *if_none_match; /* NULL: none */
  const char *body;          /* non-NULL: a PUT of this JSON */
  long timeout_s;
  bool close_after; /* close the connection after the answer instead of keeping it for the next transfer */
} ag_xfer_req;

/* Starts a transfer on the multi handle (x must not be active). false on OOM. */
bool ag_xfer_start(CURLM *multi, ag_xfer *x, const ag_xfer_req *r);
/* The next finished transfer (removed from the multi handle, status filled), NULL when none. */
ag_xfer *ag_xfer_done(CURLM *multi, CURLcode *result);
/* The response body of a finished transfer (NUL-terminated, NULL on OOM); frees the transfer. */
char *ag_xfer_take_body(ag_xfer *x);
void ag_xfer_cancel(CURLM *multi, ag_xfer *x);
/* Messages for the log. */
char *ag_xfer_error(CURLcode cc, const ag_xfer *x);
char *ag_arm_error(long status, const char *body);

#endif
