"""Files and errors (issue 14): atomic, all-or-nothing writes; outputs never overwrite inputs;
one-line errors with their own exit codes (3 for internal errors); a lost Dask cluster ends the run
with one line; values beyond float64 take the exact path of certified verification.

The kill test runs a child process that writes through :mod:`symtrunc.files` with a slowed
``os.write`` and kills it with ``SIGKILL`` in the middle of the write.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from exact_reference import fraction, fraction_forward
from synthetic import clustered_sls_arrays

import symtrunc
import symtrunc.files as files
from symtrunc.cli.app import EXIT_CODES, main
from symtrunc.errors import DataError, FormatError, SymtruncError, VerificationError
from symtrunc.io.json import load_network, save_network
from symtrunc.network import ReLUNetwork

ROOT = Path(__file__).resolve().parent.parent
WORKED = "2,0,1\n3,0,1\n2,1,1\n3,1,1\n0,2,2\n0,3,2\n1,2,2\n1,3,2\n"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    """The single line of ``err`` (asserts there is exactly one, and no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary or backup files of the atomic writer left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.suffix in (".tmp", ".old"))


@pytest.fixture
def worked(tmp_path: Path) -> tuple[Path, Path]:
    """``(d.csv, n.json)``: the worked example and a network constructed for it."""
    data = tmp_path / "d.csv"
    data.write_text(WORKED, encoding="utf-8")
    net = tmp_path / "n.json"
    assert main(["construct", str(data), "-o", str(net), "-q"]) == 0
    return data, net


