/* defaults.h - saved defaults of the gpupool CLI (`gpupool configure --defaults group=demo`), kept
 * in $XDG_CONFIG_HOME/gpupool/config.json (else ~/.config/gpupool/config.json) as
 * {"defaults": {"group": "demo", ...}}, so that -g, --cluster-name and the like need not be
 * repeated. Flags and environment variables always win over them. */
#ifndef GPUPOOL_CLI_DEFAULTS_H
#define GPUPOOL_CLI_DEFAULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The keys `gpupool configure --defaults` accepts, NULL-terminated, with what each fills in. */
extern const char *const cli_default_keys[];
extern const char *const cli_default_key_help[];

/* The saved default of key, or NULL (the file is read once; an unreadable one is reported once on
 * stderr and ignored). */
const char *cli_default(const char *key);

/* Path of the file; false when neither XDG_CONFIG_HOME nor HOME is set. */
bool cli_defaults_path(char *out, size_t size);

/* All saved defaults: a new object (empty when there is no file); NULL with a message on stderr
 * when the file cannot be read. */
json_t *cli_defaults_load(void);

/* Writes the defaults object to the file (creating its directory), atomically. False with a
 * message on stderr. */
bool cli_defaults_save(const json_t *defaults);

#endif
