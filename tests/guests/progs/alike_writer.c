/* alike.c that also rewrites 6 MiB..8 MiB at check 24 (page_sharing.c). */
#define WRITER
#include "alike.c"