# =========================================================================== atomic writes
_CHILD = """
import os, sys, time
import symtrunc.files as files

real_write = os.write
started = []

def slow_write(fd, data):
    if not started:
        started.append(1)
        sys.stdout.write("writing\\n")
        sys.stdout.flush()
    time.sleep(0.004)
    return real_write(fd, bytes(data[:32768]))

os.write = slow_write
files.atomic_write(sys.argv[1], b"new " * (int(sys.argv[2]) // 4))
sys.stdout.write("done\\n")
"""


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="anonymous temporary files (O_TMPFILE) are Linux only")
def test_sigkill_while_writing_keeps_the_previous_file_and_leaves_no_temporary_file(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(_CHILD, encoding="utf-8")
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "net.json"
    old = b'{"the": "previous network"}\n'
    size = 1 << 20  # 32 slowed writes of 32 KiB: >= 0.13 s of writing
    kept = 0
    for k in range(10):
        target.write_bytes(old)
        child = subprocess.Popen(
            [sys.executable, str(script), str(target), str(size)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
        time.sleep(0.01 * k)  # 0 .. 90 ms into the write
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        assert target.read_bytes() == old  # intact, never truncated or half new
        assert sorted(p.name for p in folder.iterdir()) == ["net.json"]  # no temporary file
        kept += 1
    assert kept == 10
    # unkilled, the same child replaces the file whole
    subprocess.run(
        [sys.executable, str(script), str(target), "4000"],
        check=True,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert target.read_bytes() == b"new " * 1000 and leftovers(folder) == []


@pytest.mark.parametrize("anonymous", [True, False], ids=["O_TMPFILE", "named temporary file"])
def test_interrupted_write_keeps_the_previous_file_and_removes_the_temporary_file(tmp_path, monkeypatch, anonymous):
    if not anonymous:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE here")
    target = tmp_path / "n.json"
    target.write_text("old")
    calls = []

    def interrupted(fd, data):
        calls.append(len(data))
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, "new" * 1000)
    monkeypatch.undo()
    assert calls and target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.json"]


def test_write_files_is_all_or_nothing(tmp_path, monkeypatch):
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    a.write_text("old a")
    b.write_text("old b")
    real_replace = os.replace

    def fail_on_c(src, dst):
        if Path(dst) == c:
            raise OSError(errno.ENOSPC, "No space left on device", str(src))
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", fail_on_c)
    with pytest.raises(OSError) as info:
        files.write_files({a: "new a", b: "new b", c: "new c"})
    monkeypatch.undo()
    assert info.value.filename == str(c)  # the target, not the temporary file
    assert (a.read_text(), b.read_text(), c.exists()) == ("old a", "old b", False)
    assert leftovers(tmp_path) == []
    # a new file that had been renamed into place is removed again
    monkeypatch.setattr(files.os, "replace", fail_on_c)
    new = tmp_path / "new.json"
    with pytest.raises(OSError):
        files.write_files({new: "x", c: "y"})
    monkeypatch.undo()
    assert not new.exists() and leftovers(tmp_path) == []
    assert [p.name for p in files.write_files({a: "A", c: "C"})] == ["a.json", "c.json"]
    assert (a.read_text(), c.read_text()) == ("A", "C")
    alias = tmp_path / "alias.json"
    os.link(a, alias)
    with pytest.raises(DataError, match="named twice"):
        files.write_files({a: "1", alias: "2"})
    assert a.read_text() == "A"


def test_a_symbolic_link_is_kept_and_its_file_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    real.chmod(0o640)
    files.atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o640  # the permissions of the replaced file are kept


def test_write_errors_name_the_target(tmp_path, monkeypatch):
    target = tmp_path / "n.json"
    real_open = os.open

    def denied(path, flags, mode=0o777, **kwargs):
        if tmp_path in (Path(path), Path(path).parent):  # O_TMPFILE opens the directory
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(files.os, "open", denied)
    with pytest.raises(PermissionError) as info:
        files.atomic_write(target, "x")
    assert info.value.filename == str(target)
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError) as info:
        files.check_writable(target)
    assert info.value.filename == str(target)
    monkeypatch.undo()
    assert leftovers(tmp_path) == [] and not target.exists()
    with pytest.raises(FormatError, match="is a directory"):
        files.atomic_write(tmp_path, "x")
    with pytest.raises(FormatError, match="no such directory"):
        files.atomic_write(tmp_path / "nodir" / "n.json", "x")


def test_cli_permission_error_names_the_target(worked, capsys, monkeypatch):
    data, net = worked
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    code, _, err = run(capsys, "construct", data, "-o", net.parent / "m.json")
    assert code == 2
    line = one_line(err)
    assert line.endswith("m.json") and "Permission denied" in line and ".tmp" not in line


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory_is_refused_before_any_work(worked, capsys, tmp_path):
    data, _ = worked
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        code, _, err = run(capsys, "construct", data, "-o", ro / "n.json")
    finally:
        ro.chmod(0o700)
    assert code == 2 and str(ro / "n.json") in one_line(err)


def _writes_a_file(node: ast.Call) -> str | None:
    """What ``node`` writes to a named file without :mod:`symtrunc.files`, or None."""
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
    args = [a.id if isinstance(a, ast.Name) else None for a in node.args]
    if name in {"write_text", "write_bytes", "tofile", "save_file"} or (owner, name) in {
        ("os", "replace"),
        ("os", "rename"),
        ("shutil", "copy"),
        ("shutil", "copy2"),
        ("shutil", "copyfile"),
    }:
        return name
    if name == "open":  # open(path, "w") or path.open("w")
        modes = node.args[1:2] if isinstance(f, ast.Name) else node.args[:1]
        modes += [k.value for k in node.keywords if k.arg == "mode"]
        if any(isinstance(m, ast.Constant) and isinstance(m.value, str) and set(m.value) & set("wax+") for m in modes):
            return "open for writing"
    # in-memory buffers are fine: np.savez(buf, ...), torch.save(sd, buf), fig.savefig(image, ...)
    if owner == "np" and name.startswith("save") and args[:1] != ["buf"]:
        return f"np.{name}"
    if (owner, name) == ("torch", "save") and args[1:2] != ["buf"]:
        return "torch.save"
    if name == "savefig" and args[:1] != ["image"]:
        return "savefig"
    return None


def test_every_file_write_of_the_package_goes_through_symtrunc_files():
    """No ``write_text``, ``open(..., "w")``, rename, ``np.save(path)`` or ``savefig(path)`` elsewhere."""
    offenders = []
    for path in sorted((ROOT / "symtrunc").rglob("*.py")):
        if path == ROOT / "symtrunc" / "files.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            what = _writes_a_file(node) if isinstance(node, ast.Call) else None
            if what:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {what}")
    assert offenders == []


# =========================================================================== the CLI writes nothing on failure
def test_construct_with_an_unwritable_certificate_writes_nothing(worked, capsys):
    data, net = worked
    before = net.read_bytes()
    code, _, err = run(capsys, "construct", data, "-o", net, "--certificate", net.parent / "nodir" / "c.json")
    assert code == 2 and "nodir" in one_line(err)
    assert net.read_bytes() == before
    fresh = net.parent / "fresh.json"
    code, _, err = run(capsys, "construct", data, "-o", fresh, "--certificate", net.parent / "nodir" / "c.json")
    assert code == 2 and not fresh.exists() and leftovers(net.parent) == []


def test_construct_failing_late_writes_nothing(worked, capsys, monkeypatch):
    """A certificate that fails after the network was built: neither file is written."""
    import symtrunc.cli.construct as construct_cli

    data, net = worked
    cert = net.parent / "c.json"

    def broken_verify(*args, **kwargs):
        raise VerificationError("zero loss fails at point 0")

    monkeypatch.setattr(construct_cli, "verify", broken_verify)
    code, _, err = run(capsys, "construct", data, "-o", net.parent / "m.json", "--certificate", cert)
    assert code == 1 and one_line(err)
    assert not (net.parent / "m.json").exists() and not cert.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["construct", "{d}", "-o", "{d}"],
        ["construct", "{d}", "-o", "{n}", "--certificate", "{d}"],
        ["construct", "{d}", "-o", "{n}", "--certificate", "{n}"],
        ["construct", "{d}", "-o", "{dir}/../{dirname}/d.csv"],
        ["construct", "{d}", "-o", "{link}"],
        ["verify", "{n}", "{d}", "--certificate", "{d}"],
        ["verify", "{n}", "{d}", "--certificate", "{n}"],
        ["latex", "{n}", "{d}", "-o", "{n}"],
        ["explain", "{n}", "{d}", "--json", "{d}"],
        ["export", "{n}", "--to", "json", "-o", "{n}"],
        ["import", "{n}", "-o", "{n}"],
        ["plot", "{n}", "{d}", "-o", "{d}"],
    ],
    ids=lambda a: " ".join(a),
)
def test_an_output_equal_to_an_input_is_refused(worked, capsys, args):
    if args[0] == "plot":
        pytest.importorskip("matplotlib")
    data, net = worked
    link = net.parent / "hardlink.csv"
    os.link(data, link)
    before = {p: p.read_bytes() for p in (data, net)}
    fill = {"d": data, "n": net, "dir": data.parent, "dirname": data.parent.name, "link": link}
    code, _, err = run(capsys, *[a.format(**fill) for a in args])
    assert code == 2
    line = one_line(err)
    assert "overwrite the input file" in line or "name the same file" in line, line
    assert {p: p.read_bytes() for p in before} == before and leftovers(data.parent) == []


