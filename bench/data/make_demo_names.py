"""Writes ffi/examples/data/debian-demo-names.txt: the Debian package name(s) of each text of
debian-demo.bin (items, then queries; one line per text, names joined by ", "), looked up in
`apt-cache dumpavail` by exact short description. The demo prints them beside the hits.

Usage: apt-cache dumpavail | python3 bench/data/make_demo_names.py [DEMO_BIN] [OUT]
"""
import os
import struct
import sys


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    demo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "ffi/examples/data/debian-demo.bin")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "ffi/examples/data/debian-demo-names.txt")
    names = {}
    pkg = None
    for line in sys.stdin:
        if line.startswith("Package: "):
            pkg = line[9:].strip()
        elif line.startswith("Description: ") and pkg:
            names.setdefault(line[13:].strip(), []).append(pkg)
            pkg = None
    b = open(demo, "rb").read()
    n_items, n_queries, dims = struct.unpack("<III", b[8:20])
    at = 20 + (n_items + n_queries) * (4 + dims)
    (length,) = struct.unpack("<I", b[at : at + 4])
    texts = b[at + 4 : at + 4 + length].decode("utf-8").split("\n")
    lines = [", ".join(sorted(set(names.get(t, ["?"])))) for t in texts]
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{sum(1 for l in lines if l != '?')} of {len(lines)} texts named -> {out}")


if __name__ == "__main__":
    main()
