/* cmd_tools.c - the CLI's own commands: `gpupool version`, `gpupool configure` (saved defaults)
 * and `gpupool completion bash` (the completion script, generated from the command table). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "arm.h"
#include "cli.h"
#include "commands.h"
#include "complete.h"
#include "defaults.h"
#include "gpupool/version.h"
#include "output.h"

static int version(cli_args *a) {
  json_t *v = json_pack("{s:s,s:s,s:s}", "program", "gpupool", "version", gp_version(), "apiVersion", CLI_API_VERSION);
  int rc = out_print(a->output, KIND_VERSION, v, 0);
  json_decref(v);
  return rc;
}

static const cli_command version_command[] = {
    {NULL, "print the version",
     "Prints the version of gpupool (the same for gpupoold and gpupool-agent of one build) and the api-version it "
     "speaks. 'gpupool --version' prints it as one line.",
     NULL, NULL, CLI_OFFLINE, NULL, version}};

const cli_group cli_group_version = {"version", NULL, "print the version", NULL, NULL, 0, version_command, 1};

/* ---- configure ------------------------------------------------------------------------------ */

enum { CF_DEFAULTS, CF_LIST, CF_ALL };

static const cli_opt cf_opts[CF_ALL] = {
    [CF_DEFAULTS] = {"defaults", 'd', NULL, OPT_MULTI, "KEY=VALUE",
                     "save defaults: group, cluster, location, output, endpoint, subscription (KEY= forgets one)"},
    [CF_LIST] = {"list-defaults", 'l', NULL, OPT_FLAG, NULL, "show the saved defaults"},
};

static int configure(cli_args *a) {
  const cli_val *v = a->v;
  if (!v[CF_DEFAULTS].set && !v[CF_LIST].set)
    return cli_usage_error(a->command, "give --defaults KEY=VALUE ... or --list-defaults");
  json_t *d = cli_defaults_load();
  if (!d) return CLI_ERROR;
  int rc = CLI_OK;
  if (v[CF_DEFAULTS].set) {
    for (size_t i = 0; i < v[CF_DEFAULTS].count; i++) {
      const char *kv = v[CF_DEFAULTS].values[i], *eq = strchr(kv, '=');
      size_t k = 0;
      while (cli_default_keys[k] && !(eq && strlen(cli_default_keys[k]) == (size_t)(eq - kv) &&
                                      strncasecmp(cli_default_keys[k], kv, (size_t)(eq - kv)) == 0))
        k++;
      if (!eq || !cli_default_keys[k]) {
        json_decref(d);
        return cli_usage_error(a->command,
                               "--defaults takes KEY=VALUE with KEY one of group, cluster, location, output, endpoint, "
                               "subscription; not '%s'",
                               kv);
      }
      const char *out;
      if (k == 3 && eq[1]) { /* output: refuse now what every later command would refuse */
        static const char *const formats[] = {"json", "table", "yaml", "tsv", "none"};
        if (!cli_enum(a->command, "defaults output", eq + 1, formats, 5, &out)) {
          json_decref(d);
          return CLI_USAGE;
        }
      }
      if (eq[1])
        json_object_set_new(d, cli_default_keys[k], json_string(eq + 1));
      else
        json_object_del(d, cli_default_keys[k]);
    }
    if (!cli_defaults_save(d)) rc = CLI_ERROR;
  }
  if (rc == CLI_OK && v[CF_LIST].set) {
    char path[4096];
    json_t *list = json_array();
    if (!cli_defaults_path(path, sizeof path)) path[0] = '\0';
    for (size_t k = 0; cli_default_keys[k]; k++) {
      const char *val = json_string_value(json_object_get(d, cli_default_keys[k]));
      if (val && *val)
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "name", cli_default_keys[k], "value", val, "for",
                                              cli_default_key_help[k], "source", path));
    }
    rc = out_print(a->output, KIND_DEFAULT, list, 1);
    json_decref(list);
  }
  json_decref(d);
  return rc;
}

static const int cf_which[] = {CF_DEFAULTS, CF_LIST, CLI_END};

static const cli_command configure_command[] = {
    {NULL, "save defaults for -g, --cluster-name and others",
     "Saves defaults so that -g, --cluster-name and the like need not be repeated (az configure --defaults): "
     "gpupool configure --defaults group=demo cluster=gpu. They live in $XDG_CONFIG_HOME/gpupool/config.json "
     "(~/.config/gpupool/config.json without XDG_CONFIG_HOME); flags and environment variables win over them.",
     cf_which, NULL, CLI_OFFLINE, NULL, configure}};

const cli_group cli_group_configure = {
    "configure", NULL, "save defaults for -g, --cluster-name and others", NULL, cf_opts, CF_ALL, configure_command, 1};

/* ---- completion ----------------------------------------------------------------------------- */

static int completion_bash(cli_args *a) {
  (void)a;
  cli_print_bash_completion(stdout);
  return CLI_OK;
}

static const cli_command completion_commands[] = {
    {"bash", "the bash completion script",
     "Prints the bash completion script of gpupool, made from its command table: "
     "source <(gpupool completion bash), or install it as /usr/share/bash-completion/completions/gpupool "
     "(make install does).",
     NULL, NULL, CLI_OFFLINE, NULL, completion_bash},
};

const cli_group cli_group_completion = {"completion", NULL, "shell completion",  "Shell completion scripts.",
                                        NULL,         0,    completion_commands, 1};
