/* args.c - the command table's driver: argument parsing, help, saved defaults, required options and
 * delete confirmations (see args.h). */
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "defaults.h"
#include "gpupool/version.h"

static const char *const output_formats[] = {NULL, "json", "table", "yaml", "tsv", "none"};
static const gp_enum_names output_names = {output_formats, 6};

const cli_opt cli_global_opts[G_COUNT] = {
    [G_ENDPOINT] = {"endpoint", 0, NULL, OPT_VALUE, "URL",
                    "gpupoold base URL (env GPUPOOL_ENDPOINT; default http://127.0.0.1:8080)", "endpoint",
                    COMPLETE_NONE, NULL},
    [G_SUBSCRIPTION] = {"subscription", 0, NULL, OPT_VALUE, "ID",
                        "subscription id (env GPUPOOL_SUBSCRIPTION; default 00000000-0000-0000-0000-000000000000)",
                        "subscription", COMPLETE_NONE, NULL},
    [G_TOKEN] = {"token", 0, NULL, OPT_VALUE, "T", "bearer token (env GPUPOOL_TOKEN)", NULL, COMPLETE_NONE, NULL},
    [G_CACERT] = {"cacert", 0, NULL, OPT_VALUE, "FILE",
                  "CA certificates (PEM) to trust for an https endpoint (env GPUPOOL_CACERT)", NULL, COMPLETE_FILE,
                  NULL},
    [G_OUTPUT] = {"output", 'o', NULL, OPT_VALUE, "FORMAT", "output format: json (default), table, yaml, tsv, none",
                  "output", COMPLETE_CHOICES, &output_names},
    [G_DEBUG] = {"debug", 0, NULL, OPT_FLAG, NULL, "print HTTP requests and responses on stderr", NULL, COMPLETE_NONE,
                 NULL},
    [G_HELP] = {"help", 'h', NULL, OPT_FLAG, NULL, "show this help", NULL, COMPLETE_NONE, NULL},
    [G_YES] = {"yes", 'y', NULL, OPT_FLAG, NULL, "do not prompt for confirmation", NULL, COMPLETE_NONE, NULL},
};

bool cli_global_applies(const cli_command *cmd, int g) {
  if (g == G_YES) return (cmd->flags & CLI_CONFIRM) != 0;
  if (cmd->flags & CLI_OFFLINE) return g == G_OUTPUT || g == G_HELP;
  return true;
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "gpupool %s: ", command);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'gpupool %s --help'.\n", command);
  return 2;
}

bool cli_enum(const char *command, const char *flag, const char *value, const char *const *valid, size_t nvalid,
              const char **out) {
  for (size_t i = 0; i < nvalid; i++)
    if (strcasecmp(value, valid[i]) == 0) {
      *out = valid[i];
      return true;
    }
  fprintf(stderr, "gpupool %s: '%s' is not a valid value for --%s. Allowed values: ", command, value, flag);
  for (size_t i = 0; i < nvalid; i++)
    fprintf(stderr, "%s%s", i ? ", " : "", valid[i]);
  fprintf(stderr, ".\nTry 'gpupool %s --help'.\n", command);
  return false;
}

/* ---- help ------------------------------------------------------------------------------------ */

static bool listed(const int *list, int i) {
  for (size_t k = 0; list && list[k] != CLI_END; k++)
    if (list[k] == i) return true;
  return false;
}

static void print_opt(FILE *f, const cli_opt *o, bool required) {
  char left[96];
  int n = o->short_name ? snprintf(left, sizeof left, "-%c, ", o->short_name) : snprintf(left, sizeof left, "    ");
  n += snprintf(left + n, sizeof left - n, "--%s", o->name);
  if (o->kind == OPT_VALUE)
    snprintf(left + n, sizeof left - n, " %s", o->metavar ? o->metavar : "VALUE");
  else if (o->kind == OPT_MULTI)
    snprintf(left + n, sizeof left - n, " %s ...", o->metavar ? o->metavar : "VALUE");
  else if (o->kind == OPT_OPT_BOOL)
    snprintf(left + n, sizeof left - n, "[=true|false]");
  fprintf(f, "  %-34s %s", left, o->help);
  if (o->alias) fprintf(f, " (alias --%s)", o->alias);
  if (required && o->defaults_key)
    fprintf(f, " (required unless set by 'gpupool configure --defaults %s=...')", o->defaults_key);
  else if (required)
    fprintf(f, " (required)");
  fputc('\n', f);
}