def _slow_failing_write(monkeypatch):
    """Make every atomic write fail half-way (as a kill or Ctrl-C would)."""

    def interrupted(fd, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_write_all", interrupted)


@pytest.mark.parametrize(
    "command",
    [
        ["construct", "{d}", "-o", "{out}.npz"],  # the network format follows the extension
        ["construct", "{d}", "-o", "{n}", "--certificate", "{out}"],
        ["verify", "{n}", "{d}", "--certificate", "{out}"],
        ["latex", "{n}", "{d}", "-o", "{out}"],
        ["explain", "{n}", "{d}", "--json", "{out}", "-q"],
        ["export", "{n}", "--to", "npz", "-o", "{out}.npz", "-q"],
        ["plot", "{n}", "{d}", "-o", "{out}.png"],
        ["prove", "base_points", "-o", "{out}"],
    ],
    ids=lambda a: a[0] + (" --certificate" if "--certificate" in a else ""),
)
def test_every_command_writes_through_the_atomic_writer(worked, capsys, monkeypatch, command):
    if command[0] == "plot":
        pytest.importorskip("matplotlib")
    data, net = worked
    out = data.parent / "out"
    for target in (out, Path(f"{out}.png"), Path(f"{out}.npz")):
        target.write_bytes(b"previous")
    before = net.read_bytes()
    _slow_failing_write(monkeypatch)
    code, _, err = run(capsys, *[a.format(d=data, n=net, out=out) for a in command])
    assert code == 130 and one_line(err) == "symtrunc: interrupted"
    assert out.read_bytes() == b"previous" and Path(f"{out}.png").read_bytes() == b"previous"
    assert Path(f"{out}.npz").read_bytes() == b"previous"
    assert net.read_bytes() == before and leftovers(data.parent) == []


# =========================================================================== exit codes, one-line errors
def test_internal_error_has_its_own_exit_code_and_one_line(worked, capsys, monkeypatch):
    import symtrunc.cli.info as info_cli

    _, net = worked

    def bug(*args, **kwargs):
        raise RuntimeError("an invariant broke\nsecond line of details")

    monkeypatch.setattr(info_cli, "describe_network", bug)
    monkeypatch.delenv("SYMTRUNC_TRACEBACK", raising=False)
    code, _, err = run(capsys, "info", net)
    assert code == 3 and EXIT_CODES[3].startswith("internal error")
    line = one_line(err)
    assert line.startswith("symtrunc: internal error: RuntimeError: an invariant broke (a bug in symtrunc")
    assert "report" in line
    monkeypatch.setenv("SYMTRUNC_TRACEBACK", "1")
    code, _, err = run(capsys, "info", net)
    assert code == 3 and "Traceback" in err and "second line of details" in err


def test_internal_error_exit_code_of_python_dash_m_symtrunc(worked, tmp_path):
    """A real ``python -m symtrunc`` process: a bug (injected by sitecustomize) exits 3 with one line."""
    _, net = worked
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        textwrap.dedent("""
        import symtrunc.network

        def summary(self):
            raise ZeroDivisionError("injected bug")

        symtrunc.network.ReLUNetwork.__str__ = summary
    """),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "SYMTRUNC_TRACEBACK"}
    env["PYTHONPATH"] = os.pathsep.join([str(hooks), str(ROOT)])
    proc = subprocess.run(
        [sys.executable, "-m", "symtrunc", "info", str(net)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert one_line(proc.stderr).startswith("symtrunc: internal error: ZeroDivisionError: injected bug")
    ok = subprocess.run(
        [sys.executable, "-m", "symtrunc", "info", str(net)],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        timeout=120,
    )
    assert ok.returncode == 0 and ok.stderr == ""


# =========================================================================== Dask
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_dask_address_is_one_line(worked, capsys):
    pytest.importorskip("distributed")
    data, net = worked
    code, _, err = run(capsys, "verify", net, data, "--certified", "--dask", "::::")
    assert code == 2 and one_line(err).startswith("symtrunc: error: not a Dask scheduler address: '::::'")
    t0 = time.monotonic()
    code, _, err = run(
        capsys, "verify", net, data, "--certified", "--dask", f"tcp://127.0.0.1:{_free_port()}", "--dask-timeout", "1"
    )
    assert code == 2 and "cannot connect to the Dask scheduler" in one_line(err)
    assert time.monotonic() - t0 < 30
    code, _, err = run(capsys, "verify", net, data, "--certified", "--dask", "tcp://127.0.0.1:1", "--dask-timeout", "0")
    assert code == 2 and "--dask-timeout must be positive" in one_line(err)


def test_a_cluster_without_workers_times_out_with_one_line(worked, capsys):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    data, net = worked
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        t0 = time.monotonic()
        code, _, err = run(
            capsys, "verify", net, data, "--certified", "--dask", cluster.scheduler_address, "--dask-timeout", "1"
        )
        elapsed = time.monotonic() - t0
    assert code == 2, err
    assert "has had no worker for 1 s" in one_line(err)
    assert elapsed < 30


def test_a_cluster_with_a_worker_verifies(worked, capsys, tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    data, net = worked
    cert = tmp_path / "c.json"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code, out, err = run(
            capsys, "verify", net, data, "--certified", "--dask", cluster.scheduler_address, "--certificate", cert
        )
    assert code == 0 and err == "", err
    assert json.loads(cert.read_text())["n_points"] == 8


def _start_cluster(tmp_path: Path) -> tuple[subprocess.Popen, subprocess.Popen, str]:
    """A scheduler and one single-threaded worker in their own processes; returns their address."""
    info = tmp_path / "scheduler.json"
    logs = open(tmp_path / "cluster.log", "wb")  # noqa: SIM115 (closed with the processes)
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        ],
        stdout=logs,
        stderr=logs,
    )
    for _ in range(300):
        if info.exists() and info.stat().st_size:
            break
        time.sleep(0.1)
    address = json.loads(info.read_text())["address"]
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
        ],
        stdout=logs,
        stderr=logs,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    logs.close()
    return scheduler, worker, address


