/* reconciler.h - the background thread that carries operations to their end: it claims pending
 * operations from the store (with a lease), builds and stores each pool's plan with a new
 * generation, sets provisioningState, and ends the operation Succeeded or Failed. Operations a
 * previous process left unfinished are claimed like any other, so a restart resumes them. */
#ifndef GPUPOOLD_RECONCILER_H
#define GPUPOOLD_RECONCILER_H

#include "server.h"

gpd_reconciler *gpd_reconciler_start(gpd_server *srv);
/* New operations were committed: look now rather than at the next poll. */
void gpd_reconciler_wake(gpd_reconciler *r);
/* A machine report changed something: the progressing rollouts this replica holds look at their
 * machines now rather than at their next tick. */
void gpd_reconciler_kick_rollouts(gpd_reconciler *r);
void gpd_reconciler_stop(gpd_reconciler *r);

#endif