static void command_name(char *out, size_t size, const cli_group *g, const cli_command *c) {
  snprintf(out, size, "%s%s%s", g->name, c->name ? " " : "", c->name ? c->name : "");
}

static void print_globals(FILE *f, const cli_command *c) {
  fprintf(f, "\nGlobal options:\n");
  for (int i = 0; i < G_COUNT; i++)
    if (i != G_YES && (!c || cli_global_applies(c, i))) print_opt(f, &cli_global_opts[i], false);
}

static void print_command_body(FILE *f, const cli_group *g, const cli_command *c) {
  char name[64];
  command_name(name, sizeof name, g, c);
  fprintf(f, "Usage: gpupool %s [options]\n\n%s\n", name, c->summary);
  bool any = c->opts && c->opts[0] != CLI_END;
  if (any || (c->flags & CLI_CONFIRM)) {
    fprintf(f, "\nOptions:\n");
    for (size_t k = 0; c->opts && c->opts[k] != CLI_END; k++)
      print_opt(f, &g->opts[c->opts[k]], listed(c->required, c->opts[k]));
    if (c->flags & CLI_CONFIRM) print_opt(f, &cli_global_opts[G_YES], false);
  }
  if (c->epilog) fprintf(f, "\n%s", c->epilog);
}

void cli_print_command_help(FILE *f, const cli_group *g, const cli_command *c) {
  print_command_body(f, g, c);
  print_globals(f, c);
}

static bool is_leaf(const cli_group *g) { return g->ncommands == 1 && g->commands[0].name == NULL; }

void cli_print_group_help(FILE *f, const cli_group *g) {
  fprintf(f, "Usage: gpupool %s <command> [options]\n\n%s\n\nCommands:\n", g->name, g->summary);
  for (size_t i = 0; i < g->ncommands; i++)
    if (!(g->commands[i].flags & CLI_HIDDEN)) fprintf(f, "  %-12s %s\n", g->commands[i].name, g->commands[i].help);
  fprintf(f, "\nRun 'gpupool %s <command> --help' for its options.\n", g->name);
}

static bool group_online(const cli_group *g) {
  for (size_t i = 0; i < g->ncommands; i++)
    if (!(g->commands[i].flags & CLI_OFFLINE)) return true;
  return false;
}

static void print_usage(FILE *f) {
  fprintf(f, "Usage: gpupool <command> [options]\n\n"
             "Managed GPU node pools for Kubernetes, AKS-style: az-like commands against gpupoold, and offline\n"
             "commands that need no server.\n");
  for (int online = 1; online >= 0; online--) {
    fprintf(f, "\n%s\n", online ? "Commands against gpupoold:" : "Commands that need no server:");
    for (size_t i = 0; i < cli_ngroups; i++) {
      const cli_group *g = cli_groups[i];
      if (group_online(g) != online) continue;
      char line[256];
      int n = snprintf(line, sizeof line, "%s", g->help);
      for (size_t k = 0; !is_leaf(g) && k < g->ncommands && n < (int)sizeof line; k++)
        if (!(g->commands[k].flags & CLI_HIDDEN))
          n += snprintf(line + n, sizeof line - n, "%s%s", k ? ", " : ": ", g->commands[k].name);
      fprintf(f, "  %-20s %s", g->name, line);
      if (g->alias) fprintf(f, " (alias: %s)", g->alias);
      fputc('\n', f);
    }
  }
  fprintf(f, "\nGlobal options (every command that talks to gpupoold; offline commands take -o and --help):\n");
  for (int i = 0; i < G_COUNT; i++)
    if (i != G_YES) print_opt(f, &cli_global_opts[i], false);
  fprintf(f, "\n"
             "Saved defaults for -g, --cluster-name, -l, -o, --endpoint and --subscription: 'gpupool configure'.\n"
             "Run 'gpupool <command> --help' for a command's options, 'gpupool --help-all' for all of them.\n"
             "Exit status: 0 success, 1 refused or failed (the error on stderr), 2 usage error.\n");
}

