"""Every account's reach computed independently with python-igraph, checked against
`blastradius rank --all-accounts` on the same files. Run through `scripts/compare-igraph`,
which builds blastradius, generates the world and installs igraph in a virtualenv.

The semantics are SPEC §4 rules 1-4 and 7 for accounts, re-implemented here from the files:

* versions considered (`--versions latest`): each package's highest non-yanked release, a
  pre-release only when no release is left; yanked versions contribute no requirements;
* an account owns the packages its inventory `owns` names (and a package nobody owns gets a
  synthetic account `owner-of:NAME`); it injects into all of them;
* first hop (rule 2): a dependent whose non-dev requirement on an owned package has headroom,
  i.e. admits a version above every published version it admits (Cargo semver, below);
* later hops (rule 3): any dependent with a normal or build requirement;
* a lockfile is exposed when it pins a registry version of a reached package (rule 5).

One directed igraph graph holds all of it: vertex `t(p)` (package p reached), `d(p)` (p
published by the thief), one vertex per lockfile and one root per account. Edges: root -> d(p)
for owned p, d(p) -> t(q) for a headroom dependent q, t(p) -> t(q) for any propagating
dependent, d(p), t(p) -> lockfile for each pin. An account's packages are the p with d(p) or
t(p) reachable from its root: one breadth-first search per account (`subcomponent`, igraph's
BFS returning the visited vertices).
"""

import argparse
import bisect
import json
import os
import re
import resource
import subprocess
import sys
import time
import tomllib

AT = "2026-06-01T00:00:00Z"

# ---- Cargo semver: versions, requirements, headroom (src/versioning/cargo.rs) ------------

VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
REQ_RE = re.compile(
    r"^\s*(=|\^)?\s*(\d+)(?:\.(\d+)(?:\.(\d+)(?:-([0-9A-Za-z.-]+))?)?)?\s*$"
)
RELEASE = (1,)  # sorts above every pre-release key (0, ...)


def pre_key(pre):
    """Semver precedence of a pre-release: numeric identifiers below alphanumeric ones,
    numbers compared as numbers, a shorter run of equal identifiers first; none = release."""
    if not pre:
        return RELEASE
    return (0,) + tuple((0, int(i)) if i.isdigit() else (1, i) for i in pre.split("."))


def parse_version(text):
    m = VERSION_RE.match(text)
    if not m:
        raise ValueError(f"not a semver version: {text!r}")
    return (int(m[1]), int(m[2]), int(m[3]), pre_key(m[4]))


class Req:
    """One comparator: `=x[.y[.z[-pre]]]`, `^x[.y[.z[-pre]]]` or a bare version (a caret in
    Cargo). These are the shapes src/generate.rs writes (`^x.y`, `=x.y.z`, `^x.y.z-rc.1`,
    `=x.y.z-rc.1`); anything else is refused rather than guessed."""

    __slots__ = ("exact", "major", "minor", "patch", "pre")

    def __init__(self, text):
        m = REQ_RE.match(text)
        if not m:
            raise ValueError(f"requirement shape not implemented here: {text!r}")
        self.exact = m[1] == "="
        self.major = int(m[2])
        self.minor = None if m[3] is None else int(m[3])
        self.patch = None if m[4] is None else int(m[4])
        self.pre = pre_key(m[5])

    def _matches_comparator(self, v):
        major, minor, patch, pre = v
        if self.exact:
            return (
                major == self.major
                and (self.minor is None or minor == self.minor)
                and (self.patch is None or patch == self.patch)
                and pre == self.pre
            )
        # semver's matches_caret
        if major != self.major:
            return False
        if self.minor is None:
            return True
        if self.patch is None:
            return minor >= self.minor if self.major > 0 else minor == self.minor
        if self.major > 0:
            if minor != self.minor:
                return minor > self.minor
            if patch != self.patch:
                return patch > self.patch
        elif self.minor > 0:
            if minor != self.minor:
                return False
            if patch != self.patch:
                return patch > self.patch
        elif minor != self.minor or patch != self.patch:
            return False
        return pre >= self.pre

    def matches(self, v):
        if not self._matches_comparator(v):
            return False
        if v[3] == RELEASE:
            return True
        # A pre-release only satisfies a comparator on the same x.y.z that has a pre-release.
        return (
            self.major == v[0]
            and self.minor == v[1]
            and self.patch == v[2]
            and self.pre != RELEASE
        )

    def base(self):
        return (self.major, self.minor or 0, self.patch or 0, self.pre)


