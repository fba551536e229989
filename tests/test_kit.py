"""The offline install kit: wheels for every target, checksums, and an install that needs
no network."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import pytest

from assemblymesh import kit
from assemblymesh.errors import UsageError


def test_targets_and_their_platform_tags() -> None:
    assert [t.name for t in kit.targets()] == [
        f"linux-{arch}-cp{py.replace('.', '')}" for arch in kit.ARCHES for py in kit.PYTHONS
    ]
    tags = kit.Target("aarch64", "3.12").platform_tags("2.28")
    assert tags[0] == "manylinux_2_28_aarch64" and "manylinux_2_17_aarch64" in tags
    assert "manylinux2014_aarch64" in tags and "manylinux_2_16_aarch64" not in tags
    assert "manylinux1_x86_64" in kit.Target("x86_64", "3.11").platform_tags("2.28")
    with pytest.raises(UsageError, match="unknown platform"):
        kit.targets(["riscv64"])
    with pytest.raises(UsageError, match="not a Python version"):
        kit.targets(pythons=["twelve"])


@pytest.mark.parametrize(
    ("filename", "target", "fits"),
    [
        ("pycrdt-0.14.13-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
         kit.Target("x86_64", "3.13"), True),
        ("pycrdt-0.14.13-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
         kit.Target("aarch64", "3.13"), False),
        ("msgpack-1.1.2-cp312-cp312-manylinux_2_28_aarch64.whl",
         kit.Target("aarch64", "3.12"), True),
        ("msgpack-1.1.2-cp312-cp312-manylinux_2_28_aarch64.whl",
         kit.Target("aarch64", "3.13"), False),
        ("click-8.2.1-py3-none-any.whl", kit.Target("aarch64", "3.11"), True),
        ("pycrdt-0.14.13-cp312-abi3-manylinux_2_17_x86_64.whl",
         kit.Target("x86_64", "3.11"), False),
        ("not a wheel.zip", kit.Target("x86_64", "3.11"), False),
    ],
)  # fmt: skip
def test_wheel_fits(filename: str, target: kit.Target, fits: bool) -> None:
    assert kit.wheel_fits(filename, target) is fits


def fake_pip(wheels: dict[str, list[str]]) -> kit.Runner:
    """A pip that writes the named (empty) wheels instead of downloading anything."""

    def run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        command = args[args.index("pip") + 2]
        dest = Path(args[args.index("--wheel-dir" if command == "wheel" else "--dest") + 1])
        key = "own" if command == "wheel" else args[args.index("--python-version") + 1]
        names = wheels.get(key)
        if names is None:
            return subprocess.CompletedProcess(args, 1, "", "ERROR: No matching distribution")
        for name in names:
            (dest / name).write_bytes(name.encode())
        return subprocess.CompletedProcess(args, 0, "", "")

    return run


def test_a_kit_lists_and_checks_every_file(tmp_path: Path) -> None:
    pure = ["assemblymesh-0.1.0-py3-none-any.whl"]
    compiled = [
        "pycrdt-0.14.13-cp311-abi3-manylinux_2_17_x86_64.whl",
        "pynacl-1.6.2-cp38-abi3-manylinux_2_28_x86_64.whl",
    ]
    run = fake_pip({"own": pure, "3.11": compiled, "3.12": compiled[1:], "3.13": []})
    wanted = [kit.Target("x86_64", "3.11"), kit.Target("aarch64", "3.12")]
    wanted.append(kit.Target("x86_64", "3.13"))
    report = kit.build_kit(tmp_path / "k", wanted, source=tmp_path, run=run)
    assert [t.name for t in report.included] == ["linux-x86_64-cp311", "linux-x86_64-cp313"]
    assert "no wheel of pycrdt" in report.skipped["linux-aarch64-cp312"]
    directory = tmp_path / "k"
    assert os.access(directory / "install.sh", os.X_OK)
    readme = (directory / "README.txt").read_text()
    assert "linux-x86_64-cp311" in readme and "Left out" in readme
    listed = (directory / "SHA256SUMS").read_text()
    assert "wheels/pycrdt-0.14.13" in listed and "install.sh" in listed and "README" in listed
    assert kit.verify_kit(directory) == []
    (directory / "wheels" / compiled[0]).write_bytes(b"altered")
    (directory / "wheels" / "extra.whl").write_bytes(b"")
    assert kit.verify_kit(directory) == sorted([f"wheels/{compiled[0]}", "wheels/extra.whl"])


def test_build_refusals(tmp_path: Path) -> None:
    wanted = [kit.current_target()]
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "file").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        kit.build_kit(busy, wanted, source=tmp_path, run=fake_pip({}))
    with pytest.raises(UsageError, match="cannot build"):
        kit.build_kit(tmp_path / "a", wanted, source=tmp_path, run=fake_pip({}))
    own = {"own": ["assemblymesh-0.1.0-py3-none-any.whl"]}
    with pytest.raises(UsageError, match="no target could be provided"):
        kit.build_kit(tmp_path / "b", wanted, source=tmp_path, run=fake_pip(own))


def _index_problem(tmp_path: Path) -> str | None:
    """Why the package index cannot be used, or None if it answers."""
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--only-binary=:all:", "--dest", str(tmp_path / "probe"),
         f"pycrdt=={version('pycrdt')}"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if probe.returncode == 0:
        return None
    return (probe.stderr.strip().splitlines() or ["pip failed"])[-1]


def _offline_env() -> dict[str, str]:
    """pip with no configuration, no find-links and an index nobody listens on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHON=sys.executable,
    )
    return env


