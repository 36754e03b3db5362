/*
 * A worker's config slice: the JSON object the supervisor hands it in
 * sup.config, already validated by supervisor/config.c.  Every kind
 * reads it through these, so a wrong type or a number out of range is
 * refused the same way everywhere (the worker then stops: a slice that
 * disagrees with the supervisor's checks is a version skew or a bug).
 */
#include <jansson.h>

#include "log.h"
#include "worker.h"

int
wk_conf_int(json_t *conf, const char *key, long long def, long long min,
    long long max, long long *out)
{
	json_t *v = conf != NULL ? json_object_get(conf, key) : NULL;

	*out = def;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max) {
		log_warnx("config: %s must be an integer from %lld to %lld",
		    key, min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

const char *
wk_conf_str(json_t *conf, const char *key, const char *def)
{
	json_t *v = conf != NULL ? json_object_get(conf, key) : NULL;

	if (v == NULL || json_is_null(v))
		return def;
	return json_string_value(v);
}