def candidates_above(m):
    major, minor, patch, pre = m
    out = [
        (major, minor, patch + 1, RELEASE),
        (major, minor + 1, 0, RELEASE),
        (major + 1, 0, 0, RELEASE),
    ]
    if pre != RELEASE:
        out.append((major, minor, patch, RELEASE))
        out.append((major, minor, patch, pre + ((0, 0),)))  # `rc.1` -> `rc.1.0`
    return out


def has_headroom(req, published):
    """SPEC rule 2: the requirement admits a version above the highest published version it
    admits (yanked and pre-release versions occupy their numbers too)."""
    admitted = [v for v in published if req.matches(v)]
    if admitted:
        return any(req.matches(c) for c in candidates_above(max(admitted)))
    base = req.base()
    tries = [(0, 0, 0, RELEASE), (0, 0, 1, RELEASE), (0, 1, 0, RELEASE), (1, 0, 0, RELEASE)]
    return any(req.matches(c) for c in tries + candidates_above(base) + [base])


# ---- reading the files --------------------------------------------------------------------


class World:
    def __init__(self):
        self.ids = {}  # package name -> vertex id
        self.names = []
        self.published = {}  # name -> [version key]
        self.best = {}  # name -> (is_release, key, deps) of the considered version
        self.owns = {}  # account -> [patterns]
        self.lockfiles = {}  # path -> set of registry package names

    def package(self, name):
        i = self.ids.get(name)
        if i is None:
            i = self.ids[name] = len(self.names)
            self.names.append(name)
        return i


def read_index_file(world, path):
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                name = entry["name"]
                key = parse_version(entry["vers"])
            except (ValueError, KeyError) as e:
                sys.exit(f"{path}:{line_no}: {e}")
            world.package(name)
            world.published.setdefault(name, []).append(key)
            deps = []
            for d in entry.get("deps", ()):
                real = d.get("package") or d["name"]
                world.package(real)
                deps.append((real, d["req"], d.get("kind") or "normal"))
            if entry.get("yanked", False):
                continue
            candidate = (key[3] == RELEASE, key)
            best = world.best.get(name)
            if best is None or candidate > best[:2]:
                world.best[name] = candidate + (deps,)


def read_world(root):
    world = World()
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "index")):
        dirnames.sort()
        for fn in sorted(filenames):
            read_index_file(world, os.path.join(dirpath, fn))
    with open(os.path.join(root, "inventory.toml"), "rb") as f:
        inventory = tomllib.load(f)
    for a in inventory.get("account", []):
        if a.get("ecosystem") != "crates.io":
            sys.exit(f"account {a.get('id')!r}: only crates.io accounts are compared")
        world.owns[a["id"]] = a.get("owns", [])
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "index")
        for fn in filenames:
            if fn != "Cargo.lock":
                continue
            path = os.path.join(dirpath, fn)
            with open(path, "rb") as f:
                lock = tomllib.load(f)
            pins = {
                p["name"]
                for p in lock.get("package", [])
                if p.get("source", "").startswith("registry+")
            }
            for name in pins:
                world.package(name)
            world.lockfiles[os.path.relpath(path, root)] = pins
    return world


def owned_packages(world):
    """Account -> package ids. `owns` entries are exact names or `*` globs (inventory.rs);
    a package nobody owns stands for its own publishing right (`owner-of:NAME`)."""
    accounts = {}
    owned = bytearray(len(world.names))
    for account, patterns in world.owns.items():
        ids = set()
        for pat in patterns:
            if "*" in pat:
                rx = re.compile(".*".join(map(re.escape, pat.split("*"))), re.S)
                ids.update(i for n, i in world.ids.items() if rx.fullmatch(n))
            elif pat in world.ids:
                ids.add(world.ids[pat])
        accounts[account] = sorted(ids)
        for i in ids:
            owned[i] = 1
    for name, i in world.ids.items():
        if not owned[i]:
            accounts[f"owner-of:{name}"] = [i]
    return accounts


