/* io.c - reading bounded JSON input and printing JSON for the gpupool CLI. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gpupool/body.h"

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
  bool failed = ferror(f);
  if (f != stdin) fclose(f);
  if (failed) {
    free(buf);
    fprintf(stderr, "gpupool: cannot read '%s'\n", path);
    *usage = true;
    return NULL;
  }
  gp_error e;
  gp_error_init(&e);
  json_t *v = gp_body_parse(buf, len, &e);
  free(buf);
  if (!v) *err_body = gp_error_to_json(&e);
  gp_error_clear(&e);
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
