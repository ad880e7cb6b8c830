#!/usr/bin/env python3
"""bench/report.py OUT - the tables of a scripts/bench.sh run.

Reads OUT/raw.tsv (one line per timed command) and OUT/meta.txt, and
writes OUT/table.txt (text), OUT/results.json (medians, round trips,
ratios sbxfs/sshfs per transport and delay), OUT/ratios.dat and, with
gnuplot, OUT/ratios.png (the ratios, log scale).
"""
import csv
import json
import os
import statistics
import subprocess
import sys

DESC = {
    "untar": "tar x into the mount",
    "cpin": "cp -a into the mount",
    "cpout.cold": "cp -a out, cold",
    "cpout.warm": "cp -a out, warm",
    "grep.cold": "grep -r, cold",
    "grep.warm": "grep -r, warm",
    "lsr.cold": "ls -lR, cold",
    "lsr.warm": "ls -lR, warm",
    "find.cold": "find -newer, cold",
    "find.warm": "find -newer, warm",
    "git.cold": "git status, cold",
    "git.warm": "git status, warm",
    "saves": "editor saves (tmp+fsync+rename)",
    "write": "sequential write + fsync",
    "read.cold": "sequential read, cold",
    "read.warm": "sequential read, warm",
    "ctl_exec": "true via .ctl/exec | ssh true",
    "sbx_exec": "sbx exec -- true | ssh true",
    "mount-died": "(the mount died; remounted)",
}
PER_CALL = ("ctl_exec", "sbx_exec")


