/*
 * libcurl loaded at run time by the workers that dial (curl_dl.c).
 */
#ifndef WX_CURL_DL_H
#define WX_CURL_DL_H

/* Load libcurl; before the sandbox.  0, or -1 logged. */
int	curl_dl_open(void);

#endif
