/*
 * The guests' ports on the switch (idl/vswitch.idl, published as
 * "switch").  Not served yet: no guest port is ever up, so the switch
 * never delivers here; the stub keeps link.c's callback whole.
 */
#include "net.h"

int guest_deliver(unsigned p, const uint8_t *frame, size_t len)
{
	(void)p;
	(void)frame;
	(void)len;
	return -1;
}
