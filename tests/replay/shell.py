"""A learner's terminal for the replay: one long-lived bash that keeps its working
directory and variables (DB_IP=...) from one command to the next, like a real one.

`Shell(["bash"])` runs here; `Shell(["docker", "exec", "-i", ..., "bash", "-l"])` runs in
the stand-in VM. Each command reads no stdin and ends with a marker line that carries
its exit status.
"""

import queue
import subprocess
import threading
import time
import uuid

MARK = "__replay_done_" + uuid.uuid4().hex


class Shell:
    def __init__(self, argv, cwd=None, env=None):
        self.argv, self.cwd, self.env = argv, cwd, env
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            text=True,
            bufsize=1,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        # Job control, so that a background job gets its own process group and receives
        # SIGINT like a foreground program in a terminal would (Ctrl+C).
        self.run("set -m; exec 2>&1", timeout=10)

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def run(self, command, timeout=300):
        """(exit status, output) of one command; raises TimeoutError if it hangs."""
        # An incomplete command (an unclosed quote) would leave the shell waiting for
        # the rest of it: refuse it here instead.
        if subprocess.run(["bash", "-n", "-c", command], capture_output=True).returncode:
            raise ValueError(f"not a complete shell command: {command!r}")
        self.process.stdin.write(f"{{ {command}\n}} </dev/null\nprintf '\\n{MARK} %s\\n' $?\n")
        self.process.stdin.flush()
        output, deadline = [], time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"{command!r} did not finish in {timeout} s") from None
            if line is None:
                raise RuntimeError(f"the shell exited during {command!r}:\n{''.join(output)}")
            if line.startswith(MARK):
                return int(line.split()[1]), "".join(output).rstrip("\n")
            output.append(line)

    def retry(self, command, seconds):
        """Run until it succeeds or `seconds` have passed, as a learner would."""
        deadline = time.monotonic() + seconds
        while True:
            status, output = self.run(command)
            if status == 0 or time.monotonic() > deadline:
                return status, output
            time.sleep(1)

    def background(self, command, log):
        """Start a command as a background job (the learner's second terminal)."""
        return self.run(f"{command} >{log} 2>&1 & BACKGROUND_JOB=$!")

    def ctrl_c(self):
        """Ctrl+C to the background job: SIGINT to its process group; wait for it."""
        return self.run('kill -INT -- "-$BACKGROUND_JOB" && wait "$BACKGROUND_JOB"', timeout=30)

    def reopen(self):
        """A new terminal, as after the machine restarted (the old one ended with it)."""
        self.close()
        self.__init__(self.argv, self.cwd, self.env)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
