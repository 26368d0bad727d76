/* body.h - turning request bytes into JSON the way every entry point must: duplicate keys refused,
 * invalid UTF-8 and over-deep nesting refused by jansson, a clean InvalidRequestContent error. */
#ifndef GPUPOOL_BODY_H
#define GPUPOOL_BODY_H

#include <jansson.h>
#include <stddef.h>

#include "gpupool/error.h"

#define GP_BODY_MAX (1024 * 1024)

/* Parses a request body. NULL with an InvalidRequestContent violation in err on any problem
 * (empty, not JSON, duplicate keys, NUL in strings, larger than GP_BODY_MAX). */
json_t *gp_body_parse(const char *buf, size_t len, gp_error *err);

#endif
