"""The installed wheel, alone: `make test-python` runs this with `python -I` in a fresh venv
right after `pip install ferrovec-*.whl` (no numpy, no pytest, nothing else), from a directory
that holds no ferrovec/. Every check raises on failure; pytest's test_install.py repeats the
ones about files once numpy and pytest are installed too.

    python -I bindings/python/tests/check_installed.py
"""

import importlib.util
import os
import sys
import sysconfig


def site_dirs():
    paths = sysconfig.get_paths()
    return {os.path.realpath(paths[key]) for key in ("purelib", "platlib")}


def package_dir(module):
    """The installed package's directory; fails unless it is under this venv's site-packages."""
    pkg = os.path.dirname(os.path.realpath(module.__file__))
    if os.path.dirname(pkg) not in site_dirs():
        raise AssertionError(
            f"ferrovec was imported from {pkg}, not from site-packages {sorted(site_dirs())}"
        )
    return pkg


def loaded_libraries(prefix="libferrovec"):
    """Paths of the shared objects whose file name starts with `prefix` mapped into this
    process (Linux: /proc/self/maps, whose sixth field is the path)."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.rstrip("\n").split(None, 5)
            if len(fields) == 6 and os.path.basename(fields[5]).startswith(prefix):
                found.add(os.path.realpath(fields[5]))
    return found


def check_library_location(module):
    """The library ferrovec loaded is the one inside the installed package, and only that."""
    pkg = package_dir(module)
    expected = os.path.join(pkg, "_uniffi", "libferrovec.so")
    loaded = loaded_libraries()
    if loaded != {expected}:
        raise AssertionError(f"libferrovec loaded from {sorted(loaded)}, expected {expected}")
    return expected


def main():
    import ferrovec

    pkg = package_dir(ferrovec)
    lib = check_library_location(ferrovec)
    # Nothing but the wheel is installed: numpy is optional and absent here.
    if importlib.util.find_spec("numpy") is not None:
        raise AssertionError("numpy is installed; this check needs a venv with only ferrovec")

    assert ferrovec.dot([1, 2, 3], [4, 5, 6]) == 32.0
    scores = ferrovec.scan([1, 0], [1, 0, 0, 1, -1, 0], ferrovec.Metric.COSINE)
    assert isinstance(scores, list), type(scores)  # lists without numpy
    assert [round(s, 6) for s in scores] == [0.0, 1.0, 2.0], scores
    assert ferrovec.top_k(scores, 2)[0].index == 0

    # The wheel of `make test` bundles both wasm modules: the Interpreted backend runs with
    # no module argument, scalar and simd, and the index gives the native answer there.
    vectors = [x for i in range(50) for x in (float(i), float(i % 3), 1.0)]  # 50 rows, flat
    query = [7.2, 1.1, 1.0]
    results = {}
    for name, make in [
        ("native", ferrovec.Engine.native),
        ("simd", lambda: ferrovec.Engine.interpreted(simd=True)),
        ("scalar", lambda: ferrovec.Engine.interpreted(simd=False)),
    ]:
        with make() as engine:
            assert engine.dot([1, 2], [3, 4]) == 11.0
            with engine.index(3, "l2sq") as index:
                index.add_batch(list(range(50)), vectors)
                results[name] = [hit.key for hit in index.search(query, k=3)]
                blob = index.to_bytes()
        with ferrovec.Index.from_bytes(blob) as again:
            assert len(again) == 50
    assert results["native"] == [7, 8, 6], results  # l2sq 0.05, 1.45, 2.65
    assert results["simd"] == results["native"] == results["scalar"], results

    print(
        f"check_installed: ferrovec {ferrovec.version()} from {pkg}, library {lib} "
        f"({os.path.getsize(lib)} bytes), no numpy, native + interpreted (bundled simd "
        f"and scalar modules) agree: {results['native']}"
    )


if __name__ == "__main__":
    try:
        main()
    except AssertionError as err:
        print(f"check_installed: FAILED: {err}", file=sys.stderr)
        raise
