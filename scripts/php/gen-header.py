#!/usr/bin/env python3
"""Derives ffi/include/cohort_php.h, the header PHP's FFI::cdef/FFI::load can read, from cohort.h.

PHP FFI understands C declarations but no preprocessor at all, so this keeps the declarations that
a C11 compiler (not C++, not C23, without test-only features) would see and drops everything else:

- `#ifndef X` (the include guard, `#ifndef __cplusplus`) is taken as true; every `#if`/`#ifdef`
  (C++, C23, `COHORT_TEST_PANIC`) as false; `#else` flips the innermost branch;
- `#define`, `#include` and other directives are dropped (PHP reads no macros: the wrapper keeps
  its own copy of the constants, and a test compares them with cohort.h);
- comments and blank-line runs are dropped.

Usage: gen-header.py [cohort.h [cohort_php.h]]   (default: the files under ffi/include)
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def preprocess(text: str) -> str:
    out = []
    stack = []  # one bool per open conditional: whether its current branch is kept
    for line in strip_comments(text).splitlines():
        s = line.strip()
        if s.startswith("#"):
            words = s[1:].split()
            directive = words[0] if words else ""
            if directive == "ifndef":
                stack.append(True)
            elif directive in ("if", "ifdef"):
                stack.append(False)
            elif directive == "else":
                if not stack:
                    raise SystemExit("gen-header: #else without #if")
                stack[-1] = not stack[-1]
            elif directive == "elif":
                raise SystemExit("gen-header: #elif is not supported; extend gen-header.py")
            elif directive == "endif":
                if not stack:
                    raise SystemExit("gen-header: #endif without #if")
                stack.pop()
            continue  # define, include, pragma, ...: PHP FFI reads none of them
        if all(stack):
            out.append(line.rstrip())
    if stack:
        raise SystemExit("gen-header: unterminated #if")
    # One blank line after each top-level declaration, none elsewhere.
    lines, depth = [], 0
    for line in out:
        if not line.strip():
            continue
        lines.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 0 and line.endswith(";"):
            lines.append("")
    return "\n".join(lines).strip() + "\n"


def main() -> None:
    src = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "ffi/include/cohort.h"
    dst = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "ffi/include/cohort_php.h"
    dst.write_text(preprocess(src.read_text()))


if __name__ == "__main__":
    main()
