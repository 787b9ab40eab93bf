# SPDX-License-Identifier: BSD-2-Clause
"""sbctl against a fresh SQLite database: db init, then user add / list / passwd / rm, checking
the rows with Python's own sqlite3 module and the hashes with hashlib.

Environment: SB_SBCTL (default <repo>/build/sbctl, else the sbctl next to SB_BINARY).
"""
import hashlib
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def sbctl_path():
    if os.environ.get("SB_SBCTL"):
        return Path(os.environ["SB_SBCTL"])
    for cand in [REPO / "build" / "sbctl",
                 Path(os.environ.get("SB_BINARY", REPO / "build-test" / "switchboard")).parent
                 / "sbctl"]:
        if cand.exists():
            return cand
    return REPO / "build" / "sbctl"


SBCTL = sbctl_path()


def run(*args, db=None, env=None, cwd=None, check=True):
    cmd = [str(SBCTL)]
    if db:
        cmd += ["-d", db]
    cmd += list(args)
    e = dict(os.environ)
    e.pop("SB_DB_URL", None)
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=e, cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
    return p


@pytest.fixture
def db(tmp_path):
    if not SBCTL.exists():
        pytest.skip(f"sbctl not built at {SBCTL}")
    path = tmp_path / "sub" / "sb.db"
    return path, f"sqlite://{path}"


def rows(path, sql, *params):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def h(alg, s):
    return hashlib.new(alg, s.encode()).hexdigest()


def test_db_init_creates_versioned_tables(db):
    path, url = db
    out = run("db", "init", url).stdout
    assert "subscriber" in out and "created" in out
    assert path.exists()  # the missing directory was created too
    assert dict(rows(path, "SELECT table_name, table_version FROM version")) == {
        "subscriber": 8, "location": 1013}
    cols = [r[1] for r in rows(path, "PRAGMA table_info(location)")]
    assert cols == ["contact_id", "username", "domain", "contact", "received", "path", "expires",
                    "q", "callid", "cseq", "last_modified", "flags", "cflags", "user_agent",
                    "socket", "methods", "sip_instance", "kv_store", "attr"]
    cols = [r[1] for r in rows(path, "PRAGMA table_info(subscriber)")]
    assert cols == ["id", "username", "domain", "password", "email_address", "ha1", "ha1_sha256",
                    "ha1_sha512t256", "rpid"]
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]
    # idempotent, and the JSON form reports every table as up to date
    again = json.loads(run("--json", "db", "init", url).stdout)
    assert {t["table"]: t["state"] for t in again["tables"]} == {"subscriber": "ok",
                                                                  "location": "ok"}


def test_db_version_mismatch_is_an_error(db):
    path, url = db
    run("db", "init", url)
    con = sqlite3.connect(path)
    con.execute("UPDATE version SET table_version = 1012 WHERE table_name = 'location'")
    con.commit()
    con.close()
    p = run("db", "init", url, check=False)
    assert p.returncode == 1
    assert "location has version 1012, this build expects 1013" in p.stderr
    p = run("db", "migrate", url, check=False)
    assert p.returncode == 1
    assert "no upgrade from version 1012 to 1013" in p.stderr


def test_user_lifecycle(db):
    path, url = db
    run("db", "init", url)
    assert run("user", "add", "alice@example.com", "secret", db=url).stdout.strip() == \
        "added alice@example.com"
    run("user", "add", "bob@example.org", "pw2", env={"SB_DB_URL": url})
    (user, dom, pw, ha1, ha256, ha512), = rows(
        path, "SELECT username, domain, password, ha1, ha1_sha256, ha1_sha512t256 FROM subscriber "
        "WHERE username = 'alice'")
    assert (user, dom, pw) == ("alice", "example.com", "secret")
    assert ha1 == h("md5", "alice:example.com:secret")
    assert ha256 == h("sha256", "alice:example.com:secret")
    assert ha512 == h("sha512_256", "alice:example.com:secret")

    dup = run("user", "add", "alice@example.com", "x", db=url, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr

    listed = json.loads(run("--json", "user", "list", db=url).stdout)
    assert [(u["username"], u["domain"]) for u in listed] == [("alice", "example.com"),
                                                              ("bob", "example.org")]
    assert run("user", "list", "example.org", db=url).stdout.split() == ["bob@example.org"]

    run("user", "passwd", "alice@example.com", "n3w", db=url)
    assert rows(path, "SELECT password, ha1 FROM subscriber WHERE username = 'alice'") == [
        ("n3w", h("md5", "alice:example.com:n3w"))]
    missing = run("user", "passwd", "carol@example.com", "x", db=url, check=False)
    assert missing.returncode == 1 and "no user carol@example.com" in missing.stderr

    run("user", "rm", "alice@example.com", db=url)
    assert rows(path, "SELECT username FROM subscriber") == [("bob",)]
    again = run("user", "rm", "alice@example.com", db=url, check=False)
    assert again.returncode == 1


def test_default_url_is_run_dir(db, tmp_path):
    run("db", "init", cwd=tmp_path)
    assert (tmp_path / "run" / "switchboard.db").exists()
    run("user", "add", "dave@example.net", "pw", cwd=tmp_path)
    assert rows(tmp_path / "run" / "switchboard.db", "SELECT username FROM subscriber") == [
        ("dave",)]


def test_bad_input(db):
    path, url = db
    p = run("user", "add", "no-at-sign", "pw", db=url, check=False)
    assert p.returncode == 2 and "USER@DOMAIN" in p.stderr
    p = run("user", "list", db="mysql://u:secretpw@h/db", check=False)
    assert p.returncode == 1
    assert 'needs loadmodule "db_mysql.so"' in p.stderr and "secretpw" not in p.stderr
    p = run("user", "list", db=url, check=False)  # no directory
    assert p.returncode == 1 and "unable to open database file" in p.stderr
    path.parent.mkdir()
    p = run("user", "list", db=url, check=False)  # no schema yet
    assert p.returncode == 1 and "no such table: subscriber" in p.stderr
