/* args.h - az-style argument parsing for the gpupool CLI: long and short flags, aliases,
 * --flag=value, multi-value flags (--labels a=1 b=2), optional booleans (--enable-managed-gpu[=false]),
 * the global options every command accepts, and per-command --help. */
#ifndef GPUPOOL_CLI_ARGS_H
#define GPUPOOL_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  OPT_FLAG,    /* --no-wait */
  OPT_VALUE,   /* --name X, --name=X */
  OPT_MULTI,   /* --labels a=1 b=2 (values until the next option) */
  OPT_OPT_BOOL /* --enable-managed-gpu, --enable-managed-gpu=false */
} cli_opt_kind;

typedef struct {
  const char *name;  /* long name without dashes */
  char short_name;   /* 0 = none */
  const char *alias; /* another long name, or NULL */
  cli_opt_kind kind;
  const char *metavar;
  const char *help;
} cli_opt;

#define CLI_MAX_VALUES 64

typedef struct {
  bool set;
  const char *value;                  /* OPT_VALUE, OPT_OPT_BOOL ("true" when bare) */
  const char *values[CLI_MAX_VALUES]; /* OPT_MULTI */
  size_t count;
} cli_val;

/* Global options, shared by every command; index into cli_args.global. */
enum { G_ENDPOINT, G_SUBSCRIPTION, G_TOKEN, G_CACERT, G_OUTPUT, G_DEBUG, G_HELP, G_COUNT };

typedef struct {
  const char *command; /* "nodepool add" */
  const cli_opt *opts; /* the command's own options */
  size_t nopts;
  cli_val *vals; /* one per command option */
  cli_val global[G_COUNT];
  /* effective globals (flags, then environment, then defaults) */
  const char *endpoint, *subscription, *token, *cacert, *output;
  bool debug;
} cli_args;

/* Parses argv (after the command words). Returns -1 to go on; otherwise the exit status
 * (0 after printing --help, 2 after a usage error with a --help hint). */
int cli_parse(cli_args *a, const char *command, const char *summary, const cli_opt *opts, size_t nopts, cli_val *vals,
              int argc, char **argv);

/* Parses with the options `which` (indexes into master, which has nall entries); each value lands
 * at its master index in out. Same return convention as cli_parse. */
int cli_parse_subset(cli_args *a, const char *command, const char *summary, const cli_opt *master, size_t nall,
                     const int *which, size_t n, cli_val *out, int argc, char **argv);

/* Usage error (returns 2) for the first option of req not given; -1 when all are there. */
int cli_require(const char *command, const cli_opt *master, const cli_val *v, const int *req, size_t n);

/* A subcommand of a command group ("nodepool add"). */
typedef struct {
  const char *name;
  const char *help;
  int (*run)(int argc, char **argv);
} cli_sub;

/* Runs argv[0]'s subcommand of group, or prints the group's help (exit 0 with --help, 2 without
 * a subcommand or with an unknown one). */
int cli_dispatch(const char *group, const char *summary, const cli_sub *subs, size_t n, int argc, char **argv);

/* Prints "gpupool CMD: MESSAGE" and the --help hint to stderr; returns 2. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses an enum option case-insensitively into *out; on a bad value prints the valid values and
 * returns false. */
bool cli_enum(const char *command, const char *flag, const char *value, const char *const *valid, size_t nvalid,
              const char **out);

#endif
