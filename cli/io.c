/* io.c - reading bounded JSON input and printing JSON for the gpupool CLI. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpupool/error.h"

json_t *cli_read_json(const char *path, json_t **err_body, bool *usage) {
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  char *buf;
  size_t len = 0;
  *err_body = NULL;
  *usage = false;
  if (!f) {
    fprintf(stderr, "gpupool: cannot read '%s': %s\n", path, strerror(errno));
    *usage = true;
    return NULL;
  }
  if (!(buf = malloc(CLI_MAX_INPUT + 1))) {
    if (f != stdin) fclose(f);
    fprintf(stderr, "gpupool: out of memory\n");
    *usage = true;
    return NULL;
  }
  len = fread(buf, 1, CLI_MAX_INPUT + 1, f);
  bool too_big = len > CLI_MAX_INPUT, failed = ferror(f);
  if (f != stdin) fclose(f);
  if (failed) {
    free(buf);
    fprintf(stderr, "gpupool: cannot read '%s'\n", path);
    *usage = true;
    return NULL;
  }
  if (too_big) {
    free(buf);
    *err_body = gp_error_body("InvalidRequestContent", NULL, "The request body is larger than 1 MiB.");
    return NULL;
  }
  json_error_t je;
  json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
  free(buf);
  if (!v) {
    char msg[400];
    snprintf(msg, sizeof msg, "The request content is not valid JSON: %s (line %d, column %d).", je.text, je.line,
             je.column);
    *err_body = gp_error_body("InvalidRequestContent", NULL, msg);
  }
  return v;
}

void cli_print_json(const json_t *v) {
  char *s = json_dumps(v, JSON_INDENT(2));
  if (!s) {
    fprintf(stderr, "gpupool: out of memory\n");
    return;
  }
  fputs(s, stdout);
  fputc('\n', stdout);
  free(s);
}
