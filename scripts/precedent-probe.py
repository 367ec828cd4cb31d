#!/usr/bin/env python3
"""Where the SQLite precedent search spends its time.

Usage: scripts/precedent-probe.py PATH-TO-DATABASE (a file filled by
`doorbraak generate --cases N`; the file is not changed). Builds two
copies of its precedent index in memory, one with the prefix indexes the
store uses (migration 9) and one without (the index before it), and times
on each, for a few queries, the newest 200 matches with prefix terms as the
store asks for them: without ranking (what the store runs now; it ranks in
its own code), with bm25 (what it ran before), and with the text of each
match. Prints milliseconds (best of five) and the number of precedents.
"""

import sqlite3
import sys
import time

PREFIXES = "2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"
QUERIES = [
    ["toeslag", "schuldhulp"],
    ["opgelost", "ruimte"],
    ["regeling", "fin", "2014"],
    ["regeling"],
    ["jeugdzorg", "wmo"],
]


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
    print(f"{indexed} precedents indexed")
    for name, option in [("prefix indexes", f", prefix='{PREFIXES}'"), ("no prefix index", "")]:
        table = "prefixed" if option else "plain"
        start = time.perf_counter()
        conn.execute(
            f"CREATE VIRTUAL TABLE temp.{table} USING fts5(citation, explanation, "
            f"tokenize='unicode61 remove_diacritics 2'{option})"
        )
        conn.execute(
            f"INSERT INTO temp.{table}(rowid, citation, explanation) "
            "SELECT rowid, citation, explanation FROM precedents_fts"
        )
        print(f"{name}: built in {time.perf_counter() - start:.1f} s")
        window = "ORDER BY rowid DESC LIMIT 200"
        for words in QUERIES:
            expr = " ".join(f'"{w}"*' for w in words)
            plain = best_of(conn, f"SELECT rowid FROM {table} WHERE {table} MATCH ? {window}", [expr])
            ranked = best_of(
                conn, f"SELECT rowid, bm25({table}) FROM {table} WHERE {table} MATCH ? {window}", [expr]
            )
            text = best_of(
                conn, f"SELECT rowid, citation, explanation FROM {table} WHERE {table} MATCH ? {window}", [expr]
            )
            print(
                f"  {' '.join(words):22} no rank {plain:7.2f} ms   bm25 {ranked:7.2f} ms   with text {text:7.2f} ms"
            )


if __name__ == "__main__":
    main()
