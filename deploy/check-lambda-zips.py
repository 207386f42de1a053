"""Checks that each Lambda zip holds an executable `bootstrap` ELF for the intended architecture.

    python3 deploy/check-lambda-zips.py DIR ARCH     (DIR/FUNCTION/bootstrap.zip; ARCH arm64 or x86_64)
"""
import pathlib
import stat
import sys
import zipfile

MACHINES = {"arm64": 0xB7, "x86_64": 0x3E}  # ELF e_machine: EM_AARCH64, EM_X86_64


def check(zip_path, arch):
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        if names != ["bootstrap"]:
            return f"{zip_path}: expected exactly one entry 'bootstrap', found {names}"
        info = z.getinfo("bootstrap")
        mode = info.external_attr >> 16
        if not mode & stat.S_IXUSR:
            return f"{zip_path}: bootstrap is not executable (mode {oct(mode)})"
        head = z.open("bootstrap").read(20)
    if head[:4] != b"\x7fELF":
        return f"{zip_path}: bootstrap is not an ELF binary"
    machine = int.from_bytes(head[18:20], "little")
    if machine != MACHINES[arch]:
        return f"{zip_path}: bootstrap is for ELF machine {machine:#x}, expected {arch} ({MACHINES[arch]:#x})"
    return None


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in MACHINES:
        sys.exit(__doc__)
    root, arch = pathlib.Path(sys.argv[1]), sys.argv[2]
    zips = sorted(root.glob("*/bootstrap.zip"))
    if not zips:
        sys.exit(f"no */bootstrap.zip under {root}")
    errors = [e for e in (check(z, arch) for z in zips) if e]
    for z in zips:
        print(f"{'FAIL' if any(str(z) in e for e in errors) else 'ok  '} {z} ({arch})")
    if errors:
        sys.exit("\n".join(errors))


if __name__ == "__main__":
    main()
