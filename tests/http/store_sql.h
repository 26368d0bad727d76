/* store_sql.h - what the HTTP tests do to a store behind gpupoold's back: make and drop the
 * PostgreSQL database of a test server, and run one SQL statement on a server's store (SQLite or
 * PostgreSQL alike: parameters are written $1, $2, … in order, which both accept). */
#ifndef GPT_STORE_SQL_H
#define GPT_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/* server_url: postgresql://USER@HOST:PORT, no database name. */
bool gpt_pg_create_database(const char *server_url, const char *name);
void gpt_pg_drop_database(const char *server_url, const char *name);

/* Runs sql with text parameters on the store of s. The first column of the first row goes into out
 * ("" when there is no row, or out is NULL). False, with the error on stderr, when it failed. */
bool gpt_store_sql(const gpt_server *s, const char *sql, const char *const *params, int nparams, char *out,
                   size_t size);

#endif
