"""HTTP: requests per second on the inbox page (logged in, 可认领 with a few hundred tasks) served by gunicorn
with 2 workers, against a bare Flask hello-world under the same gunicorn, both loaded by ``wrk`` (Debian
package) with the same connections and duration. Target: the inbox reaches ≥ 50 % of the hello-world rate."""
import argparse
import html
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from tests.bench.harness import PG_URL, ROOT, BenchDatabase, emit, ratio_result

TARGET = 0.5
PASSWORD = "Zjrj@-2007"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app_spec, env, port):
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "2", "-b",
                             f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
                            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-2000:])
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def login_cookie(base, username):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = html.unescape(re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1))
    data = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD}).encode()
    opener.open(f"{base}/login", data)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url, seconds, connections, cookie=None):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise RuntimeError(f"{url}: {bad.group(1)} failed answers\n{out}")
    return rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk; make bench installs it)")
    database = BenchDatabase(args.db)
    try:
        database.app()
        database.load()
        from tests.bench.inbox import generate
        generate(database, 3000, 300)
        from sqlalchemy import text
        with database.engine.begin() as conn:
            conn.execute(text("UPDATE users SET password_change_reason = NULL, real_name_verified = :yes "
                              "WHERE username = 'jaadmin01'"), {"yes": True})
        url = database.url if database.kind == "sqlite" else \
            f"{PG_URL}?options=-csearch_path%3D{database.schema}"
        env = {"DATABASE_URL": url, "INSTANCE_PATH": database.tmp_dir, "SECRET_KEY": "b" * 40,
               "APP_ENV": "production", "LOGIN_RATE_LIMIT": "100000 per minute", "EMBEDDED_SCHEDULER": "0"}
        port = free_port()
        app = serve("wsgi:app", env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = login_cookie(base, "jaadmin01")
            page = f"{base}/inbox/?view=claimable"
            check = urllib.request.Request(page, headers={"Cookie": cookie})
            assert "可认领" in urllib.request.urlopen(check).read().decode()
            wrk(page, 2, args.connections, cookie)                      # warm-up
            inbox_rate = wrk(page, args.seconds, args.connections, cookie)
        finally:
            app.terminate()
            app.wait(10)
        port = free_port()
        hello = serve("tests.bench.hello:app", {}, port)
        try:
            wrk(f"http://127.0.0.1:{port}/", 2, args.connections)
            hello_rate = wrk(f"http://127.0.0.1:{port}/", args.seconds, args.connections)
        finally:
            hello.terminate()
            hello.wait(10)
        emit([ratio_result(f"http: inbox page under gunicorn -w 2 ({args.db})", inbox_rate, hello_rate,
                           "requests/s", TARGET, f"wrk -t2 -c{args.connections} -d{args.seconds}s; floor: Flask "
                           "hello-world under the same gunicorn", higher_is_better=True)])
    finally:
        database.close()


if __name__ == "__main__":
    main()
