/*
 * src/leadmgmt.c
 *
 * Module entry point of the leadmgmt extension.  The library needs no
 * shared_preload_libraries and keeps no mutable global state, so all this
 * file owns is the module magic block.
 */
#include "postgres.h"

#include "fmgr.h"

#include "leadmgmt.h"

PG_MODULE_MAGIC;
