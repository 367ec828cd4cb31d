#!/usr/bin/env python3
"""Where the SQLite precedent search spends its time.

Usage: scripts/precedent-probe.py PATH-TO-DATABASE (a file filled by
`doorbraak generate --cases N`). Takes the first three words of a resolved
case's citation and times, newest 200 matches first as the store does, the
full-text query with prefix terms and with whole words, each with and
without bm25 ranking, and a count of all matches. Then the candidate
design for a flat search: a copy of the index with a 3-letter prefix
index (`prefix='3'`, in a temporary table, the file is not changed), each
word's first three letters as its term, newest 400 candidates with their
text, and how many of them hold every word as the start of a word (what
our own code would check). Prints milliseconds (best of five) and the
number of indexed precedents.
"""

import re

import sqlite3
import sys
import time


def best_of(conn, sql, args, runs=5):
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        conn.execute(sql, args).fetchall()
        took = (time.perf_counter() - start) * 1000
        best = took if best is None else min(best, took)
    return best


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    conn = sqlite3.connect(sys.argv[1])
    (indexed,) = conn.execute("SELECT count(*) FROM precedents_fts").fetchone()
    (citation,) = conn.execute(
        "SELECT rule_citation FROM cases WHERE state = 'RESOLVED' ORDER BY id LIMIT 1"
    ).fetchone()
    words = citation.replace(",", " ").split()[:3]
    print(f"{indexed} precedents indexed; words {words}")
    window = "ORDER BY rowid DESC LIMIT 200"
    for name, expr in [
        ("prefix terms", " ".join(f'"{w}"*' for w in words)),
        ("whole words", " ".join(f'"{w}"' for w in words)),
    ]:
        ranked = best_of(
            conn,
            f"SELECT rowid, bm25(precedents_fts) FROM precedents_fts WHERE precedents_fts MATCH ? {window}",
            [expr],
        )
        plain = best_of(
            conn, f"SELECT rowid FROM precedents_fts WHERE precedents_fts MATCH ? {window}", [expr]
        )
        count = best_of(conn, "SELECT count(*) FROM precedents_fts WHERE precedents_fts MATCH ?", [expr])
        print(f"{name:13} bm25 {ranked:7.2f} ms   no rank {plain:7.2f} ms   count all {count:7.2f} ms")

    conn.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(citation, explanation, prefix='3')")
    conn.execute(
        "INSERT INTO temp.probe(rowid, citation, explanation) "
        "SELECT rowid, citation, explanation FROM precedents_fts"
    )
    short = " ".join(f'"{w[:3].lower()}"*' for w in words)
    sql = f"SELECT rowid, citation || ' ' || explanation FROM temp.probe WHERE probe MATCH ? ORDER BY rowid DESC LIMIT 400"
    took = best_of(conn, sql, [short])
    rows = conn.execute(sql, [short]).fetchall()
    wanted = [w.lower() for w in words]
    kept = sum(
        1
        for _, text in rows
        if all(any(t.startswith(w) for t in re.findall(r"\w+", text.lower())) for w in wanted)
    )
    print(f"3-letter prefix index, 400 candidates with text {took:7.2f} ms   {kept} of {len(rows)} hold every word")


if __name__ == "__main__":
    main()
