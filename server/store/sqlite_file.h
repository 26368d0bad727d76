/* sqlite_file.h - the SQLite database file as the one gpupoold that owns it sees it (issue 16):
 *
 *   - One process per file, however its path is spelled: the file itself is locked (flock on its
 *     inode), so a hard link, a symlink or "../" reaches the same lock; PATH.lock is locked too,
 *     which also keeps out an older gpupoold, which locked only that.
 *   - The first-start rule: a missing database file is created only where no store ever was:
 *     none of PATH-wal, PATH-shm and PATH.lock (left beside every store gpupoold created, and never
 *     removed) may be there. Otherwise gpupoold refuses to start, and --init creates the new, empty
 *     store deliberately; it first renames a leftover PATH-wal / PATH-shm to
 *     PATH-wal.orphaned-SECONDS, since SQLite would replay that log into the new file.
 *   - While running: is PATH still the file that was opened (not deleted, not replaced by another
 *     file, not truncated)? Writes are refused when it is not.
 *
 * The lock on the database file is a flock(2), which Linux keeps apart from the POSIX locks SQLite
 * takes on the same file (it does not on NFS, where SQLite does not belong anyway). */
#ifndef GPUPOOLD_SQLITE_FILE_H
#define GPUPOOLD_SQLITE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
  char *path;
  int fd, lock_fd; /* the database file and PATH.lock, both locked */
  dev_t dev;
  ino_t ino;
  bool created; /* this start created the file (first start, or --init) */
} gpd_db_file;

/* Applies the first-start rule, creates the parent directories and the file when it may, and takes
 * both locks. False with the reason (and what to do) in err. */
bool gpd_db_file_open(gpd_db_file *f, const char *path, bool init, char *err, size_t errlen);
/* True when PATH still names the opened file and it is not cut below one page; else why not. */
bool gpd_db_file_same(const gpd_db_file *f, char *why, size_t whylen);
void gpd_db_file_close(gpd_db_file *f);

#endif
