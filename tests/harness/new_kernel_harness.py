"""What the tests of the installed new-kernel share (tests/generator/*.py): its environment,
a conversation with it on a pseudo-terminal, and the files a run leaves. Standard library only
(those tests run with any python3, not only the one that has confluent_kafka).

A test puts this folder on its path, then imports the module:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
    import new_kernel_harness as nh  # noqa: E402

- environment(**extra): this process's environment without NEW_KERNEL_TEST_* variables (the
  hooks that inject failures: a test sets them only for the run that wants them), plus `extra`.
- converse(argv, answers, env=None, cwd=None, timeout=30): runs argv on a pseudo-terminal,
  writing the next of `answers` each time the output ends with a prompt (":"); returns (exit
  code, transcript as text). A run still going at the deadline is killed: the test fails.
- files_under(root, with_modes=False): {relative path: bytes} of every file below root (.git
  left out), or {relative path: (bytes, permission bits)}.
"""
import os
import pty
import select
import signal
import stat
import time


def environment(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEW_KERNEL_TEST_")}
    env.update(extra)
    return env


def converse(argv, answers, env=None, cwd=None, timeout=30):
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        if cwd:
            os.chdir(cwd)
        os.execve(argv[0], argv, environment() if env is None else env)
    transcript = b""
    pending = list(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal closed: the program exited
            break
        if not chunk:
            break
        transcript += chunk
        if transcript.rstrip().endswith(b":") and pending:
            os.write(fd, pending.pop(0).encode() + b"\n")
    else:
        os.kill(pid, signal.SIGKILL)  # still asking after the deadline: bounded, and the test fails
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), transcript.decode(errors="replace")


def files_under(root, with_modes=False):
    found = {}
    for directory, dirs, names in os.walk(root):
        if ".git" in dirs:
            dirs.remove(".git")
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                content = f.read()
            found[os.path.relpath(path, root)] = (
                (content, stat.S_IMODE(os.lstat(path).st_mode)) if with_modes else content)
    return found
