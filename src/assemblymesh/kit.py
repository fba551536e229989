"""The offline install kit: everything needed to install AssemblyMesh where there is no
internet, on a USB stick.

``build_kit(dir)`` writes::

    wheels/      the wheel of AssemblyMesh and of every dependency, for each target
                 (Linux x86_64 and aarch64, CPython 3.11, 3.12 and 3.13) where wheels exist
    install.sh   checks every file against SHA256SUMS, then installs into a virtual
                 environment with ``pip install --no-index --find-links wheels``
    README.txt   what is in the kit, how to install, which targets it covers
    SHA256SUMS   SHA-256 of every other file (``sha256sum -c SHA256SUMS`` checks it too)

Building needs the package index (``pip`` of the running interpreter, with its usual
configuration); installing needs nothing but the kit and a Python with ``venv``.
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assemblymesh.errors import UsageError
from assemblymesh.i18n import _

ARCHES = ("x86_64", "aarch64")
PYTHONS = ("3.11", "3.12", "3.13")
DEFAULT_GLIBC = "2.28"  # manylinux_2_28: Debian 10, Ubuntu 18.10, RHEL 8 and later
CHECKSUMS = "SHA256SUMS"
PACKAGE = "assemblymesh"
COMPILED = ("pycrdt", "pynacl")  # dependencies that are compiled extensions

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
Log = Callable[[str], None]


def _run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class Target:
    arch: str
    python: str  # "3.12"

    @property
    def name(self) -> str:
        return f"linux-{self.arch}-cp{self.python.replace('.', '')}"

    def platform_tags(self, glibc: str) -> list[str]:
        """Every manylinux tag a system with this glibc accepts, newest first (pip takes
        ``--platform`` literally: it does not add the older tags itself)."""
        newest = int(glibc.split(".")[1])
        oldest = 5 if self.arch == "x86_64" else 17
        tags = [f"manylinux_2_{minor}_{self.arch}" for minor in range(newest, oldest - 1, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        tags += [f"{name}_{self.arch}" for minor, name in legacy.items() if oldest <= minor]
        return tags


def current_target() -> Target:
    """This machine's architecture and Python version."""
    arch = platform.machine().lower()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    return Target(arch, f"{sys.version_info.major}.{sys.version_info.minor}")


def targets(arches: Iterable[str] = ARCHES, pythons: Iterable[str] = PYTHONS) -> list[Target]:
    out = []
    for arch in arches:
        if arch not in ARCHES:
            raise UsageError(
                _("unknown platform {platform!r}: choose from {known}").format(
                    platform=arch, known=", ".join(ARCHES)
                )
            )
        for python in pythons:
            if not re.fullmatch(r"3\.\d{1,2}", python):
                raise UsageError(
                    _("{given!r} is not a Python version like {example}").format(
                        given=python, example="3.12"
                    )
                )
            out.append(Target(arch, python))
    return out


@dataclass
class KitReport:
    directory: Path
    included: list[Target] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # target name -> why
    wheels: list[str] = field(default_factory=list)


