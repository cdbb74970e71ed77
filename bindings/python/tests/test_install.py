"""The package under test is the installed wheel, and the wheel holds exactly the committed
Python: `make test-python` builds it with `pip wheel ./bindings/python` (maturin), installs it
into a fresh venv and runs pytest from a directory where `import ferrovec` can only resolve to
site-packages, with FERROVEC_TEST_INSTALLED=1. Without that variable (pytest against a source
checkout on PYTHONPATH) these tests skip, saying so."""

import importlib.metadata
import os
import sysconfig

import pytest

import ferrovec
from check_installed import check_library_location, package_dir
from conftest import ROOT

SOURCE = ROOT / "bindings" / "python" / "ferrovec"

pytestmark = pytest.mark.skipif(
    os.environ.get("FERROVEC_TEST_INSTALLED") != "1",
    reason="not testing an installed wheel (make test-python sets FERROVEC_TEST_INSTALLED=1)",
)


def installed_files():
    """The package's files as RECORD lists them, relative to site-packages (without the
    bytecode pip compiles at install time)."""
    files = importlib.metadata.files("ferrovec")
    assert files, "no RECORD for the installed ferrovec distribution"
    return {
        str(f) for f in files if str(f).startswith("ferrovec/") and "__pycache__" not in str(f)
    }


def test_imported_from_site_packages_not_the_checkout():
    pkg = package_dir(ferrovec)  # raises unless under this venv's site-packages
    assert not pkg.startswith(str(ROOT / "bindings") + os.sep), pkg
    # Every submodule too (a stray source-tree path on sys.path would show up here).
    from ferrovec import _buffers, _engine, _index
    from ferrovec._uniffi import ferrovec as generated, ferrovec_core

    for module in (_buffers, _engine, _index, generated, ferrovec_core):
        assert os.path.realpath(module.__file__).startswith(pkg + os.sep), module.__file__


def test_library_loads_from_the_package_directory():
    lib = check_library_location(ferrovec)  # the only libferrovec mapped into this process
    platlib = sysconfig.get_paths()["platlib"]
    assert lib in {os.path.realpath(os.path.join(platlib, f)) for f in installed_files()}


def test_wheel_holds_exactly_the_package():
    expected = {f"ferrovec/{p.name}" for p in SOURCE.glob("*.py")} | {
        "ferrovec/_uniffi/__init__.py",  # maturin's: re-exports both generated modules
        "ferrovec/_uniffi/ferrovec.py",
        "ferrovec/_uniffi/ferrovec_core.py",
        "ferrovec/_uniffi/libferrovec.so",
    }
    assert installed_files() == expected


@pytest.mark.parametrize("name", ["ferrovec.py", "ferrovec_core.py"])
def test_generated_modules_are_the_committed_ones(name):
    """maturin regenerates the UniFFI modules from the library it built (with the workspace's
    pinned uniffi-bindgen); they must be byte for byte the committed ones, which
    `make check-bindings` holds to the code."""
    installed = os.path.join(package_dir(ferrovec), "_uniffi", name)
    with open(installed, "rb") as f:
        assert f.read() == (SOURCE / "_uniffi" / name).read_bytes(), f"{installed} differs"


def test_pythonic_layer_is_the_committed_one():
    pkg = package_dir(ferrovec)
    names = sorted(p.name for p in SOURCE.glob("*.py"))
    assert "__init__.py" in names and "_index.py" in names, names
    for name in names:
        with open(os.path.join(pkg, name), "rb") as f:
            assert f.read() == (SOURCE / name).read_bytes(), f"ferrovec/{name} differs"


def test_wheel_tag_is_this_platform_and_not_pure_python():
    wheel = importlib.metadata.distribution("ferrovec").read_text("WHEEL")
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")  # linux_x86_64
    assert f"Tag: py3-none-{platform}" in wheel.splitlines(), wheel
    assert "Root-Is-Purelib: false" in wheel.splitlines(), wheel
    assert importlib.metadata.version("ferrovec") == ferrovec.version()


def test_bundled_modules_are_in_this_build():
    """The wheel of `make test` is built with --features bundled-wasm: the default module
    loads with no argument (a wheel without them raises, see test_engine.py)."""
    with ferrovec.Engine.interpreted() as engine:
        assert engine.kind == ferrovec.BackendKind.INTERPRETED
        assert engine.dot([1, 2], [3, 4]) == 11.0
