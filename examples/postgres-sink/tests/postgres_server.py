"""A throwaway PostgreSQL server for the tests: initdb in a temporary directory, listening on
127.0.0.1 only, stopped and removed afterwards. PostgreSQL refuses to run as root, so as root
(CI) the server runs as the `postgres` user that Debian's postgresql package creates."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def server_binaries():
    """The directory of initdb and pg_ctl: $POSTGRES_BIN, else PATH, else the newest
    /usr/lib/postgresql/<version>/bin (where Debian installs them, off PATH)."""
    if os.environ.get("POSTGRES_BIN"):
        return os.environ["POSTGRES_BIN"]
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return os.path.dirname(on_path)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("initdb not found: apt-get install postgresql-15, or set POSTGRES_BIN")
    return os.path.dirname(found[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self):
        self.bin = server_binaries()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="postgres-sink-db-")
        self.data = os.path.join(self.dir, "data")
        self.as_user = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=5"
        self.start()

    def _run(self, program, *args):
        subprocess.run([*self.as_user, os.path.join(self.bin, program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self):
        # fsync off: the tests stop the server on purpose, never the machine.
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.dir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "server.log"), "-o", options, "-w",
                  "-t", "60", "start")

    def stop(self):
        """A fast shutdown: open connections are ended, as when a database restarts."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def psql(self, *args):
        """Runs psql with `args` (`-c SQL` or `-f FILE`) and returns its unaligned output."""
        done = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", self.url, *args],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"psql {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def query(self, sql):
        return self.psql("-c", sql)

    def remove(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)