/* Every command's help, one after the other: what the man page is made of (help2man makes each
 * "gpupool COMMAND [options]:" line a subsection). */
static void print_help_all(FILE *f) {
  print_usage(f);
  for (size_t i = 0; i < cli_ngroups; i++) {
    const cli_group *g = cli_groups[i];
    for (size_t k = 0; k < g->ncommands; k++) {
      const cli_command *c = &g->commands[k];
      char name[64];
      if (c->flags & CLI_HIDDEN) continue;
      command_name(name, sizeof name, g, c);
      fprintf(f, "\ngpupool %s [options]:\n  %s\n\n", name, c->summary);
      for (size_t o = 0; c->opts && c->opts[o] != CLI_END; o++)
        print_opt(f, &g->opts[c->opts[o]], listed(c->required, c->opts[o]));
      if (c->flags & CLI_CONFIRM) print_opt(f, &cli_global_opts[G_YES], false);
      if (c->epilog) fprintf(f, "%s", c->epilog);
    }
  }
}

/* ---- parsing --------------------------------------------------------------------------------- */

static bool is_option(const char *s) {
  if (s[0] != '-' || s[1] == '\0') return false;
  if (s[1] >= '0' && s[1] <= '9') return false; /* a negative number is a value */
  return true;
}

static bool matches(const cli_opt *o, const char *name, size_t len, char short_name) {
  if (short_name) return o->short_name == short_name;
  if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return true;
  return o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0;
}

/* An option this command does not take; when another command of the group takes it, say which (on
 * `update`, options of `add` are the settings fixed when a pool or cluster is created). */
static int unknown_option(const cli_args *a, const char *arg, const char *name, size_t len, char short_name) {
  const cli_group *g = a->group;
  for (size_t i = 0; i < g->ncommands; i++) {
    const cli_command *other = &g->commands[i];
    if (other == a->cmd || !other->name || !other->opts) continue;
    for (size_t k = 0; other->opts[k] != CLI_END; k++)
      if (matches(&g->opts[other->opts[k]], name, len, short_name)) {
        bool fixed = a->cmd->name && strcmp(a->cmd->name, "update") == 0 &&
                     (strcmp(other->name, "add") == 0 || strcmp(other->name, "create") == 0);
        return cli_usage_error(a->command, "unknown option '%s': it is an option of 'gpupool %s %s'%s", arg, g->name,
                               other->name,
                               fixed ? ", a setting fixed when it is created (it cannot change; create another "
                                       "with that command)"
                                     : "");
      }
  }
  return cli_usage_error(a->command, "unknown option '%s'", arg);
}

