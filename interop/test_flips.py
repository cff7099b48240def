"""Self-test of flips.py (run by interop/run.sh before the peers): identical runs give 0 flips
and exit 0; a case whose verdict differs is counted, listed with its verdict counts and the
minority run's failure report, and makes the exit status 1; a case missing from a run flips."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def write_run(directory, name, verdicts):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        for case, verdict in verdicts.items():
            r = {"id": case, "verdict": verdict}
            if verdict != "PASS":
                r["failure"] = {"summary": f"why {case}", "observed": "close frame 1002"}
            f.write(json.dumps(r) + "\n")
    return path


def flips(*paths):
    return subprocess.run(
        [sys.executable, os.path.join(HERE, "flips.py"), "peer", "1.0,2.0", *paths],
        capture_output=True, text=True, check=False)


class FlipsTest(unittest.TestCase):
    def test_identical_runs_have_no_flips(self):
        with tempfile.TemporaryDirectory() as d:
            a = write_run(d, "a", {"x": "PASS", "y": "FAIL"})
            b = write_run(d, "b", {"x": "PASS", "y": "FAIL"})
            out = flips(a, b)
            self.assertEqual(out.returncode, 0, out.stdout)
            self.assertIn("peer: 2 runs, 2 cases, 0 flips", out.stdout)

    def test_a_differing_verdict_is_a_flip(self):
        with tempfile.TemporaryDirectory() as d:
            runs = [write_run(d, f"r{i}", {"x": "PASS", "y": "FAIL" if i == 1 else "PASS"})
                    for i in range(3)]
            out = flips(*runs)
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn("3 runs, 2 cases, 1 flips", out.stdout)
            self.assertIn("y  PASS\u00d72  FAIL\u00d71", out.stdout)
            self.assertIn("FAIL: why y: close frame 1002", out.stdout)
            self.assertNotIn("  x  ", out.stdout)

    def test_a_missing_case_is_a_flip(self):
        with tempfile.TemporaryDirectory() as d:
            a = write_run(d, "a", {"x": "PASS", "y": "PASS"})
            b = write_run(d, "b", {"x": "PASS"})
            out = flips(a, b)
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn("y  PASS\u00d71  MISSING\u00d71", out.stdout)


if __name__ == "__main__":
    unittest.main()