def find_source() -> Path | None:
    """The source tree this package runs from (an editable or in-place install), if any."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent, here.parent):
        project = candidate / "pyproject.toml"
        if project.is_file() and f'name = "{PACKAGE}"' in project.read_text(encoding="utf-8"):
            return candidate
    return None


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or [line for line in lines if line] or ["pip failed"])[-1]


_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


def wheel_fits(filename: str, target: Target) -> bool:
    """Whether a wheel installs on ``target`` (by its file name tags; a simple check that
    knows the tags these dependencies use: pure, abi3 and version-specific CPython)."""
    match = _WHEEL.match(filename)
    if match is None:
        return False
    plats = match["plat"].split(".")
    if not any(p == "any" or (p.endswith(target.arch) and "linux" in p) for p in plats):
        return False
    version = int(target.python.replace(".", ""))
    for py in match["py"].split("."):
        if py in ("py3", "py2.py3") or py.startswith("py3"):
            return True
        if py.startswith("cp") and py[2:].isdigit():
            wanted = int(py[2:])
            abis = match["abi"].split(".")
            if wanted == version or ("abi3" in abis and wanted <= version):
                return True
    return False


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def build_kit(
    directory: Path,
    wanted: Sequence[Target],
    *,
    source: Path | None = None,
    glibc: str = DEFAULT_GLIBC,
    run: Runner = _run,
    log: Log = lambda line: None,
) -> KitReport:
    """Write a kit for ``wanted`` into ``directory`` (new or empty)."""
    source = _check_request(directory, wanted, source, glibc)
    wheels = directory / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    report = KitReport(directory)
    log(_("building the {package} wheel from {source}").format(package=PACKAGE, source=source))
    result = run(_pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels), str(source)))
    own = sorted(wheels.glob(f"{PACKAGE}-*.whl"))
    if result.returncode != 0 or not own:
        raise UsageError(
            _("cannot build the {package} wheel: {reason}").format(
                package=PACKAGE, reason=_last_line(result)
            )
        )
    for target in wanted:
        _add_target(report, target, wheels, own[-1], glibc, run, log)
    if not report.included:
        why = "; ".join(f"{name}: {why}" for name, why in report.skipped.items())
        raise UsageError(_("no target could be provided: {reasons}").format(reasons=why))
    report.wheels = sorted(p.name for p in wheels.glob("*.whl"))
    _write_install(directory)
    _write_readme(directory, report, own[-1].name, glibc)
    _write_checksums(directory)
    return report


def _check_request(
    directory: Path, wanted: Sequence[Target], source: Path | None, glibc: str
) -> Path:
    if not wanted:
        raise UsageError(_("a kit needs at least one target"))
    if not re.fullmatch(r"2\.\d{1,2}", glibc):
        raise UsageError(
            _("{given!r} is not a glibc version like {example}").format(given=glibc, example="2.28")
        )
    source = source or find_source()
    if source is None:
        raise UsageError(
            _("cannot find the AssemblyMesh source tree: give {option}").format(
                option="--source DIR"
            )
        )
    if directory.exists() and any(directory.iterdir()):
        raise UsageError(
            _("{directory} is not empty: give a new or empty directory").format(directory=directory)
        )
    return source


def _add_target(
    report: KitReport,
    target: Target,
    wheels: Path,
    own: Path,
    glibc: str,
    run: Runner,
    log: Log,
) -> None:
    """Download the wheels ``target`` needs; include it only if every compiled one exists."""
    log(_("downloading wheels for {target}").format(target=target.name))
    result = run(_pip(
        "download", "--quiet", "--only-binary=:all:",
        *(f"--platform={tag}" for tag in target.platform_tags(glibc)),
        "--python-version", target.python,
        "--implementation", "cp", "--dest", str(wheels), str(own),
    ))  # fmt: skip
    if result.returncode != 0:
        report.skipped[target.name] = _last_line(result)
        log(
            "  "
            + _("skipped {target}: {reason}").format(
                target=target.name, reason=report.skipped[target.name]
            )
        )
        return
    names = [p.name for p in wheels.glob("*.whl")]
    missing = [
        dep
        for dep in COMPILED
        if not any(_normal(n.split("-")[0]) == dep and wheel_fits(n, target) for n in names)
    ]
    if missing:
        report.skipped[target.name] = _("no wheel of {packages}").format(
            packages=", ".join(missing)
        )
        return
    report.included.append(target)


def _write_install(directory: Path) -> None:
    path = directory / "install.sh"
    path.write_text(INSTALL_SH, encoding="utf-8")
    path.chmod(0o755)


def _write_readme(directory: Path, report: KitReport, own: str, glibc: str) -> None:
    version = own.split("-")[1]
    lines = [
        _("AssemblyMesh {version}: offline install kit").format(version=version),
        "",
        _("Install (no internet needed):"),
        "",
        "    sh install.sh [DIR]",
        "",
        _(
            "checks every file of the kit against SHA256SUMS, creates a virtual environment in\n"
            "DIR (default: ~/.local/share/assemblymesh/venv) with python3 (set PYTHON to use\n"
            "another interpreter), and installs AssemblyMesh there from the wheels/ directory\n"
            "with 'pip install --no-index'. Then run DIR/bin/assemblymesh."
        ),
        "",
        _("Needs: Linux, Python with the venv module (Debian and Ubuntu: {command}).").format(
            command="apt install python3-venv"
        ),
        "",
        _("Targets in this kit (glibc {glibc} or newer):").format(glibc=glibc),
        *(f"    {t.name}  (Linux {t.arch}, Python {t.python})" for t in report.included),
    ]
    if report.skipped:
        lines += ["", _("Left out (no wheels to be found):")]
        lines += [f"    {name}: {why}" for name, why in report.skipped.items()]
    lines += [
        "",
        _("To check the kit by hand: {command}").format(command="sha256sum -c SHA256SUMS"),
        _("To copy it on: copy this whole directory; every file is listed in SHA256SUMS."),
        "",
    ]
    (directory / "README.txt").write_text("\n".join(lines), encoding="utf-8")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _write_checksums(directory: Path) -> None:
    lines = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != CHECKSUMS:
            lines.append(f"{sha256_file(path)}  {path.relative_to(directory).as_posix()}\n")
    (directory / CHECKSUMS).write_text("".join(lines), encoding="utf-8")


def verify_kit(directory: Path) -> list[str]:
    """Files whose checksum does not match, is missing, or that SHA256SUMS does not list."""
    listed: dict[str, str] = {}
    for line in (directory / CHECKSUMS).read_text(encoding="utf-8").splitlines():
        digest, _gap, name = line.partition("  ")
        listed[name] = digest
    problems = [n for n, d in listed.items() if not (directory / n).is_file()]
    problems += [
        n
        for n, d in listed.items()
        if (directory / n).is_file() and sha256_file(directory / n) != d
    ]
    for path in directory.rglob("*"):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and name != CHECKSUMS and name not in listed:
            problems.append(name)
    return sorted(problems)


INSTALL_SH = r"""#!/bin/sh
# Install AssemblyMesh from this kit without the internet.
#   sh install.sh [DIR]     DIR: the virtual environment to create
#                           (default: ~/.local/share/assemblymesh/venv)
#   PYTHON=python3.12 sh install.sh     to choose the interpreter
set -eu
kit=$(cd "$(dirname "$0")" && pwd)
dest=${1:-"$HOME/.local/share/assemblymesh/venv"}
python=${PYTHON:-python3}

echo "checking the kit's files against SHA256SUMS ..."
"$python" - "$kit" <<'EOF'
import hashlib, pathlib, sys
kit = pathlib.Path(sys.argv[1])
listed = {}
for line in (kit / "SHA256SUMS").read_text().splitlines():
    digest, _gap, name = line.partition("  ")
    listed[name] = digest
bad = []
for name, digest in sorted(listed.items()):
    path = kit / name
    if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        bad.append(name)
for path in sorted(kit.rglob("*")):
    name = path.relative_to(kit).as_posix()
    if path.is_file() and name != "SHA256SUMS" and name not in listed:
        bad.append(name)
if bad:
    sys.exit("install.sh: the kit is damaged or altered: " + ", ".join(bad))
EOF

echo "creating the virtual environment $dest ..."
"$python" -m venv "$dest"
echo "installing from $kit/wheels (no index, no network) ..."
"$dest/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-index --find-links "$kit/wheels" assemblymesh
echo "installed: $dest/bin/assemblymesh"
"$dest/bin/assemblymesh" --version
"""


__all__ = [
    "ARCHES",
    "PYTHONS",
    "KitReport",
    "Target",
    "build_kit",
    "current_target",
    "targets",
    "verify_kit",
    "wheel_fits",
]
