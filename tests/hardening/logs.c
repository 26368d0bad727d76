/* logs.c - issue 16 item 7: what a client sends cannot forge, hide or leak log lines.
 * A request target with ESC, BEL and CR bytes is logged with those bytes escaped (\xNN), never
 * raw; in JSON format a target with invalid UTF-8 still gets its line, and every line is JSON; a
 * token in the query (access_token=, token=, sig=...) or in a URL's user info is logged as
 * REDACTED, never as itself.
 * Usage: hardening-logs --server BUILD/gpupoold */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlib.h"
#include "testutil.h"

#define SECRET "s3cr3t-V4LU3"

static void send_raw(const gpt_server *s, const char *raw, size_t len) {
  hl_reply r;
  if (!hl_exchange(NULL, s->port, raw, len, 2000, &r))
    gpt_fail("cannot connect");
  else if (hl_status_lines(&r, NULL) != 1)
    gpt_fail("no answer to %.60s", raw);
  hl_reply_free(&r);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  *len = 0;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (n >= 0 && (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
    buf[n] = '\0';
    *len = (size_t)n;
  }
  fclose(f);
  return buf;
}

static void requests(const gpt_server *s) {
  static const char esc[] = "GET /marker-esc/\x1b[2J\x1b[31mred\x07\rFAKE-LINE HTTP/1.1\r\nHost: x\r\n\r\n";
  send_raw(s, esc, sizeof esc - 1);
  static const char utf[] = "GET /marker-utf8/\xff\xfe\xc3 HTTP/1.1\r\nHost: x\r\n\r\n";
  send_raw(s, utf, sizeof utf - 1);
  static const char tok[] = "GET /healthz?access_token=" SECRET "&api-version=1&X-Token=" SECRET "&sig=" SECRET
                            "&%61ccess_token=" SECRET "&$skiptoken=kept HTTP/1.1\r\nHost: x\r\n\r\n";
  send_raw(s, tok, sizeof tok - 1);
  static const char userinfo[] = "GET http://user:" SECRET "@example.com/healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  send_raw(s, userinfo, sizeof userinfo - 1);
}

/* The log of s: no raw control byte but newlines, no secret; what each case must show. */
static void check_log(const gpt_server *s, bool json) {
  size_t len;
  char *log = slurp(s->log, &len);
  if (!log) {
    gpt_fail("cannot read the log");
    return;
  }
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)log[i] < 0x20 && log[i] != '\n') || (unsigned char)log[i] == 0x7f) {
      gpt_fail("%s log: a raw control byte 0x%02x: %.80s", json ? "JSON" : "text", (unsigned char)log[i],
               log + (i > 40 ? i - 40 : 0));
      break;
    }
  if (strstr(log, SECRET)) gpt_fail("%s log: the secret is in it", json ? "JSON" : "text");
  const char *esc_shown = json ? "/marker-esc/\\\\x1b[2J\\\\x1b[31mred\\\\x07\\\\x0dFAKE-LINE"
                               : "/marker-esc/\\x1b[2J\\x1b[31mred\\x07\\x0dFAKE-LINE";
  if (!strstr(log, esc_shown))
    gpt_fail("%s log: the escaped target (%s) is not there", json ? "JSON" : "text", esc_shown);
  if (!strstr(log, json ? "/marker-utf8/\\\\xff\\\\xfe\\\\xc3" : "/marker-utf8/\\xff\\xfe\\xc3"))
    gpt_fail("%s log: no line for the target with invalid UTF-8", json ? "JSON" : "text");
  if (!strstr(
          log,
          "access_token=REDACTED&api-version=1&X-Token=REDACTED&sig=REDACTED&%61ccess_token=REDACTED&$skiptoken=kept"))
    gpt_fail("%s log: the query's credentials are not REDACTED (or more was)", json ? "JSON" : "text");
  if (!strstr(log, "http://REDACTED@example.com/healthz"))
    gpt_fail("%s log: the user info is not REDACTED", json ? "JSON" : "text");
  if (json) { /* every line is a JSON object */
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
      json_t *v = json_loads(line, 0, NULL);
      if (!json_is_object(v)) gpt_fail("JSON log: a line is not a JSON object: %.200s", line);
      json_decref(v);
    }
  }
  free(log);
}

static void run(const char *bin, bool json) {
  gpt_server s;
  const char *args[] = {"--log-format", "json", NULL};
  if (!gpt_dir_make(&s) || !gpt_server_start(&s, bin, json ? args : NULL)) {
    gpt_fail("gpupoold did not start");
    return;
  }
  requests(&s);
  if (gpt_server_stop(&s) != 0) gpt_fail("gpupoold did not exit cleanly");
  check_log(&s, json);
  if (gpt_failures) gpt_server_log_tail(&s, 10);
  gpt_dir_remove(&s);
}

int main(int argc, char **argv) {
  gpt_test_name = "hardening-logs";
  const char *bin = hl_setup(&argc, argv);
  run(bin, false);
  run(bin, true);
  return hl_result();
}