def dependents(world):
    """(headroom edges, propagate edges) as sets of (dependency, dependent) package ids."""
    headroom, propagate = set(), set()
    verdicts = {}
    keys = {}
    for name, (_, _, deps) in world.best.items():
        me = world.ids[name]
        for real, req, kind in deps:
            if kind == "dev" or real == name:
                continue
            if kind not in ("normal", "build"):
                sys.exit(f"{name}: dependency {real}: unknown kind {kind!r}")
            p = world.ids[real]
            propagate.add((p, me))
            v = verdicts.get((real, req))
            if v is None:
                r = keys.get(req)
                if r is None:
                    r = keys[req] = Req(req)
                v = verdicts[(real, req)] = has_headroom(r, world.published.get(real, ()))
            if v:
                headroom.add((p, me))
    return headroom, propagate


# ---- running blastradius --------------------------------------------------------------------


def run_blastradius(binary, world_dir, out, threads=None, cmd=None):
    env = dict(os.environ)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    if cmd is None:
        cmd = [binary, "rank", "--all-accounts", "--format", "json", "--at", AT, "--output", out, world_dir]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"blastradius failed (exit {proc.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024  # MiB


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", required=True, help="directory written by examples/generate.rs")
    ap.add_argument("--blastradius", required=True, help="the blastradius binary")
    ap.add_argument("--out", required=True, help="where blastradius writes its JSON")
    ap.add_argument(
        "--single-thread",
        action="store_true",
        help="also time blastradius with RAYON_NUM_THREADS=1 (igraph runs on one core)",
    )
    ap.add_argument(
        "--igraph-call",
        choices=["subcomponent", "bfs"],
        default="subcomponent",
        help="igraph BFS entry point (bfs also returns a parent for every vertex: slower)",
    )
    a = ap.parse_args()
    import igraph  # after argument parsing, so --help works without it

    print(f"python {sys.version.split()[0]}, igraph {igraph.__version__}")

    # blastradius first, so neither run shares memory or cache pressure with the other.
    print("running blastradius ...", file=sys.stderr)
    br_wall, br_rss = run_blastradius(a.blastradius, a.world, a.out)
    br1 = run_blastradius(a.blastradius, a.world, a.out, threads=1) if a.single_thread else None
    # The same world as a snapshot (`ingest --snapshot`), ranked again: the answer must be
    # byte-identical, and this is the time the ≥50× target of issue 5 is about.
    snap = a.out + ".snap"
    snap_out = a.out + ".from-snapshot.json"
    print("running blastradius ingest --snapshot, then rank on the snapshot ...", file=sys.stderr)
    run_blastradius(a.blastradius, a.world, a.out, cmd=[a.blastradius, "ingest", a.world, "--snapshot", snap])
    snap_cmd = [a.blastradius, "rank", "--all-accounts", "--format", "json", "--at", AT, "--output", snap_out, snap]
    snap_wall, snap_rss = run_blastradius(a.blastradius, a.world, snap_out, cmd=snap_cmd)
    with open(a.out, "rb") as f1, open(snap_out, "rb") as f2:
        if f1.read() != f2.read():
            sys.exit(f"blastradius on the snapshot answered differently: {a.out} vs {snap_out}")
    with open(a.out, encoding="utf-8") as f:
        report = json.load(f)
    expected = {
        e["id"]: (e["inject"]["packages"], e["inject"]["lockfiles"]) for e in report["credentials"]
    }

    print("python: reading the files ...", file=sys.stderr)
    t0 = time.perf_counter()
    world = read_world(a.world)
    t_parse = time.perf_counter() - t0

    t0 = time.perf_counter()
    accounts = owned_packages(world)
    headroom, propagate = dependents(world)
    n_pkg = len(world.names)
    locks = sorted(world.lockfiles)
    n_lock = len(locks)
    d0, l0, r0 = n_pkg, 2 * n_pkg, 2 * n_pkg + n_lock
    names = sorted(accounts)
    edges = [(d0 + p, q) for p, q in headroom]
    edges += propagate
    for k, path in enumerate(locks):
        for name in world.lockfiles[path]:
            p = world.ids[name]
            edges.append((p, l0 + k))
            edges.append((d0 + p, l0 + k))
    for k, account in enumerate(names):
        edges.extend((r0 + k, d0 + p) for p in accounts[account])
    g = igraph.Graph(n=r0 + len(names), edges=edges, directed=True)
    del edges
    t_build = time.perf_counter() - t0

    bfs = g.subcomponent if a.igraph_call == "subcomponent" else (lambda v, mode: g.bfs(v, mode)[0])
    got = {}
    t_bfs = 0.0
    t0 = time.perf_counter()
    step = max(1, len(names) // 10)
    for k, account in enumerate(names):
        if k and k % step == 0:
            print(f"  igraph: {k}/{len(names)} accounts, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        tb = time.perf_counter()
        vids = bfs(r0 + k, mode="out")
        t_bfs += time.perf_counter() - tb
        vids.sort()
        n_trans = bisect.bisect_left(vids, d0)
        lockfiles = bisect.bisect_left(vids, r0) - bisect.bisect_left(vids, l0)
        # Owned packages not also reached through a dependency.
        extra = 0
        for p in accounts[account]:
            i = bisect.bisect_left(vids, p, 0, n_trans)
            if i == n_trans or vids[i] != p:
                extra += 1
        got[account] = (n_trans + extra, lockfiles)
    t_loop = time.perf_counter() - t0
    py_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"world: {n_pkg} packages, {len(world.best)} with a considered version, "
        f"{len(propagate)} propagating and {len(headroom)} headroom dependent edges, "
        f"{len(names)} accounts, {n_lock} lockfiles; igraph graph {g.vcount()} vertices, "
        f"{g.ecount()} edges"
    )
    reached = sorted(c[0] for c in got.values())
    if reached:
        print(
            f"reach (packages per account): median {reached[len(reached) // 2]}, "
            f"max {reached[-1]}, sum {sum(reached)}; accounts exposing a lockfile: "
            f"{sum(1 for c in got.values() if c[1])}"
        )

    missing = sorted(set(got) - set(expected))
    extra = sorted(set(expected) - set(got))
    diffs = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
    if missing or extra or diffs:
        print("MISMATCH between igraph and blastradius:", file=sys.stderr)
        for k in missing[:10]:
            print(f"  {k}: igraph {got[k]}, absent from blastradius", file=sys.stderr)
        for k in extra[:10]:
            print(f"  {k}: blastradius {expected[k]}, absent from igraph", file=sys.stderr)
        for k in diffs[:10]:
            print(
                f"  {k}: (packages, lockfiles) igraph {got[k]}, blastradius {expected[k]}",
                file=sys.stderr,
            )
        print(
            f"  {len(missing)} only in igraph, {len(extra)} only in blastradius, "
            f"{len(diffs)} with different counts",
            file=sys.stderr,
        )
        return 1
    print(
        f"identical: packages and lockfiles of all {len(got)} accounts agree "
        f"(blastradius rank --all-accounts vs one igraph BFS per account)"
    )

    py_total = t_parse + t_build + t_loop
    print()
    print(f"python parse (json + tomllib):              {t_parse:8.2f} s")
    print(f"python graph build (headroom + igraph):     {t_build:8.2f} s")
    print(f"igraph BFS alone ({len(names)} {a.igraph_call} calls): {t_bfs:8.2f} s")
    print(f"python per-account loop (BFS + counting):   {t_loop:8.2f} s")
    print(f"python total:                               {py_total:8.2f} s  (peak RSS {py_rss:.0f} MiB)")
    threads = os.environ.get("RAYON_NUM_THREADS") or os.cpu_count()
    print(f"blastradius end to end ({threads} threads):      {br_wall:8.2f} s  (peak RSS {br_rss:.0f} MiB)")
    print(f"blastradius rank on a snapshot:              {snap_wall:8.2f} s  (peak RSS {snap_rss:.0f} MiB; same JSON)")
    print(
        f"ratios: igraph BFS alone / blastradius = {t_bfs / br_wall:.2f}x; "
        f"python total / blastradius = {py_total / br_wall:.2f}x; "
        f"igraph BFS alone / blastradius on the snapshot = {t_bfs / snap_wall:.2f}x"
    )
    if br1:
        print(f"blastradius end to end (1 thread):          {br1[0]:8.2f} s  (peak RSS {br1[1]:.0f} MiB)")
        print(
            f"ratios, single-threaded: igraph BFS alone / blastradius = {t_bfs / br1[0]:.2f}x; "
            f"python total / blastradius = {py_total / br1[0]:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
