"""``loancollect import`` of CSV files beside the storage plug-in's bulk API on the same rows.

Writes N borrowers and N loans (12 monthly installments each) as CSV, then, each in a
fresh process on a new SQLite file (so peak RSS is the process's own):

1. ``loancollect import --db ... borrowers.csv loans.csv`` (the command line path, with
   its default ``--processes 1``; ``--processes N`` here passes N instead: N worker
   processes validate while the command writes);
2. the floor: ``loancollect_sqlalchemy.bulk.import_rows`` of the same borrowers and
   loans, given as the plug-in's bulk rows (built from the same CSV rows before the
   clock starts: the floor is the write path alone).

It prints, for each: wall time, CPU time (user + system; the command's includes its
workers'), peak RSS, rows per second, and the ratios of the two CPU times and of the
two wall times (goal: the command within 1.5x of the bulk API, with peak RSS under
500 MB). For the command, peak RSS is that of its largest process, and, sampled every
half second from /proc, that of the command alone and of the command with its
workers together; the load average is sampled at the same time. The machine may be
shared: read the CPU time beside the wall time and the load to see how much of the
wall was waiting. With worker processes, the wall ratio is what they can improve
(their CPU is spent beside the writer's, on other cores); the CPU ratio counts all
of it.

Usage::

    python benchmarks/bench_import.py [--loans 20000] [--processes N] [--json]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
BORROWER_COLUMNS = ("id", "kind", "name", "jurisdiction", "time_zone", "locale", "phone")
LOAN_COLUMNS = (
    "id",
    "borrower_id",
    "currency",
    "principal",
    "annual_rate",
    "disbursement_date",
    "term",
    "method",
    "product",
)


def write_csv(folder: Path, loans: int) -> tuple[Path, Path]:
    """N borrowers and their N loans, seeded by position (the same files every run)."""
    borrowers, loan_file = folder / "borrowers.csv", folder / "loans.csv"
    with (
        borrowers.open("w", encoding="utf-8", newline="") as b,
        loan_file.open("w", encoding="utf-8", newline="") as ln,
    ):
        bw, lw = csv.writer(b), csv.writer(ln)
        bw.writerow(BORROWER_COLUMNS)
        lw.writerow(LOAN_COLUMNS)
        first = dt.date(2025, 1, 1)
        for n in range(loans):
            bw.writerow(
                (
                    f"B{n:08d}",
                    "individual",
                    f"Borrower {n}",
                    "CN",
                    "Asia/Shanghai",
                    "zh_CN",
                    f"+86 138 {n // 10_000 % 10_000:04d} {n % 10_000:04d}",
                )
            )
            lw.writerow(
                (
                    f"L{n:08d}",
                    f"B{n:08d}",
                    "CNY",
                    f"{10_000 + (n * 37) % 90_000}.00",
                    f"0.{8 + n % 16:02d}",
                    (first + dt.timedelta(days=n % 240)).isoformat(),
                    "12",
                    ("equal_installment", "equal_principal")[n % 2],
                    "consumer",
                )
            )
    return borrowers, loan_file


def _child_usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _tree_rss_mb(root: int) -> tuple[float, float]:
    """(RSS of ``root``, RSS of ``root`` and all its descendants) now, in MB, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(entry.name)
        parents[pid] = int(fields.get("PPid", "0").strip() or 0)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return rss.get(root, 0.0), sum(rss.get(pid, 0.0) for pid in tree)


