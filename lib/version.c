/* version.c - gp_version(): the VERSION file's content, passed in by the Makefile as GP_VERSION. */
#include "gpupool/version.h"

#ifndef GP_VERSION
#error "GP_VERSION is defined by the Makefile from the VERSION file"
#endif

const char *gp_version(void) { return GP_VERSION; }
