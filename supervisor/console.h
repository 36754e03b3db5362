/*
 * The operator console in the hub (console.c): login links, sessions
 * and what each page may show or do; console_page.c renders the pages'
 * JSON.  The console worker (workers/console/) only relays.
 */
#ifndef WX_CONSOLE_H
#define WX_CONSOLE_H

#include <jansson.h>

/* The overview: workers and channels, as `wxgatectl status` sees them. */
json_t	*console_page_overview(void);
/* Pairing codes waiting for the operator; NULL on a store error. */
json_t	*console_page_pairings(void);

#endif
