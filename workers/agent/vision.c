/*
 * Images for an OpenAI-compatible agent with vision (agents[].openai.
 * vision): the newest user turn's text and its images as the standard
 * content parts, each image a data URL.  Only images whose bytes say
 * what they are (JPEG, PNG, GIF, WebP) go; the turn's text already
 * names every attachment, so one left out is still known to the model.
 * wxgate never gives the model a URL to fetch: the bytes are inline.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agent.h"
#include "b64.h"
#include "sniff.h"
#include "xmalloc.h"

static json_t *
vision_image(const struct agent_part *a)
{
	const char *mime;
	char *url;
	size_t pre;
	json_t *o;

	if (strcmp(a->kind, "image") != 0 ||
	    (mime = sniff_image(a->data, a->size)) == NULL ||
	    a->size > INT32_MAX / 4 * 3)
		return NULL;
	pre = strlen("data:;base64,") + strlen(mime);
	url = xmalloc(pre + B64_LEN(a->size) + 1);
	memcpy(url, "data:", 5);
	memcpy(url + 5, mime, strlen(mime));
	memcpy(url + 5 + strlen(mime), ";base64,", 8);
	b64_encode(a->data, a->size, url + pre);
	o = json_pack("{s:s, s:{s:s}}", "type", "image_url", "image_url",
	    "url", url);
	free(url);
	return o;
}

json_t *
vision_content(const struct agent_req *r, const char *text, size_t len)
{
	json_t *parts, *img;
	size_t i, n = 0;

	parts = json_array();
	json_array_append_new(parts, json_pack("{s:s, s:s%}", "type", "text",
	    "text", text, len));
	for (i = 0; i < r->nparts; i++)
		if ((img = vision_image(&r->parts[i])) != NULL) {
			json_array_append_new(parts, img);
			n++;
		}
	if (n == 0) {
		json_decref(parts);
		return NULL;
	}
	return parts;
}