static int parse(cli_args *a, int argc, char **argv) {
  const cli_group *g = a->group;
  const cli_command *c = a->cmd;
  const char *command = a->command;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    if (!is_option(arg)) return cli_usage_error(command, "unexpected argument '%s'", arg);
    const char *name, *eq = NULL;
    size_t len;
    char short_name = 0;
    if (arg[1] == '-') {
      name = arg + 2;
      eq = strchr(name, '=');
      len = eq ? (size_t)(eq - name) : strlen(name);
    } else {
      if (arg[2] != '\0') return cli_usage_error(command, "unknown option '%s'", arg);
      short_name = arg[1];
      name = arg + 1;
      len = 1;
    }
    const cli_opt *o = NULL;
    cli_val *v = NULL;
    for (size_t k = 0; !o && c->opts && c->opts[k] != CLI_END; k++)
      if (matches(&g->opts[c->opts[k]], name, len, short_name)) {
        o = &g->opts[c->opts[k]];
        v = &a->v[c->opts[k]];
      }
    for (int k = 0; !o && k < G_COUNT; k++)
      if (cli_global_applies(c, k) && matches(&cli_global_opts[k], name, len, short_name)) {
        o = &cli_global_opts[k];
        v = &a->global[k];
      }
    if (!o) return unknown_option(a, arg, name, len, short_name);
    if (v->set && o->kind != OPT_MULTI) return cli_usage_error(command, "option '--%s' is given twice", o->name);
    v->set = true;
    switch (o->kind) {
    case OPT_FLAG:
      if (eq) return cli_usage_error(command, "option '--%s' takes no value", o->name);
      break;
    case OPT_OPT_BOOL:
      v->value = eq ? eq + 1 : "true";
      if (strcasecmp(v->value, "true") && strcasecmp(v->value, "false"))
        return cli_usage_error(command, "option '--%s' takes true or false, not '%s'", o->name, v->value);
      break;
    case OPT_VALUE:
      if (eq)
        v->value = eq + 1;
      else if (i + 1 < argc && !is_option(argv[i + 1]))
        v->value = argv[++i];
      else
        return cli_usage_error(command, "option '--%s' needs a value", o->name);
      break;
    case OPT_MULTI:
      if (eq && v->count < CLI_MAX_VALUES) v->values[v->count++] = eq + 1;
      while (i + 1 < argc && !is_option(argv[i + 1])) {
        if (v->count >= CLI_MAX_VALUES) return cli_usage_error(command, "too many values for '--%s'", o->name);
        v->values[v->count++] = argv[++i];
      }
      if (v->count == 0) return cli_usage_error(command, "option '--%s' needs at least one value", o->name);
      break;
    }
  }
  return -1;
}

/* flag, then environment, then saved default, then built-in */
static const char *effective(const cli_args *a, int g, const char *env_name, const char *builtin) {
  const char *env;
  if (a->global[g].set) return a->global[g].value;
  if (env_name && (env = getenv(env_name)) && *env) return env;
  if (cli_global_opts[g].defaults_key && (env = cli_default(cli_global_opts[g].defaults_key))) return env;
  return builtin;
}

static int finish(cli_args *a) {
  const cli_command *c = a->cmd;
  a->endpoint = effective(a, G_ENDPOINT, "GPUPOOL_ENDPOINT", "http://127.0.0.1:8080");
  a->subscription = effective(a, G_SUBSCRIPTION, "GPUPOOL_SUBSCRIPTION", "00000000-0000-0000-0000-000000000000");
  a->token = effective(a, G_TOKEN, "GPUPOOL_TOKEN", NULL);
  a->cacert = effective(a, G_CACERT, "GPUPOOL_CACERT", NULL);
  a->debug = a->global[G_DEBUG].set;
  a->yes = a->global[G_YES].set;
  const char *out = effective(a, G_OUTPUT, NULL, "json");
  if (!cli_enum(a->command, "output", out, output_formats + 1, 5, &a->output)) return 2;
  /* saved defaults fill the options that have none on the command line */
  for (size_t k = 0; c->opts && c->opts[k] != CLI_END; k++) {
    const cli_opt *o = &a->group->opts[c->opts[k]];
    cli_val *v = &a->v[c->opts[k]];
    const char *d;
    if (!v->set && o->defaults_key && o->kind == OPT_VALUE && (d = cli_default(o->defaults_key))) {
      v->set = v->from_defaults = true;
      v->value = d;
      if (a->debug) fprintf(stderr, "gpupool: --%s %s (saved default)\n", o->name, d);
    }
  }
  for (size_t k = 0; c->required && c->required[k] != CLI_END; k++)
    if (!a->v[c->required[k]].set) {
      const cli_opt *o = &a->group->opts[c->required[k]];
      if (o->defaults_key)
        return cli_usage_error(a->command, "--%s is required (or save a default: gpupool configure --defaults %s=...)",
                               o->name, o->defaults_key);
      return cli_usage_error(a->command, "--%s is required", o->name);
    }
  return -1;
}

