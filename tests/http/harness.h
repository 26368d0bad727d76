/* harness.h - starting gpupoold for a test: a fresh store (a SQLite file in a temporary directory,
 * or, after --pg URL, a new database on that PostgreSQL), a free loopback port (the server binds
 * port 0 and prints the one it got), and a guaranteed stop: the server dies with the test
 * (PR_SET_PDEATHSIG) and is killed at exit or on SIGINT/SIGTERM. */
#ifndef GPT_HARNESS_H
#define GPT_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
  pid_t pid;
  int port;
  char dir[256]; /* temporary directory: SQLite database and server log */
  char base[64]; /* http://127.0.0.1:PORT, or https:// */
  char log[320];
  char db[512];     /* the --db URL */
  char pg_name[64]; /* the PostgreSQL database made for this server ("" for SQLite or a shared store) */
} gpt_server;

/* Takes "--pg URL" (a PostgreSQL server, no database name) out of argv: every fresh store of this
 * test is then a new database there, dropped at the end, instead of a SQLite file. */
void gpt_store_args(int *argc, char **argv);
bool gpt_store_is_pg(void);
/* "sqlite" or "postgresql", for messages. */
const char *gpt_store_kind(void);

/* A new temporary directory and a fresh store for a server (both removed by gpt_dir_remove). */
bool gpt_dir_make(gpt_server *s);
/* A new temporary directory for a server that shares the store of other (replicas). */
bool gpt_dir_make_shared(gpt_server *s, const gpt_server *other);
void gpt_dir_remove(gpt_server *s);
/* Starts bin with --listen 127.0.0.1:0 --db STORE and the extra args (NULL-terminated). */
bool gpt_server_start(gpt_server *s, const char *bin, const char *const *args);
/* SIGTERM and wait; returns the exit status (0 = clean, which under ASan also means no leak). */
int gpt_server_stop(gpt_server *s);
/* SIGKILL and wait. */
void gpt_server_kill(gpt_server *s);
/* Prints the last lines of the server's log to stderr (after a failure). */
void gpt_server_log_tail(const gpt_server *s, int lines);
/* Milliseconds to wait for a server to start (longer under sanitizers). */
#define GPT_START_TIMEOUT_MS 30000

#endif
