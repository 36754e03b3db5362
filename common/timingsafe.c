/*
 * timingsafe_bcmp (timingsafe.h): every byte is read, and the result
 * is folded without a branch on the data.
 */
#include "timingsafe.h"

int
timingsafe_bcmp(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *p = a, *q = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= p[i] ^ q[i];
	return d != 0;
}
