/* main.c - entry point of the gpupool command-line tool: the command table (commands.c) does the rest. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cli.h"

int main(int argc, char **argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  atexit(curl_global_cleanup);
  int rc = cli_main(argc - 1, argv + 1);
  if (fflush(stdout) != 0 && rc == CLI_OK) {
    fprintf(stderr, "gpupool: cannot write the output\n");
    rc = CLI_ERROR;
  }
  return rc;
}
