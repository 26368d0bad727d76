/* pg_schema.h - the PostgreSQL store's schema and its versioned migrations. */
#ifndef GPUPOOLD_PG_SCHEMA_H
#define GPUPOOLD_PG_SCHEMA_H

#include <stddef.h>

#include "store/pg_pool.h"

/* Brings the database to the schema this gpupoold knows, applying each missing migration in its own
 * transaction, recorded in schema_migrations; replicas starting together wait on an advisory lock.
 * GPD_STORE_ERROR with the reason in err (a database written by a newer gpupoold is refused). */
gpd_store_rc pg_schema_migrate(pg_pool *p, char *err, size_t errlen);

#endif
