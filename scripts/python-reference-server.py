#!/usr/bin/env python3
"""A plain Python implementation of the assignment's server, speaking bluetrace's protocol (docs/PROTOCOL.md).

It exists to be measured beside `bluetrace server` by the same load generator (docs/BENCHMARKS.md, "Python side by
side"): asyncio on one thread, the standard library's json, and for each Download_tempID what the assignment asks of a
server — a random 20-digit TempID valid for 15 minutes, kept in memory, appended to tempIDs.txt (flushed) and shown on
the terminal. Accounts live in memory (credentials.txt semantics, no password hashing). It is a yardstick, not a
product: no blocking, no uploads, no durability beyond the text file.

    python3 scripts/python-reference-server.py PORT
"""
import asyncio
import json
import random
import struct
import sys
import time
from datetime import datetime

accounts = {}
tempids = {}
journal = open("tempIDs.txt", "a", encoding="ascii")


def stamp(seconds):
    return datetime.fromtimestamp(seconds).strftime("%d/%m/%Y %H:%M:%S")


def answer(request, session):
    kind = request.get("type")
    reply = {"v": 1, "id": request.get("id")}
    if kind == "register":
        if request["username"] in accounts:
            reply.update(type="error", code="username_taken", message="That username is taken.")
        else:
            accounts[request["username"]] = request["password"]
            reply.update(type="registered", message="Account created.")
    elif kind == "login":
        if accounts.get(request["username"]) == request["password"]:
            session["user"] = request["username"]
            reply.update(type="welcome", message="Welcome to the BlueTrace Simulator!")
        else:
            reply.update(type="error", code="invalid_password", message="Invalid Password. Please try again")
    elif "user" not in session:
        reply.update(type="error", code="not_logged_in", message="Log in first.")
    elif kind == "download_tempid":
        tempid = "%020d" % random.randrange(10**20)
        start = int(time.time())
        expiry = start + 899
        tempids[tempid] = (session["user"], start, expiry)
        journal.write(f"{session['user']} {tempid} {stamp(start)} {stamp(expiry)}\n")
        journal.flush()
        print(f"user: {session['user']}\nTempID:\n{tempid}", flush=True)
        reply.update(type="tempid", tempID=tempid, start=start, expiry=expiry)
    elif kind == "logout":
        reply.update(type="logged_out")
    else:
        reply.update(type="error", code="unknown_type", message="Unknown request.")
    return reply


async def serve(reader, writer):
    session = {}
    try:
        while True:
            header = await reader.readexactly(4)
            (length,) = struct.unpack(">I", header)
            request = json.loads(await reader.readexactly(length))
            payload = json.dumps(answer(request, session), separators=(",", ":")).encode()
            writer.write(struct.pack(">I", len(payload)) + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    print(f"listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
