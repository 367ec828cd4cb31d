#!/usr/bin/env python3
"""The client of scripts/instructions.sh: one keep-alive connection.

Usage: instructions-client.py PORT PROFESSIONAL-TOKEN BUREAU-TOKEN N.
Submits a case, warms up with 200 bare requests and 200 transitions,
then zeroes callgrind's counters, sends N bare requests, dumps (part 1),
sends N transitions (pick up, release, alternately), dumps (part 2).
"""

import http.client
import json
import subprocess
import sys

port, prof, bureau, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port)


def gql(token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}})
    conn.request("POST", "/graphql", body,
                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    if "errors" in answer:
        sys.exit(f"the server refused: {answer['errors']}")
    return answer["data"]


case = gql(prof, "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { id } }", {"i": {
    "title": "Een zaak om te meten", "description": "Zonder persoonsgegevens.",
    "focusArea": "ZDO", "domains": ["OTHER"],
    "rule": {"citation": "Regeling art. 1", "scope": "MUNICIPAL"},
    "desiredAction": "Meten hoeveel werk een transitie is.", "urgency": "NORMAL"}})["submitCase"]["id"]
version = 1


def move():
    global version
    field = "pickUpCase" if version % 2 == 1 else "releaseCase"
    gql(bureau, "mutation($id: ID!, $v: Int!) { %s(id: $id, expectedVersion: $v) { version } }" % field,
        {"id": case, "v": version})
    version += 1


def bare():
    gql(bureau, "{ __typename }")


def control(flag):
    subprocess.run(["callgrind_control", flag], check=True, capture_output=True)


for _ in range(200):
    bare()
    move()
control("-z")
for _ in range(n):
    bare()
control("-d")
for _ in range(n):
    move()
control("-d")
