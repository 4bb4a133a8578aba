#!/usr/bin/env bash
# test/bench/run.sh -- 'make bench': every benchmark under test/bench, on its
# own throwaway cluster.  Timing is reported, never asserted.
source "$(dirname "$0")/../harness/common.sh"
"$LM_TOP/test/harness/cluster.sh" fresh bench
source "$LM_BASE/bench/env"
for b in "$LM_TOP"/test/bench/[0-9]*.sh; do
  bash "$b"
done