@pytest.fixture
def long_job(tmp_path):
    """A network and 10^7 points (uint8) whose certified verification takes well over 8 s on a Dask cluster."""
    # 400 distinct points, each repeated 1000 times: the network is built on exactly the points it
    # is verified on (a network built on a subsample need not interpolate the other points)
    Xs, ys = clustered_sls_arrays(400, 16, 4, seed=1)
    X, y = np.tile(Xs, (25000, 1)).astype(np.uint8), np.tile(ys, 25000).astype(np.uint8)
    net = symtrunc.construct(symtrunc.LabeledData.from_arrays(Xs, ys.tolist()))
    save_network(net, tmp_path / "net.json")
    np.save(tmp_path / "big.npy", np.hstack([X, y[:, None]]))
    return tmp_path / "net.json", tmp_path / "big.npy"


@pytest.mark.slow
@pytest.mark.parametrize("lost", ["worker", "scheduler"])
def test_losing_the_dask_cluster_mid_run_ends_with_one_line(tmp_path, long_job, lost):
    pytest.importorskip("distributed")
    net, data = long_job
    scheduler, worker, address = _start_cluster(tmp_path)
    try:
        time.sleep(3)  # the worker registers
        run_ = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "symtrunc",
                "verify",
                str(net),
                str(data),
                "--certified",
                "--chunk-size",
                "2000",
                "-q",
                "--dask",
                address,
                "--dask-timeout",
                "5",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        time.sleep(8)
        assert run_.poll() is None, run_.communicate()
        (worker if lost == "worker" else scheduler).kill()
        t0 = time.monotonic()
        out, err = run_.communicate(timeout=120)
        waited = time.monotonic() - t0
    finally:
        for p in (scheduler, worker):
            p.kill()
            p.wait()
    assert run_.returncode == 2, err
    line = one_line(err)
    assert ("has had no worker for 5 s" if lost == "worker" else "lost the Dask scheduler") in line, line
    assert waited < 60


