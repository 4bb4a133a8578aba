# leadmgmt -- PGXS build plus the project's own entry points.
#
#   make demo    install what is missing, build, install, start a throwaway
#                cluster and load the demo brand (SCALE=1 by default)
#   make test    the same set-up, then pg_regress, pgTAP and harness checks
#   make test-citus  leadmgmt on a Citus cluster against one node (skips
#                without Citus: docs/dba/citus.md)
#   make bench   benchmarks under test/bench (never part of make test)
#   make erd     regenerate docs/er.svg from the live catalog
#   make stop    stop and remove the throwaway clusters
#   make dist    the PGXN release archive (.build/dist/leadmgmt-VERSION.zip)
#
# Extension scripts: the install script of the newest version is generated
# from src/sql/parts/*.sql, with src/sql/schema/*.sql as the DDL of
# leadmgmt.install(); frozen scripts of landed versions and upgrade
# scripts live in src/sql/history/ (see docs/dba/layout.md).

EXTENSION   = leadmgmt
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" leadmgmt.control)
MODULE_big  = leadmgmt
OBJS        = src/leadmgmt.o src/access.o src/stats.o src/phone.o src/funnel.o src/tiers.o src/survival.o src/service.o src/model_logreg.o \
              src/attribution_journey.o src/attribution_touch.o \
              src/assignment_plan.o src/assignment_engine.o src/assignment_roster.o src/routing.o
PGFILEDESC  = "leadmgmt - lead management and funnel analytics"

# the install script of the newest version: the code, one part per capability,
# in this order (src/sql/parts) ...
SQL_PARTS   = $(addprefix src/sql/parts/,$(addsuffix .sql,header phone schema access ingest funnel tiers \
                survival service model attribution roi assignment lifecycle master_data routing install citus privileges))
# ... and the schema that leadmgmt.install() creates (src/sql/schema), one file
# per capability that has tables or views, in this order
SCHEMA_PARTS = $(addprefix src/sql/schema/,$(addsuffix .sql,schema access overview funnel tiers service model roi \
                assignment lifecycle time_window master_data ingest form_model routing model_health))
DATA_built  = src/sql/leadmgmt--$(EXTVERSION).sql
DATA        = $(wildcard src/sql/history/leadmgmt--*.sql)

# pg_regress tests, one per capability (sql/<name>.sql, expected/<name>.out), in this order
REGRESS      = install phone ingest schema parallel funnel tiers survival service model attribution roi assignment lifecycle master_data edges memory_safety routing model_health
REGRESS_OPTS = --load-extension=leadmgmt --inputdir=. --outputdir=.build/regress

PG_CFLAGS   = -Wall -Wextra -Werror

# make test SANITIZE=1: UBSan (its runtime loads with the library, nothing to
# preload); SANITIZE=address adds AddressSanitizer, with libasan preloaded into
# the server (it deadlocks on Debian 12: see docs/dba/testing.md; heap errors
# are valgrind's job there, make test VALGRIND=1).  Findings go to files beside
# the server log, which the test run reads.  Objects remember the flags.
comma := ,
ifneq ($(SANITIZE),)
SANITIZE_KINDS := $(if $(filter address,$(SANITIZE)),address$(comma)undefined,undefined)
PG_CFLAGS  += -fsanitize=$(SANITIZE_KINDS) -fno-omit-frame-pointer -g
SHLIB_LINK += -fsanitize=$(SANITIZE_KINDS)
endif
FLAGS_STAMP := .build/cflags
# PostgreSQL's own headers are not -Wextra clean: read them as system headers,
# so that the warnings apply to our code only.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null) -DLEADMGMT_VERSION='"$(EXTVERSION)"'
EXTRA_CLEAN = .build

# Prefer the PostgreSQL 15 that Debian 12 ships; PG_CONFIG=... picks another.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS      := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
# Without the server headers only the entry points below work; they install them.
all installcheck install:
	@echo "PostgreSQL server development files not found: run 'make test' or 'make demo', which install them" >&2; exit 1
endif

# the library knows its version (leadmgmt.version()), from the control file
src/leadmgmt.o: leadmgmt.control

# rewritten (so newer than the objects) only when the sanitizer flags change
$(OBJS): $(FLAGS_STAMP)
$(FLAGS_STAMP): FORCE
	@mkdir -p .build; echo '$(SANITIZE_KINDS)' | cmp -s - $@ || echo '$(SANITIZE_KINDS)' > $@
.PHONY: FORCE

src/sql/leadmgmt--$(EXTVERSION).sql: $(SQL_PARTS) $(SCHEMA_PARTS) leadmgmt.control test/harness/views.awk
	cat $(SCHEMA_PARTS) > $@.schema
	cat $(SQL_PARTS) | sed -e '/^-- @schema@ /{r $@.schema' -e 'd;}' \
	  $(foreach s,$(SCHEMA_PARTS),-e '/^-- @schema $(basename $(notdir $(s)))@ /{r $(s)' -e 'd;}') \
	  | awk -v schema='$(SCHEMA_PARTS)' -f test/harness/views.awk > $@
	rm -f $@.schema

H = test/harness

.PHONY: deps build-install test test-citus demo bench erd stop dist schema-parts

deps:
	@$(H)/deps.sh

# A sub-make, so that PGXS is read again once deps.sh has installed it.
# Compiler command lines show with V=1 only.
build-install: deps
	@$(if $(V),,echo "== building leadmgmt (V=1 shows the compiler lines)")
	@$(MAKE) --no-print-directory $(if $(V),,-s) all
	@$(H)/install.sh $(MAKE)

test: build-install
	@$(H)/run-tests.sh

# leadmgmt on a Citus coordinator and two workers; skips where Citus is not installed
test-citus: build-install
	@$(H)/run-citus.sh

demo: build-install
	@$(H)/demo.sh $(or $(SCALE),1)

bench: build-install
	@test/bench/run.sh

erd: build-install
	@$(H)/erd.sh

stop:
	@$(H)/cluster.sh stop-all

# the files of src/sql/schema in install() order (for build-upgrade.sh)
schema-parts:
	@echo $(SCHEMA_PARTS)

# the PGXN release archive of HEAD, with src/META.json at its top
dist:
	@$(H)/dist.sh
