/* version.h - the version of gpupool. One string for every binary (gpupool, gpupoold, gpupool-agent)
 * and the Debian package: it comes from the VERSION file at the top of the source tree, compiled in
 * by the Makefile. */
#ifndef GPUPOOL_VERSION_H
#define GPUPOOL_VERSION_H

/* "0.1.0" */
const char *gp_version(void);

#endif
