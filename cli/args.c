/* args.c - az-style argument parsing (see args.h). */
#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const cli_opt globals[G_COUNT] = {
    {"endpoint", 0, NULL, OPT_VALUE, "URL", "gpupoold base URL (env GPUPOOL_ENDPOINT; default http://127.0.0.1:8080)"},
    {"subscription", 0, NULL, OPT_VALUE, "ID",
     "subscription id (env GPUPOOL_SUBSCRIPTION; default 00000000-0000-0000-0000-000000000000)"},
    {"token", 0, NULL, OPT_VALUE, "T", "bearer token (env GPUPOOL_TOKEN)"},
    {"cacert", 0, NULL, OPT_VALUE, "FILE", "CA certificates (PEM) to trust for an https endpoint (env GPUPOOL_CACERT)"},
    {"output", 'o', NULL, OPT_VALUE, "FORMAT", "output format: json (default), table, yaml, tsv"},
    {"debug", 0, NULL, OPT_FLAG, NULL, "print HTTP requests and responses on stderr"},
    {"help", 'h', NULL, OPT_FLAG, NULL, "show this help"},
};

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

static void print_opt(const cli_opt *o) {
  char left[96];
  int n = 0;
  if (o->short_name)
    n = snprintf(left, sizeof left, "-%c, ", o->short_name);
  else
    n = snprintf(left, sizeof left, "    ");
  n += snprintf(left + n, sizeof left - n, "--%s", o->name);
  if (o->kind == OPT_VALUE)
    snprintf(left + n, sizeof left - n, " %s", o->metavar ? o->metavar : "VALUE");
  else if (o->kind == OPT_MULTI)
    snprintf(left + n, sizeof left - n, " %s ...", o->metavar ? o->metavar : "VALUE");
  else if (o->kind == OPT_OPT_BOOL)
    snprintf(left + n, sizeof left - n, "[=true|false]");
  printf("  %-34s %s", left, o->help);
  if (o->alias) printf(" (alias --%s)", o->alias);
  putchar('\n');
}

static void print_help(const char *command, const char *summary, const cli_opt *opts, size_t nopts) {
  printf("Usage: gpupool %s [options]\n\n%s\n\nOptions:\n", command, summary);
  for (size_t i = 0; i < nopts; i++)
    print_opt(&opts[i]);
  printf("\nGlobal options:\n");
  for (size_t i = 0; i < G_COUNT; i++)
    print_opt(&globals[i]);
}

/* Finds an option by long name/alias or short letter; *global says which table. */
static int find(const cli_opt *opts, size_t n, const char *name, size_t len, char short_name) {
  for (size_t i = 0; i < n; i++) {
    if (short_name) {
      if (opts[i].short_name == short_name) return (int)i;
      continue;
    }
    if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return (int)i;
    if (opts[i].alias && strlen(opts[i].alias) == len && strncmp(opts[i].alias, name, len) == 0) return (int)i;
  }
  return -1;
}

static bool is_option(const char *s) {
  if (s[0] != '-' || s[1] == '\0') return false;
  if (s[1] >= '0' && s[1] <= '9') return false; /* a negative number is a value */
  return true;
}

int cli_parse(cli_args *a, const char *command, const char *summary, const cli_opt *opts, size_t nopts, cli_val *vals,
              int argc, char **argv) {
  memset(a, 0, sizeof *a);
  memset(vals, 0, nopts * sizeof *vals);
  a->command = command;
  a->opts = opts;
  a->nopts = nopts;
  a->vals = vals;
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
    const cli_opt *o;
    cli_val *v;
    int k = find(opts, nopts, name, len, short_name);
    if (k >= 0) {
      o = &opts[k];
      v = &vals[k];
    } else if ((k = find(globals, G_COUNT, name, len, short_name)) >= 0) {
      o = &globals[k];
      v = &a->global[k];
    } else {
      return cli_usage_error(command, "unknown option '%s'", arg);
    }
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
      else if (i + 1 < argc && (!is_option(argv[i + 1])))
        v->value = argv[++i];
      else
        return cli_usage_error(command, "option '--%s' needs a value", o->name);
      break;
    case OPT_MULTI:
      if (eq) {
        if (v->count < CLI_MAX_VALUES) v->values[v->count++] = eq + 1;
      }
      while (i + 1 < argc && !is_option(argv[i + 1])) {
        if (v->count >= CLI_MAX_VALUES) return cli_usage_error(command, "too many values for '--%s'", o->name);
        v->values[v->count++] = argv[++i];
      }
      if (v->count == 0) return cli_usage_error(command, "option '--%s' needs at least one value", o->name);
      break;
    }
  }
  if (a->global[G_HELP].set) {
    print_help(command, summary, opts, nopts);
    return 0;
  }
  const char *env;
  a->endpoint = a->global[G_ENDPOINT].set                    ? a->global[G_ENDPOINT].value
                : (env = getenv("GPUPOOL_ENDPOINT")) && *env ? env
                                                             : "http://127.0.0.1:8080";
  a->subscription = a->global[G_SUBSCRIPTION].set                    ? a->global[G_SUBSCRIPTION].value
                    : (env = getenv("GPUPOOL_SUBSCRIPTION")) && *env ? env
                                                                     : "00000000-0000-0000-0000-000000000000";
  a->token = a->global[G_TOKEN].set ? a->global[G_TOKEN].value : ((env = getenv("GPUPOOL_TOKEN")) && *env ? env : NULL);
  a->cacert =
      a->global[G_CACERT].set ? a->global[G_CACERT].value : ((env = getenv("GPUPOOL_CACERT")) && *env ? env : NULL);
  a->debug = a->global[G_DEBUG].set;
  a->output = "json";
  if (a->global[G_OUTPUT].set) {
    static const char *const formats[] = {"json", "table", "yaml", "tsv"};
    if (!cli_enum(command, "output", a->global[G_OUTPUT].value, formats, 4, &a->output)) return 2;
  }
  return -1;
}

int cli_parse_subset(cli_args *a, const char *command, const char *summary, const cli_opt *master, size_t nall,
                     const int *which, size_t n, cli_val *out, int argc, char **argv) {
  cli_opt opts[CLI_MAX_VALUES] = {{0}};
  cli_val vals[CLI_MAX_VALUES];
  if (n > CLI_MAX_VALUES) n = CLI_MAX_VALUES;
  for (size_t i = 0; i < n; i++)
    opts[i] = master[which[i]];
  int rc = cli_parse(a, command, summary, opts, n, vals, argc, argv);
  memset(out, 0, nall * sizeof *out);
  for (size_t i = 0; i < n; i++)
    out[which[i]] = vals[i];
  return rc;
}

int cli_require(const char *command, const cli_opt *master, const cli_val *v, const int *req, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!v[req[i]].set) return cli_usage_error(command, "--%s is required", master[req[i]].name);
  return -1;
}

int cli_dispatch(const char *group, const char *summary, const cli_sub *subs, size_t n, int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "--help") && strcmp(argv[0], "-h")) {
    for (size_t i = 0; i < n; i++)
      if (strcmp(argv[0], subs[i].name) == 0) return subs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "gpupool %s: unknown command '%s'\nTry 'gpupool %s --help'.\n", group, argv[0], group);
    return 2;
  }
  FILE *out = argc < 1 ? stderr : stdout;
  fprintf(out, "Usage: gpupool %s <command> [options]\n\n%s\n\nCommands:\n", group, summary);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "  %-12s %s\n", subs[i].name, subs[i].help);
  fprintf(out, "\nRun 'gpupool %s <command> --help' for its options.\n", group);
  return argc < 1 ? 2 : 0;
}