def run_cli(db: Path, files: tuple[Path, Path], processes: int | None) -> dict[str, Any]:
    """``loancollect import`` in a fresh process (with its worker processes), sampling
    the RSS of the command and of all its processes together, and the load average."""
    url = f"sqlite:///{db}"
    exe = [sys.executable, "-m", "loancollect"]
    subprocess.run([*exe, "migrate", "--db", url], check=True, capture_output=True)
    extra = [] if processes is None else ["--processes", str(processes)]
    cpu0, _ = _child_usage()
    started = time.perf_counter()
    child = subprocess.Popen(
        [*exe, "import", "--db", url, "--review-on", "2025-10-31", *extra, *map(str, files)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    main_peak = tree_peak = 0.0
    loads: list[float] = []
    while child.poll() is None:
        own, tree = _tree_rss_mb(child.pid)
        main_peak, tree_peak = max(main_peak, own), max(tree_peak, tree)
        loads.append(os.getloadavg()[0])
        time.sleep(0.5)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"loancollect import failed: {child.stderr.read().decode()[-2000:]}")
    cpu1, _ = _child_usage()
    return {
        "wall": wall,
        "cpu": cpu1 - cpu0,
        "rss_sampled_main_mb": main_peak,
        "rss_sampled_all_mb": tree_peak,
        "load_min": min(loads, default=0.0),
        "load_max": max(loads, default=0.0),
    }


def run_bulk(db: Path, files: tuple[Path, Path]) -> dict[str, float]:
    """The bulk API in a fresh process (this file with ``--bulk-child``)."""
    out = subprocess.run(
        [sys.executable, str(HERE), "--bulk-child", str(db), *map(str, files)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bulk_child(db: Path, borrowers: Path, loans: Path) -> None:
    """Build the bulk rows from the CSV rows (not timed), then import them (timed)."""
    from loancollect_sqlalchemy import SqlStore, bulk

    from loancollect.importing import _borrower, _loan, read_rows

    people = {row["id"]: _borrower(row) for _, row in read_rows(borrowers)}
    rows: list[tuple[str, dict[str, Any]]] = []
    for _, row in read_rows(loans):
        borrower_row, loan_row = bulk.loan_rows(_loan(row, people[row["borrower_id"]], None))
        rows += [("borrower", borrower_row), ("loan", loan_row)]
    del people
    store = SqlStore(f"sqlite:///{db}")
    cpu0 = time.process_time()
    started = time.perf_counter()
    report = bulk.import_rows(store, rows, review_on=dt.date(2025, 10, 31))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": peak, "problems": len(report.problems)}))


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="pass --processes N to the command (default: the command's own default)",
    )
    parser.add_argument("--bulk-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bulk_child:
        bulk_child(*(Path(p) for p in args.bulk_child))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = write_csv(folder, args.loans)
        size = sum(f.stat().st_size for f in files) / 1e6
        cli = run_cli(folder / "cli.db", files, args.processes)
        # The largest process so far (the command or one of its workers; ru_maxrss of
        # the children is the largest of them, not their sum: see rss_sampled_all_mb).
        cli["rss_mb"] = _child_usage()[1]
        floor = run_bulk(folder / "bulk.db", files)
    rows = 2 * args.loans
    result = {
        "loans": args.loans,
        "processes": 1 if args.processes is None else args.processes,
        "csv_mb": round(size, 1),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "cli": cli,
        "bulk": floor,
        "ratio_wall": cli["wall"] / floor["wall"],
        "ratio_cpu": cli["cpu"] / floor["cpu"],
        "load_average_after": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.loans:,} borrowers + {args.loans:,} loans, {size:.1f} MB of CSV")
    print(f"load average {result['load_average']:.2f} on {os.cpu_count()} CPUs")
    for name, fig in (("loancollect import", cli), ("bulk API (floor)", floor)):
        print(
            f"  {name:20} wall {fig['wall']:7.1f} s  cpu {fig['cpu']:7.1f} s  "
            f"{rows / fig['wall']:9,.0f} rows/s  peak RSS {fig['rss_mb']:7.0f} MB"
        )
    verdict = "met" if result["ratio_wall"] <= 1.5 else "NOT met"
    print(f"  ratio (wall) {result['ratio_wall']:.2f}x; goal <= 1.5x: {verdict}")
    print(f"  ratio (CPU)  {result['ratio_cpu']:.2f}x (the figure to compare on a loaded machine)")
    rss = "met" if cli["rss_mb"] < 500 else "NOT met"
    print(f"  peak RSS of the largest process {cli['rss_mb']:.0f} MB; goal < 500 MB: {rss}")
    print(
        f"  sampled peak RSS: the command {cli['rss_sampled_main_mb']:.0f} MB, with its "
        f"workers {cli['rss_sampled_all_mb']:.0f} MB; load average during the command "
        f"{cli['load_min']:.1f}-{cli['load_max']:.1f}"
    )


if __name__ == "__main__":
    main()
