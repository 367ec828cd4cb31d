#!/usr/bin/env python3
"""What AUTOINCREMENT on the events' table costs SQLite.

A loop of the transition's shape (update a case and its index, insert an
event with a unique (case, sequence) index; one commit each, WAL,
synchronous=NORMAL, a passive checkpoint every 2,000 commits), once with
the event table's id AUTOINCREMENT (every insert reads and writes
sqlite_sequence) and once with a plain rowid, alternating, three rounds.
Prints transactions per second and the log's size at the end.

Usage: scripts/autoincrement-probe.py [transactions per loop, default 20000]
"""
import os
import sqlite3
import sys
import tempfile
import time


def run(path, auto, n):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = NORMAL")
    c.execute("PRAGMA wal_autocheckpoint = 0")
    # The other tables with AUTOINCREMENT, so that sqlite_sequence holds
    # as many rows as the real schema's.
    for t in ["users", "cases_ai", "barriers", "meetings", "agenda_items",
              "webhook_subscriptions", "outbox"]:
        c.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY AUTOINCREMENT, x)")
        c.execute(f"INSERT INTO {t} (x) VALUES (1)")
    ai = "AUTOINCREMENT" if auto else ""
    c.execute(f"CREATE TABLE ev (id INTEGER NOT NULL PRIMARY KEY {ai}, case_id INT NOT NULL, "
              "seq INT NOT NULL, at INT, effect TEXT)")
    c.execute("CREATE UNIQUE INDEX ev_cs ON ev (case_id, seq)")
    c.execute("CREATE TABLE cs (id INTEGER PRIMARY KEY, version INT, holder INT, pad TEXT)")
    c.execute("CREATE INDEX cs_holder ON cs (holder, id)")
    for i in range(1, 200):
        c.execute("INSERT INTO cs VALUES (?, 1, NULL, ?)", (i, "x" * 400))
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    start = time.perf_counter()
    for i in range(n):
        case = 1 + i % 150
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE cs SET version = version + 1, holder = ? WHERE id = ?",
                  (None if i % 2 else 7, case))
        c.execute("INSERT INTO ev (case_id, seq, at, effect) VALUES (?, ?, ?, ?)",
                  (case, i, i, '{"level":"ALLIANCE"}'))
        c.execute("COMMIT")
        if i % 2000 == 1999:
            c.execute("PRAGMA wal_checkpoint(PASSIVE)")
    elapsed = time.perf_counter() - start
    wal = os.path.getsize(path + "-wal")
    c.close()
    return n / elapsed, wal


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "probe.db")
        for _ in range(3):
            for auto in (True, False):
                rate, wal = run(path, auto, n)
                name = "AUTOINCREMENT" if auto else "rowid        "
                print(f"{name} {rate:8.0f} tx/s   log {wal / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
