#!/usr/bin/env python3
"""Writes the symbolizer fuzz seeds into fuzz_corpus/: tiny synthetic Go-like
ELF files (a hand-built pclntab with an inlined call, build info, moduledata)
in several layouts. Regenerate: python3 tests/symbolizer/make_fuzz_seeds.py

Layout (one PT_LOAD at 0x400000, file offset 0):
  .text 0x40 bytes: main.main [0x401000,0x401020) with main.inl inlined at
  [0x401008,0x401010), main.inl [0x401020,0x401040); a C function c_helper.
"""
import os
import struct
import sys

BASE = 0x400000
TEXT = 0x401000


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pcvalue(pairs):
    """pairs: [(value, pc_length)] starting from value -1."""
    out, prev = bytearray(), -1
    for val, length in pairs:
        d = val - prev
        out += uvarint((d << 1) ^ (d >> 31) if d < 0 else d << 1)
        out += uvarint(length)
        prev = val
    return bytes(out) + b"\x00"


def inline_tree(fmt):
    if fmt == "120":
        return struct.pack("<BBBBiii", 0, 0, 0, 0, 10, 4, 3)  # funcID, nameOff, parentPc, startLine
    return struct.pack("<hBBiiii", -1, 0, 0, 0, 3, 10, 4)  # parent, funcID, file, line, func_, parentPc


def pclntab(fmt, text_start_in_header, gofunc_va):
    """fmt: '120' (1.20+), '118' (1.18/1.19), '116' (1.16/1.17). Returns (bytes, funcname_off)."""
    magic = {"120": 0xFFFFFFF1, "118": 0xFFFFFFF0, "116": 0xFFFFFFFA}[fmt]
    names = b"main.main\x00main.inl\x00"
    cutab = struct.pack("<I", 0)
    filetab = b"/src/main.go\x00"
    pctab = bytearray(b"\x00")
    pcfile0 = len(pctab); pctab += pcvalue([(0, 0x20)])
    pcln0 = len(pctab); pctab += pcvalue([(10, 0x8), (3, 0x8), (12, 0x10)])
    inl0 = len(pctab); pctab += pcvalue([(-1, 0x8), (0, 0x8), (-1, 0x10)])
    pcfile1 = len(pctab); pctab += pcvalue([(0, 0x20)])
    pcln1 = len(pctab); pctab += pcvalue([(3, 0x20)])

    hdr_size = 64 if fmt == "116" else 72
    off_names = hdr_size
    off_cu = off_names + len(names)
    off_file = off_cu + len(cutab)
    off_pc = off_file + len(filetab)
    off_pcln = (off_pc + len(pctab) + 7) & ~7
    nfunc = 2
    field = 8 if fmt == "116" else 4
    functab_size = nfunc * 2 * field + field
    fixed = 40 if fmt == "118" else 44

    def func(rec_off, entry_off, name_off, pcfile, pcln, inl, start_line):
        npcdata, nfuncdata = 3, 4
        head = struct.pack("<Q", TEXT + entry_off) if fmt == "116" else struct.pack("<I", entry_off)
        rec = head + struct.pack("<iiIIIIII", name_off, 0, 0, 0, pcfile, pcln, npcdata, 0)
        if fmt == "120":
            rec += struct.pack("<iBBBB", start_line, 0, 0, 0, nfuncdata)
        else:
            rec += struct.pack("<BBBB", 0, 0, 0, nfuncdata)
        assert len(rec) == fixed, (fmt, len(rec))
        rec += struct.pack("<III", 0, 0, inl)
        if fmt == "116":
            # Absolute FUNCDATA pointers, 8-byte aligned (the table is 32-aligned).
            if (rec_off + len(rec)) & 4:
                rec += b"\x00" * 4
            rec += struct.pack("<QQQQ", 0, 0, 0, gofunc_va if inl else 0)
        else:
            rec += struct.pack("<IIII", 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0 if inl else 0xFFFFFFFF)
        return rec

    funcoff0 = (functab_size + 7) & ~7
    f0 = func(off_pcln + funcoff0, 0, 0, pcfile0, pcln0, inl0, 9)
    funcoff1 = (funcoff0 + len(f0) + 7) & ~7
    f1 = func(off_pcln + funcoff1, 0x20, 10, pcfile1, pcln1, 0, 3)
    if fmt == "116":
        functab = struct.pack("<QQQQQ", TEXT, funcoff0, TEXT + 0x20, funcoff1, TEXT + 0x40)
    else:
        functab = struct.pack("<IIIII", 0, funcoff0, 0x20, funcoff1, 0x40)
    pcln = bytearray(functab)
    pcln += b"\x00" * (funcoff0 - len(pcln)) + f0
    pcln += b"\x00" * (funcoff1 - len(pcln)) + f1
    if fmt == "116":
        header = struct.pack("<IBBBBQQQQQQQ", magic, 0, 0, 1, 8, nfunc, 1,
                             off_names, off_cu, off_file, off_pc, off_pcln)
    else:
        text_start = TEXT if text_start_in_header else 0
        header = struct.pack("<IBBBBQQQQQQQQ", magic, 0, 0, 1, 8, nfunc, 1, text_start,
                             off_names, off_cu, off_file, off_pc, off_pcln)
    body = header + names + cutab + filetab + bytes(pctab)
    body += b"\x00" * (off_pcln - len(body)) + bytes(pcln)
    return body, off_names


