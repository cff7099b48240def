"""Compares the verdicts of several wsprobe runs (JSON Lines files) against the same peer.

Usage: flips.py PEER SECONDS RUN.jsonl...   (SECONDS: wall time of each run, comma-separated)

Prints the runs, the cases, the number of cases whose verdict was not identical in every run
("flips"), and for each flipping case its verdict counts and the failure summary/observed text of
a run with a minority verdict. A case missing from a run counts as the verdict MISSING.
Exit 1 when any case flips, 0 otherwise.
"""
import collections
import json
import sys


def load(path):
    results = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if "id" in r and "verdict" in r:
                    results[r["id"]] = r
    return results


def reason(r):
    f = r.get("failure") or {}
    observed = " ".join(str(f.get("observed") or "").split())
    detail = (r.get("close") or {}).get("detail", "")
    if detail:
        observed = f"{observed} [{detail}]" if observed else detail
    if len(observed) > 200:
        observed = observed[:197] + "..."
    text = f.get("summary", "")
    if text and observed:
        return f"{text}: {observed}"
    return text or observed


def main():
    peer, seconds, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    runs = [load(p) for p in paths]
    cases = sorted(set().union(*runs)) if runs else []
    flips = []
    for case in cases:
        verdicts = [run.get(case, {}).get("verdict", "MISSING") for run in runs]
        counts = collections.Counter(verdicts)
        if len(counts) > 1:
            flips.append((case, counts, verdicts))
    times = [float(s) for s in seconds.split(",") if s]
    timing = ""
    if times:
        timing = f", {min(times):.1f}-{max(times):.1f} s per run (mean {sum(times) / len(times):.1f})"
    print(f"{peer}: {len(runs)} runs, {len(cases)} cases, {len(flips)} flips{timing}")
    for case, counts, verdicts in flips:
        shown = "  ".join(f"{v}\u00d7{n}" for v, n in counts.most_common())
        print(f"  {case}  {shown}")
        majority = counts.most_common(1)[0][0]
        for run, verdict in zip(runs, verdicts):
            if verdict != majority:
                r = run.get(case)
                if r is not None:
                    print(f"    {verdict}: {reason(r) or '(no report)'}")
                break
        for run, verdict in zip(runs, verdicts):
            if verdict == majority and verdict != "PASS":
                r = run.get(case)
                if r is not None:
                    print(f"    {verdict}: {reason(r) or '(no report)'}")
                break
    sys.exit(1 if flips else 0)


if __name__ == "__main__":
    main()