static int run_command(const cli_group *g, const cli_command *c, int argc, char **argv) {
  cli_val vals[CLI_MAX_OPTS];
  cli_args a;
  if (g->nopts > CLI_MAX_OPTS) { /* a table larger than the parser's room: a bug, said plainly */
    fprintf(stderr, "gpupool %s: %zu options, more than %d\n", g->name, g->nopts, CLI_MAX_OPTS);
    return 1;
  }
  memset(&a, 0, sizeof a);
  memset(vals, 0, sizeof vals);
  a.group = g;
  a.cmd = c;
  a.v = vals;
  command_name(a.command, sizeof a.command, g, c);
  int rc = parse(&a, argc, argv);
  if (rc >= 0) return rc;
  if (a.global[G_HELP].set) {
    cli_print_command_help(stdout, g, c);
    return 0;
  }
  if ((rc = finish(&a)) >= 0) return rc;
  return c->run(&a);
}

static const cli_group *find_group(const char *name) {
  for (size_t i = 0; i < cli_ngroups; i++)
    if (strcmp(cli_groups[i]->name, name) == 0 || (cli_groups[i]->alias && strcmp(cli_groups[i]->alias, name) == 0))
      return cli_groups[i];
  return NULL;
}

static bool is_help(const char *s) { return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0; }

int cli_main(int argc, char **argv) {
  if (argc < 1) {
    print_usage(stderr);
    return 2;
  }
  if (is_help(argv[0]) || strcmp(argv[0], "help") == 0) {
    print_usage(stdout);
    return 0;
  }
  if (strcmp(argv[0], "--help-all") == 0) {
    print_help_all(stdout);
    return 0;
  }
  if (strcmp(argv[0], "--version") == 0) {
    printf("gpupool %s\n", gp_version());
    return 0;
  }
  const cli_group *g = find_group(argv[0]);
  if (!g) {
    fprintf(stderr, "gpupool: unknown command '%s'\nTry 'gpupool --help'.\n", argv[0]);
    return 2;
  }
  if (is_leaf(g)) return run_command(g, &g->commands[0], argc - 1, argv + 1);
  if (argc < 2 || is_help(argv[1])) {
    cli_print_group_help(argc < 2 ? stderr : stdout, g);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < g->ncommands; i++)
    if (strcmp(argv[1], g->commands[i].name) == 0) return run_command(g, &g->commands[i], argc - 2, argv + 2);
  fprintf(stderr, "gpupool %s: unknown command '%s'\nTry 'gpupool %s --help'.\n", g->name, argv[1], g->name);
  return 2;
}

/* ---- confirmation ---------------------------------------------------------------------------- */

bool cli_confirm(const cli_args *a, const char *what, int *status) {
  *status = 0;
  if (a->yes) return true;
  if (!isatty(STDIN_FILENO)) {
    fprintf(stderr,
            "gpupool %s: will not %s without confirmation, and stdin is not a terminal to ask on.\n"
            "Add --yes (-y) to do it without a prompt.\n",
            a->command, what);
    *status = 2;
    return false;
  }
  fprintf(stderr, "This will %s.\nAre you sure you want to perform this operation? (y/N): ", what);
  fflush(stderr);
  char line[32];
  if (!fgets(line, sizeof line, stdin)) line[0] = '\0';
  if (strcasecmp(line, "y\n") == 0 || strcasecmp(line, "yes\n") == 0 || strcasecmp(line, "y") == 0) return true;
  fprintf(stderr, "Cancelled: nothing was changed.\n");
  return false;
}
