/* pg_listen.h - change notices on PostgreSQL (store.h): a connection of its own LISTENs on
 * GPD_CHANGE_CHANNEL, and a thread hands each notification's payload (a change key) to the
 * watcher, so a change committed through any replica reaches the long-polls held by this one. When
 * that connection is lost, the thread reconnects (every second while PostgreSQL is away) and then
 * calls the watcher with "*": what was notified meanwhile is lost, so everything is re-checked. */
#ifndef GPUPOOLD_PG_LISTEN_H
#define GPUPOOLD_PG_LISTEN_H

#include "store/pg_pool.h"
#include "store/store.h"

typedef struct pg_listener pg_listener;

/* Starts listening; NULL when the thread cannot be started (notices then never come: waiters get
 * their answer at their deadline). */
pg_listener *pg_listen_start(pg_pool *pool, gpd_store_watcher fn, void *ctx);
void pg_listen_stop(pg_listener *l);

#endif
