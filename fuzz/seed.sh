#!/bin/sh
# Builds fuzz/corpus/<target>/ from tests/fixtures (nothing is committed: corpus/ is ignored).
# Run from anywhere; needs only a POSIX shell and the stable toolchain (for the built seeds).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fx="$here/../tests/fixtures"
c="$here/corpus"
put() { # put TARGET FILE...
    t=$1; shift
    mkdir -p "$c/$t"
    for f in "$@"; do
        [ -f "$f" ] || continue
        # Name seeds by content so re-running is idempotent.
        cp "$f" "$c/$t/seed-$(cksum < "$f" | cut -d' ' -f1)"
    done
}
find_named() { find "$fx" -type f -name "$1" | sort; }

put cargo_lock $(find_named '*Cargo.lock*')
put npm_lock $(find "$fx/lockfiles/npm" "$fx/cli/mixed" "$fx/incident-npm-pypi" "$fx/rules" -type f -name '*.json' \
    ! -name '*packument*' ! -name 'package.json' ! -path '*/pypi/*' ! -path '*/npm/*.packument.json' | sort)
put yarn_lock $(find "$fx/lockfiles/yarn" "$fx/regress" -type f -name '*yarn*.lock' | sort)
put pnpm_lock $(find_named '*pnpm-lock*.yaml')
put poetry_lock $(find_named '*poetry.lock')
put uv_lock $(find_named '*uv.lock')
put requirements $(find "$fx" -type f -name '*.txt' | sort)
put sparse_index $(find_named '*index.jsonl') $(find "$fx/cli/invalid" -type f -path '*index-*' | sort)
put npm_packument $(find_named '*.packument.json')
put pypi_json $(find_named '*.pypi.json') $(find "$fx/rules/rule-npm-pypi/pypi" -type f | sort)
put inventory $(find_named '*inventory.toml')
put build_log $(find_named '*builds.csv')
put cargo_toml $(find_named '*Cargo.toml')
put package_json $(find_named '*package.json')
put pyproject_toml $(find_named '*pyproject.toml')
put dot_escape "$fx/cli/mixed/rs/Cargo.lock"
mkdir -p "$c/version_req" "$c/advisory"
# One requirement per seed, from the versioning tables' first column.
for f in "$fx"/versioning/*.tsv; do
    cut -f1 "$f" | grep -v '^#' | head -n 200 | while IFS= read -r line; do
        printf '%s\n1.2.3' "$line" > "$c/version_req/seed-$(printf '%s' "$line" | cksum | cut -d' ' -f1)"
    done
done
# The inputs no fixture holds (a db dump, a snapshot, bad-version lists) are built by the
# mutation test, which writes them here when asked.
BLASTRADIUS_FUZZ_SEEDS="$c" cargo test --release --manifest-path "$here/../Cargo.toml" \
    --test mutation built_inputs_parse -- --exact --quiet >/dev/null
echo "corpus in $c:"; for d in "$c"/*; do echo "  $(basename "$d"): $(ls "$d" | wc -l)"; done
