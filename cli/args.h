/* args.h - the gpupool CLI's command table and az-style argument parsing.
 *
 * Every command is a row of a table (cli_group → cli_command → the group's cli_opt): help, the
 * parser, saved defaults, delete confirmations, bash completion and the man page all read the same
 * rows, so a new command or flag is one entry and shows up everywhere. Parsing: long and short
 * flags, aliases, --flag=value, multi-value flags (--labels a=1 b=2), optional booleans
 * (--enable-managed-gpu[=false]) and the global options every command accepts. */
#ifndef GPUPOOL_CLI_ARGS_H
#define GPUPOOL_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "gpupool/enums.h"

typedef enum {
  OPT_FLAG,    /* --no-wait */
  OPT_VALUE,   /* --name X, --name=X */
  OPT_MULTI,   /* --labels a=1 b=2 (values until the next option); repeatable */
  OPT_OPT_BOOL /* --enable-managed-gpu, --enable-managed-gpu=false */
} cli_opt_kind;

/* What bash completion offers for an option's value. */
typedef enum { COMPLETE_NONE = 0, COMPLETE_FILE, COMPLETE_VM_SIZE, COMPLETE_CHOICES } cli_complete;

typedef struct {
  const char *name;  /* long name without dashes */
  char short_name;   /* 0 = none */
  const char *alias; /* another long name, or NULL */
  cli_opt_kind kind;
  const char *metavar;
  const char *help;
  const char *defaults_key;     /* `gpupool configure --defaults KEY=VALUE` fills it in; NULL: never */
  cli_complete complete;        /* completion of the value */
  const gp_enum_names *choices; /* COMPLETE_CHOICES: names[1..count-1] */
} cli_opt;

#define CLI_MAX_VALUES 64
#define CLI_MAX_OPTS 48

typedef struct {
  bool set;
  bool from_defaults;                 /* filled in from the saved defaults */
  const char *value;                  /* OPT_VALUE, OPT_OPT_BOOL ("true" when bare) */
  const char *values[CLI_MAX_VALUES]; /* OPT_MULTI */
  size_t count;
} cli_val;

/* Global options; index into cli_args.global. Offline commands take only -o and --help. */
enum { G_ENDPOINT, G_SUBSCRIPTION, G_TOKEN, G_CACERT, G_OUTPUT, G_DEBUG, G_HELP, G_YES, G_COUNT };

struct cli_group;
struct cli_command;

typedef struct {
  const struct cli_group *group;
  const struct cli_command *cmd;
  char command[64]; /* "nodepool add", for messages */
  cli_val *v;       /* one per option of the group's table, at the option's index */
  cli_val global[G_COUNT];
  /* effective globals (flags, then environment, then saved defaults, then built-in defaults) */
  const char *endpoint, *subscription, *token, *cacert, *output;
  bool debug, yes;
} cli_args;

/* Command flags. */
#define CLI_OFFLINE 1u /* no server: only -o and --help of the global options */
#define CLI_CONFIRM 2u /* destroys something: takes --yes/-y, asks on a terminal (cli_confirm) */
#define CLI_HIDDEN 4u  /* not listed in help (aliases, plumbing) */

#define CLI_END (-1)

typedef struct cli_command {
  const char *name;    /* "add"; NULL when the group is itself the command (gpupool validate) */
  const char *help;    /* one line, for the group's list */
  const char *summary; /* the paragraph of --help */
  const int *opts;     /* indexes into the group's option table, ended by CLI_END (NULL: none) */
  const int *required; /* the same, for the required ones (NULL: none) */
  unsigned flags;      /* CLI_OFFLINE, CLI_CONFIRM */
  const char *epilog;  /* printed after the options in --help (exit statuses, examples), or NULL */
  int (*run)(cli_args *a);
} cli_command;

typedef struct cli_group {
  const char *name;  /* "nodepool" */
  const char *alias; /* another name ("aks" for cluster), or NULL */
  const char *help;  /* one line, for `gpupool --help` */
  const char *summary;
  const cli_opt *opts; /* the group's option table */
  size_t nopts;
  const cli_command *commands;
  size_t ncommands;
} cli_group;

/* The table: every group, in the order `gpupool --help` lists them (commands.c). */
extern const cli_group *const cli_groups[];
extern const size_t cli_ngroups;
/* The global options, for help and completion. */
extern const cli_opt cli_global_opts[G_COUNT];

/* Whether a global option applies to a command (offline commands take only -o and --help; --yes
 * only commands that confirm). */
bool cli_global_applies(const cli_command *cmd, int g);

/* Runs argv (after "gpupool") through the table: finds the group and command, parses, fills in
 * saved defaults, checks required options, runs. Returns the exit status. */
int cli_main(int argc, char **argv);

/* Prints a command's --help to f. */
void cli_print_command_help(FILE *f, const cli_group *g, const cli_command *c);
/* Prints a group's --help (its commands) to f. */
void cli_print_group_help(FILE *f, const cli_group *g);

/* Prints "gpupool CMD: MESSAGE" and the --help hint to stderr; returns 2. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses an enum option case-insensitively into *out; on a bad value prints the valid values and
 * returns false. */
bool cli_enum(const char *command, const char *flag, const char *value, const char *const *valid, size_t nvalid,
              const char **out);

/* Before destroying something: true with --yes; on a terminal asks "what" and reads y/N from
 * stdin; in a pipe refuses (a script must say --yes). *status is the exit status when it returns
 * false: 0 when the user answered no, 2 when there was no one to ask. */
bool cli_confirm(const cli_args *a, const char *what, int *status);

#endif
