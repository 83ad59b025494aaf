"""`make lab` starts JupyterLab (as root too) and stops it when make is stopped.

The first run installs JupyterLab from requirements-lab.lock into the project's .venv (about a
minute, needs PyPI, as `make lab` itself does). Runs on a copy of the project.
"""
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.conftest import ROOT, copy_project


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_lab_serves_and_stops_with_make(tmp_path, venv_ready):
    project = copy_project(tmp_path)
    port = _free_port()
    env = dict(os.environ, MAKEFLAGS="")
    lab = subprocess.Popen(["make", "-s", f"VENV={ROOT / '.venv'}", "lab",
                            f"LAB_ARGS=--port={port} --no-browser --ServerApp.token= --ServerApp.ip=127.0.0.1"],
                           cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300                       # the first run installs JupyterLab
        while not _answers(port):
            assert lab.poll() is None, f"make lab ended with {lab.returncode}:\n{lab.stdout.read()}"
            assert time.monotonic() < deadline, "JupyterLab did not answer within 5 minutes"
            time.sleep(1)
        lab.send_signal(signal.SIGTERM)                         # stop the make target, as a process manager does
        lab.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _listening(port), "the server still listens after make stopped"
    finally:
        if lab.poll() is None:
            lab.kill()
        subprocess.run(["pkill", "-f", f"--port={port}"], check=False)
    output = lab.stdout.read()
    assert "Running as root is not recommended" not in output
    # What the lab installed leaves the pipeline as fast as before: jsonschema loads the optional IRI checker
    # rfc3987-syntax whenever it is installed, and building its grammar cost every `import nbformat` (each
    # stage, each test) 1.6 s. requirements-lab.lock leaves it out.
    loaded = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                             "import sys, nbformat; print(sorted({'rfc3987_syntax', 'lark'} & set(sys.modules)))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", f"{loaded} loaded with nbformat: pip uninstall rfc3987-syntax lark (not in the lab's lock)"
