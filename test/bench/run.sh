#!/usr/bin/env bash
# test/bench/run.sh -- 'make bench': every benchmark under test/bench, on its
# own throwaway cluster.  Timing is reported, never asserted.
source "$(dirname "$0")/../harness/common.sh"
"$LM_TOP/test/harness/cluster.sh" fresh bench
source "$LM_BASE/bench/env"
# one benchmark per compute capability, in this order; 'make bench ONLY=funnel' runs one
for name in ${ONLY:-ingest funnel tiers routing survival model attribution assignment lifecycle}; do
  bash "$LM_TOP/test/bench/$name.sh"
done
