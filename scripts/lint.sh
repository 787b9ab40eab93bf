#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Style checks: clang-format conformance of C sources and an SPDX line in every source file.
set -u
cd "$(dirname "$0")/.."
rc=0

files=$(git ls-files '*.c' '*.h')
if [ -n "$files" ]; then
    # shellcheck disable=SC2086
    if ! clang-format --dry-run --Werror $files 2>/tmp/sb-lint.$$; then
        sed -n '1,40p' /tmp/sb-lint.$$
        echo "lint: clang-format differences (run 'make format')"
        rc=1
    fi
    rm -f /tmp/sb-lint.$$
fi

for f in $(git ls-files '*.c' '*.h' '*.sh' '*.py' 'CMakeLists.txt' 'Makefile' '.ci/run' \
    'scripts/*' 'fuzz/*.sh' 'tests/*.sh'); do
    if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: BSD-2-Clause'; then
        echo "lint: $f: missing SPDX line"
        rc=1
    fi
done
[ "$rc" -eq 0 ] && echo "lint: ok"
exit "$rc"
