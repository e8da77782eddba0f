#!/usr/bin/env bash
# npm run test:mutation [-- <stryker options>], e.g. `npm run test:mutation -- --incremental`
# for a quick rerun that reuses reports/stryker-incremental.json. Stryker mutates the rule
# modules (stryker.config.mjs); then score.ts prints the score per module and fails below
# 85% overall or 70% for any module. A Stryker failure (its dry run, say) fails it too.
set -u
cd "$(dirname "$0")/../.."
rm -f reports/mutation/mutation.json
npx stryker run "$@"
stryker_status=$?
npx tsx testing/mutation/score.ts reports/mutation/mutation.json || exit $?
exit "$stryker_status"