@pytest.mark.slow
def test_a_kit_for_this_interpreter_installs_without_the_index(tmp_path: Path) -> None:
    problem = _index_problem(tmp_path)
    if problem is not None:
        pytest.skip(f"the package index is unreachable, so no kit can be built: {problem}")
    directory = tmp_path / "kit"
    built = subprocess.run(
        [sys.executable, "-m", "assemblymesh", "kit", "build", str(directory), "--current"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    target = kit.current_target()
    assert f"included {target.name}" in built.stdout
    names = [p.name for p in (directory / "wheels").iterdir()]
    for dep in ("pycrdt", "pynacl", "msgpack", "click", "textual"):
        assert any(n.lower().startswith(dep + "-") for n in names), dep
    assert any(n.startswith("pycrdt-") and kit.wheel_fits(n, target) for n in names)
    assert kit.verify_kit(directory) == []

    venv = tmp_path / "venv"
    installed = subprocess.run(
        ["sh", str(directory / "install.sh"), str(venv)],
        capture_output=True, text=True, timeout=900, check=False, env=_offline_env(),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    result = subprocess.run(
        [str(venv / "bin" / "assemblymesh"), "--version"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"assemblymesh, version {version('assemblymesh')}"

    # A kit with an altered file installs nothing.
    wheel = next((directory / "wheels").glob("pycrdt-*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:-1])
    refused = subprocess.run(
        ["sh", str(directory / "install.sh"), str(tmp_path / "venv2")],
        capture_output=True, text=True, timeout=300, check=False, env=_offline_env(),
    )  # fmt: skip
    assert refused.returncode != 0
    assert "damaged or altered" in refused.stderr and wheel.name in refused.stderr
    assert not (tmp_path / "venv2").exists()


def test_cli_refuses_conflicting_targets_and_a_busy_directory(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from assemblymesh.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["kit", "build", str(tmp_path / "k"), "--current",
                                  "--platform", "x86_64"])  # fmt: skip
    assert result.exit_code == 1 and "cannot be combined" in result.stderr
    result = runner.invoke(main, ["kit", "build", str(tmp_path / "k"), "--python", "3"])
    assert result.exit_code == 1 and "not a Python version" in result.stderr
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    result = runner.invoke(main, ["kit", "build", str(tmp_path / "busy"), "--current"])
    assert (
        result.exit_code == 1
        and result.stderr
        == f"error: {tmp_path / 'busy'} is not empty: give a new or empty directory\n"
    )