# =========================================================================== beyond float64
B = 10**400


def _huge_network(shift: str = "0") -> ReLUNetwork:
    """``s = (relu(B(x-1)) - relu(B(x-2)))/B`` and outputs ``(1 - s, s + shift)``, ``B = 10^400``
    (inputs ``(x, 1)``: the second coordinate keeps the class means independent)."""
    return ReLUNetwork.from_rows(
        [
            ([[B, 0], [B, 0]], [-B, -2 * B], "relu"),
            ([[Fraction(-1, B), Fraction(1, B)], [Fraction(1, B), Fraction(-1, B)]], [1, shift], "identity"),
        ],
        classes=("a", "b"),
    )


HUGE_CSV = "-1e309,1,a\n0,1,a\n1,1,a\n2,1,b\n3,1,b\n1e309,1,b\n"


def _first_failure(net: ReLUNetwork, points: list[str], labels: list[str]) -> int | None:
    outs = fraction_forward(net, [[fraction(p), 1] for p in points])
    targets = {"a": [1, 0], "b": [0, 1]}
    bad = [i for i, (o, c) in enumerate(zip(outs, labels)) if o != targets[c]]
    return bad[0] if bad else None


def test_certified_verification_takes_the_exact_path_beyond_float64(tmp_path, capsys):
    points = [line.split(",")[0] for line in HUGE_CSV.split()]
    labels = [line.split(",")[2] for line in HUGE_CSV.split()]
    data = tmp_path / "huge.csv"
    data.write_text(HUGE_CSV, encoding="utf-8")
    good = tmp_path / "good.json"
    save_network(_huge_network(), good)
    assert _first_failure(load_network(good), points, labels) is None  # independent Fraction check
    cert = symtrunc.verify(load_network(good), data, method="certified", invariants=False)
    assert cert.n_points == 6 and cert.extra["points_exact"] >= 1
    code, out, err = run(capsys, "verify", good, data, "--certified", "--no-invariants")
    assert code == 0 and err == "", err
    # every check can fail: a shifted output fails at the point the Fraction forward pass names
    bad = _huge_network("1/3")
    expected = _first_failure(bad, points, labels)
    assert expected == 0
    with pytest.raises(VerificationError) as info:
        symtrunc.verify(bad, data, method="certified", invariants=False)
    assert info.value.counterexample.point == expected
    save_network(bad, tmp_path / "bad.json")
    code, _, err = run(capsys, "verify", tmp_path / "bad.json", data, "--certified", "--no-invariants")
    assert code == 1 and "point 0" in one_line(err)


