"""Compares wsprobe's JSON Lines output with a checked-in expectations file.

Expectations: one `CASE-ID VERDICT` per line; `#` starts a comment (the reason a peer fails a
case goes there). `VERDICT|VERDICT` accepts either, for a peer whose behaviour races (the
comment must say which race). Every case in the run must be listed with the verdict observed, and every
listed case must have run. Exit 1 with one line per difference.
"""
import json
import sys


def load_expected(path):
    expected = {}
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                sys.exit(f"{path}:{n}: expected 'CASE-ID VERDICT', got {raw.strip()!r}")
            expected[parts[0]] = parts[1]
    return expected


def main():
    peer, expected_path, results_path = sys.argv[1:4]
    expected = load_expected(expected_path)
    actual = {}
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if "summary" in r:  # the run's closing summary record
                    continue
                actual[r["id"]] = r["verdict"]
    diffs = []
    for case, verdict in sorted(actual.items()):
        want = expected.get(case)
        if want is None:
            diffs.append(f"{peer}: {case} ran ({verdict}) but is not in {expected_path}")
        elif verdict not in want.split("|"):
            diffs.append(f"{peer}: {case} expected {want}, got {verdict}")
    for case in sorted(set(expected) - set(actual)):
        diffs.append(f"{peer}: {case} is expected but did not run")
    for d in diffs:
        print(d)
    counts = {}
    for v in actual.values():
        counts[v] = counts.get(v, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    print(f"{peer}: {len(actual)} cases ({summary}); {len(diffs)} differences from {expected_path}")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