def load(out):
    meta = {}
    with open(os.path.join(out, "meta.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    rows = []
    with open(os.path.join(out, "raw.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            rows.append(r)
    return meta, rows


def medians(meta, rows):
    """(delay, workload, column) -> {seconds, round_trips, n, failed}"""
    execs = int(meta.get("execs", "1"))
    acc = {}
    for r in rows:
        k = (int(r["delay_ms"]), r["workload"], r["column"])
        a = acc.setdefault(k, {"t": [], "rt": [], "failed": 0})
        if r["seconds"] == "fail":
            a["failed"] += 1
            continue
        t = float(r["seconds"])
        if r["workload"] in PER_CALL:
            t /= execs
        a["t"].append(t)
        if r["round_trips"]:
            rt = int(r["round_trips"])
            a["rt"].append(rt / execs if r["workload"] in PER_CALL else rt)
    res = {}
    for k, a in acc.items():
        res[k] = {
            "seconds": statistics.median(a["t"]) if a["t"] else None,
            "round_trips": statistics.median(a["rt"]) if a["rt"] else None,
            "runs": len(a["t"]),
            "failed": a["failed"],
            "all_seconds": a["t"],
        }
    return res


def baseline(transport, meta):
    if transport == "shell" and meta.get("files_ssh-s"):
        return "ssh-s"
    return "ssh"


def build(meta, res):
    delays = sorted({k[0] for k in res})
    workloads = [w for w in DESC if any(k[1] == w for k in res)]
    out = {"meta": meta, "results": []}
    for tr in meta.get("transports", "").split(","):
        for d in delays:
            for w in workloads:
                a = res.get((d, w, tr))
                base = baseline(tr, meta)
                b = res.get((d, "ctl_exec" if w == "sbx_exec" else w, base))
                row = {"transport": tr, "delay_ms": d, "workload": w,
                       "sbxfs_s": None, "sshfs_s": b["seconds"] if b else None,
                       "ratio": None, "round_trips": None, "sshfs_column": base,
                       "status": "n/a" if meta.get("na_" + tr) else "ok"}
                if a:
                    row["sbxfs_s"] = a["seconds"]
                    row["round_trips"] = a["round_trips"]
                    if a["failed"]:
                        row["status"] = "failed %d of %d" % (a["failed"],
                                                             a["failed"] + a["runs"])
                if row["sbxfs_s"] is not None and row["sshfs_s"]:
                    row["ratio"] = row["sbxfs_s"] / row["sshfs_s"]
                out["results"].append(row)
    return out, delays, workloads


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(meta, data, delays, workloads):
    L = []
    L.append("sbxfs vs sshfs, %s, %s" % (meta.get("date"), meta.get("host")))
    L.append("tree: %s" % meta.get("tree"))
    for k, v in sorted(meta.items()):
        if k.startswith("files_"):
            f = v.split()
            L.append("  %s: %s files, %s entries, %s KB" % (k[6:], f[0], f[1], f[2]))
    L.append("median of %s reps; times in seconds (exec rows: one call); "
             "%s MiB sequential file; %s saves; measuring took %s s"
             % (meta.get("reps"), meta.get("bigmb"), meta.get("saves"),
                meta.get("elapsed_s")))
    for tr in meta.get("transports", "").split(","):
        L.append("")
        if meta.get("na_" + tr):
            L.append("== sbxfs -o transport=%s: n/a (sbxfs refused it: %s)"
                     % (tr, meta["na_" + tr].strip()))
            continue
        hwm = meta.get("vmhwm_kb_" + tr)
        mfd = meta.get("memfd_kb_" + tr)
        L.append("== sbxfs -o transport=%s against sshfs (%s); peak RSS of sbxfs %s%s"
                 % (tr, baseline(tr, meta),
                    "%.1f MiB" % (int(hwm) / 1024) if hwm else "-",
                    " + %.1f MiB of contents in memfds (most seen)" % (int(mfd) / 1024)
                    if mfd else ""))
        head = "%-34s" % "workload"
        for d in delays:
            head += " | %3d ms: %8s %8s %7s %6s" % (d, "sbxfs", "sshfs", "ratio", "RT")
        L.append(head)
        for w in workloads:
            line = "%-34s" % DESC[w]
            for d in delays:
                r = next(x for x in data["results"] if x["transport"] == tr
                         and x["delay_ms"] == d and x["workload"] == w)
                st = "" if r["status"] == "ok" else " !"
                line += " | %7s %8s %8s %7s %6s" % (
                    "", fmt(r["sbxfs_s"], ".3f"), fmt(r["sshfs_s"], ".3f"),
                    fmt(r["ratio"], ".2f") + ("x" if r["ratio"] is not None else "") + st,
                    fmt(r["round_trips"], ".0f"))
            L.append(line)
    if meta.get("floor_none_s"):
        L.append("")
        L.append("floor (no mount, same harness, median of 9): the harness alone %s s; "
                 "warm ls -lR of the tree on the local disk %s s, find -newer %s s"
                 % (meta.get("floor_none_s"), meta.get("floor_lsr_s"),
                    meta.get("floor_find_s")))
    L.append("")
    L.append("ratio = sbxfs/sshfs (below 1: sbxfs faster). RT = sbxfs round trips "
             "(/.ctl/stats, median). cold = both mounts remounted before; "
             "warm = again in the same mount. '!' = some reps failed.")
    return "\n".join(L) + "\n"


def chart(out, meta, data, delays, workloads):
    cols = [(tr, d) for tr in meta.get("transports", "").split(",")
            if not meta.get("na_" + tr) for d in delays]
    if not cols:
        return
    if not any(x["ratio"] for x in data["results"]):
        print("bench: no ratio to chart (every rep failed)", file=sys.stderr)
        return
    dat = os.path.join(out, "ratios.dat")
    with open(dat, "w") as f:
        f.write("workload " + " ".join("%s@%dms" % c for c in cols) + "\n")
        for w in workloads:
            vals = []
            for tr, d in cols:
                r = next(x for x in data["results"] if x["transport"] == tr
                         and x["delay_ms"] == d and x["workload"] == w)
                vals.append("%.4f" % r["ratio"] if r["ratio"] else "NaN")
            f.write('"%s" %s\n' % (DESC[w].replace('"', "'"), " ".join(vals)))
    plot = ", ".join("'%s' using %d:xtic(1) title '%s at %d ms'"
                     % (dat, i + 2, tr, d) if i == 0 else
                     "'' using %d title '%s at %d ms'" % (i + 2, tr, d)
                     for i, (tr, d) in enumerate(cols))
    script = """
set terminal pngcairo size 1400,700 font ',10'
set output '%s'
set title 'sbxfs / sshfs time (log scale; below 1 = sbxfs faster), %s'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.01:*]
set grid ytics
set xtics rotate by -35 scale 0
set bmargin 10
set rmargin 8
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb 'black'
plot %s
""" % (os.path.join(out, "ratios.png"), meta.get("date", ""), plot)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def main():
    out = sys.argv[1]
    meta, rows = load(out)
    res = medians(meta, rows)
    data, delays, workloads = build(meta, res)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(data, f, indent=1)
    with open(os.path.join(out, "table.txt"), "w") as f:
        f.write(table(meta, data, delays, workloads))
    chart(out, meta, data, delays, workloads)


if __name__ == "__main__":
    main()