def buildinfo(version):
    out = b"\xff Go buildinf:" + bytes([8, 2]) + b"\x00" * 16
    mod = "path\texample.com/seed\nmod\texample.com/seed\t(devel)\t\n"
    sentinel = bytes(16)
    mod_b = sentinel + mod.encode() + sentinel
    return out + uvarint(len(version)) + version.encode() + uvarint(len(mod_b)) + mod_b


def note(name, ntype, desc):
    n = name + b"\x00"
    pad = lambda b: b + b"\x00" * ((4 - len(b) % 4) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def build(fmt="120", text_start_in_header=True, sections=True, with_symtab=True, version="go1.26.8"):
    # File layout: [ehdr+phdr][pad to 0x1000][.text 0x40][.rodata gofunc][.gopclntab][.go.module][.go.buildinfo][notes]...
    blobs = []
    cursor = 0x1000
    def place(name, data, align=16, flags=0x2, stype=1):
        nonlocal cursor
        cursor = (cursor + align - 1) & ~(align - 1)
        blobs.append((name, cursor, data, flags, stype))
        cursor += len(data)
        return BASE + blobs[-1][1]
    text = b"\x55\x48\x89\xe5" + b"\x90" * 0x3C + b"\xc3" * 0x10  # 0x40 Go + 0x10 C helper
    place(".text", text, 16, 0x6)
    gofunc = place(".rodata", inline_tree(fmt), 8)
    tab, funcname_off = pclntab(fmt, text_start_in_header, gofunc)
    pcln_va = place(".gopclntab", tab, 32)
    md = bytearray(400)
    struct.pack_into("<Q", md, 0, pcln_va)
    struct.pack_into("<Q", md, 8, pcln_va + funcname_off)
    struct.pack_into("<Q", md, 176, TEXT)
    struct.pack_into("<Q", md, 304 if fmt == "118" else 320, gofunc)
    place(".go.module" if version >= "go1.26" else ".noptrdata", bytes(md), 32, 0x3)
    place(".go.buildinfo", buildinfo(version), 16, 0x3)
    place(".note.go.buildid", note(b"Go", 4, b"seed-go-build-id"), 4, 0x2, 7)
    if with_symtab:
        strtab = b"\x00c_helper\x00main.main\x00"
        sym = bytes(24) + struct.pack("<IBBHQQ", 1, 0x12, 0, 1, TEXT + 0x40, 0x10)
        place(".strtab", strtab, 1, 0, 3)
        place(".symtab", sym, 8, 0, 2)
    end = cursor
    names = [b""] + [n.encode() for n, *_ in blobs] + [b".shstrtab"]
    shstr = bytearray(b"\x00")
    name_offs = []
    for n in names[1:]:
        name_offs.append(len(shstr))
        shstr += n + b"\x00"
    shstr_off = end
    shoff = (shstr_off + len(shstr) + 7) & ~7
    image = bytearray(shoff + 64 * (len(blobs) + 2) if sections else shstr_off)
    for _, off, data, _, _ in blobs:
        image[off:off + len(data)] = data
    # ELF header + one PT_LOAD (rwx) + PT_NOTE.
    phnum = 2
    ehdr = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + bytes(9), 2, 62, 1, TEXT, 64,
                       shoff if sections else 0, 0, 64, 56, phnum, 64 if sections else 0,
                       len(blobs) + 2 if sections else 0, len(blobs) + 1 if sections else 0)
    image[0:64] = ehdr
    image[64:120] = struct.pack("<IIQQQQQQ", 1, 7, 0, BASE, BASE, end, end, 0x1000)
    noteblob = [b for b in blobs if b[0] == ".note.go.buildid"][0]
    image[120:176] = struct.pack("<IIQQQQQQ", 4, 4, noteblob[1], BASE + noteblob[1], BASE + noteblob[1],
                                 len(noteblob[2]), len(noteblob[2]), 4)
    if sections:
        image[shstr_off:shstr_off + len(shstr)] = shstr
        sh = bytearray(64)
        strtab_index = 0
        for i, (n, off, data, flags, stype) in enumerate(blobs):
            if n == ".strtab":
                strtab_index = i + 1
        for i, (n, off, data, flags, stype) in enumerate(blobs):
            link = strtab_index if n == ".symtab" else 0
            addr = BASE + off if flags & 0x2 else 0
            sh += struct.pack("<IIQQQQIIQQ", name_offs[i], stype, flags, addr, off, len(data), link, 0, 8,
                              24 if n == ".symtab" else 0)
        sh += struct.pack("<IIQQQQIIQQ", name_offs[-1], 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
        image[shoff:shoff + len(sh)] = sh
    return bytes(image)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_corpus")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "go120_sections.elf": build(),
        "go126_textstart_from_moduledata.elf": build(text_start_in_header=False),
        "go120_no_section_headers.elf": build(sections=False),
        "go118_format.elf": build(fmt="118", version="go1.19.8"),
        "go124_no_symtab.elf": build(with_symtab=False, version="go1.24.13"),
        "go116_format.elf": build(fmt="116", version="go1.16.15"),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    # Truncated prefixes of the richest seed.
    full = seeds["go120_sections.elf"]
    for n in (64, 120, 0x1040, 0x1100):
        with open(os.path.join(out, "truncated_%d.elf" % n), "wb") as f:
            f.write(full[:n])
    with open(os.path.join(out, "not_elf.txt"), "wb") as f:
        f.write(b"this is not an ELF file\n")
    print("wrote %d seeds to %s" % (len(seeds) + 5, out))


if __name__ == "__main__":
    sys.exit(main())