def test_map_chunks_raises_symtrunc_errors_for_a_lost_cluster():
    """The library raises :class:`SymtruncError` (no hang) for a cluster without workers."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from symtrunc.data.stream import map_chunks, open_source

    src = open_source(np.arange(12).reshape(6, 2), labels=[0] * 6)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.raises(SymtruncError, match="no worker for 0.5 s"):
            map_chunks(len, src, chunk_size=2, client=client, timeout=0.5)


def test_export_refuses_to_overwrite_its_data_and_a_mismatched_extension(worked, capsys):
    data, net = worked
    before = data.read_bytes()
    code, _, err = run(capsys, "export", str(net), "--to", "onnx", "--data", str(data), "-o", str(data))
    assert code == 2 and "overwrite the input file" in one_line(err) and data.read_bytes() == before
    out = data.parent / "net.csv"
    code, _, err = run(capsys, "export", str(net), "--to", "onnx", "-o", str(out))
    assert code == 2 and "unknown network file extension" in one_line(err) and not out.exists()
    out = data.parent / "net.npz"
    code, _, err = run(capsys, "export", str(net), "--to", "onnx", "-o", str(out))
    assert code == 2 and "--to asks for onnx" in one_line(err) and not out.exists()


def test_verify_says_what_it_checked(worked, capsys):
    """Metadata is shown as unchecked; skipped layer invariants are said, with the reason."""
    data, net = worked
    doc = json.loads(net.read_text())
    doc["construction"]["theorem"] = "Riemann hypothesis (proved here)"
    net.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "verify", str(net), str(data))
    assert (
        code == 0 and "recorded:  Riemann hypothesis (proved here) (the file's construction record; not checked)" in out
    )
    assert "verified:  zero loss and every layer invariant" in out
    code, out, _ = run(capsys, "verify", str(net), str(data), "--no-invariants")
    assert code == 0 and "layer invariants not requested" in out
    M = len(doc["layers"][0]["W"][0])  # an identity ReLU layer in front: same function, no truncation structure
    eye = {"W": [["1" if i == j else "0" for j in range(M)] for i in range(M)], "b": ["0"] * M, "activation": "relu"}
    doc["layers"].insert(0, eye)
    del doc["construction"]
    net.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "verify", str(net), str(data))
    assert code == 0 and "verified:  zero loss (exact arithmetic" in out and "layer invariants not checked" in out
