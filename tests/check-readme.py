#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the Python and GJS snippets of README.md as written, against the
# build tree, and checks that they print what their comments say: a line
# `print(…)  # 3` (or `// 3`) must print `3`. Reports TAP, one test per
# language; a language whose interpreter is not given is skipped.
#
#   check-readme.py --readme README.md --module quickstart-module.so
#                   [--python PYTHON-WITH-GI] [--gjs GJS]

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

TIMEOUT_S = 60


def blocks(text, language):
    return re.findall(r'^```%s\n(.*?)^```' % language, text, re.S | re.M)


def expected_lines(source, comment):
    """What the print() lines of source say they print, in order."""
    pattern = re.compile(r'\bprint\(.*\)\)?;?\s*%s\s*(.+?)\s*$' % re.escape(comment))
    return [m.group(1) for m in map(pattern.search, source.splitlines()) if m]


def run(command, directory, expected):
    """Returns a list of problems, empty when the program did what it says."""
    try:
        proc = subprocess.run(command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=TIMEOUT_S, text=True)
    except subprocess.TimeoutExpired:
        return ['did not end within %d s' % TIMEOUT_S]
    problems = []
    if proc.returncode != 0:
        problems.append('exit status %d' % proc.returncode)
    if not expected:
        problems.append('the snippet has no `print(…)  # output` line to check')
    printed = proc.stdout.splitlines()
    if printed != expected:
        problems.append('printed %r, the comments say %r' % (printed, expected))
    if problems:
        problems += ['stderr: ' + line for line in proc.stderr.splitlines()]
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--readme', required=True)
    parser.add_argument('--module', required=True, help='the C quick start module')
    parser.add_argument('--python', help='a python3 that can import gi')
    parser.add_argument('--gjs')
    options = parser.parse_args()

    with open(options.readme, encoding='utf-8') as readme:
        text = readme.read()
    python, js = blocks(text, 'python'), blocks(text, 'js')
    print('1..2', flush=True)
    failed = 0
    with tempfile.TemporaryDirectory(prefix='mpel-readme-') as directory:
        shutil.copy(options.module, os.path.join(directory, 'quickstart-module.so'))
        cases = [
            # The worker, then the app that runs it as 'worker.py'.
            ('python', options.python, len(python) == 2,
             lambda: ([options.python, 'app.py'], {'worker.py': python[0], 'app.py': python[1]},
                      expected_lines(python[1], '#'))),
            ('gjs', options.gjs, len(js) == 1,
             lambda: ([options.gjs, '-m', 'app.js'], {'app.js': js[0]}, expected_lines(js[0], '//'))),
        ]
        for number, (name, program, found, make) in enumerate(cases, 1):
            if not program:
                print('ok %d - %s # SKIP no interpreter' % (number, name))
                continue
            if not found:
                problems = ['README.md no longer has the snippets this test expects']
            else:
                command, files, expected = make()
                for filename, source in files.items():
                    with open(os.path.join(directory, filename), 'w', encoding='utf-8') as out:
                        out.write(source)
                problems = run(command, directory, expected)
            if problems:
                failed += 1
                print('not ok %d - %s' % (number, name))
                for problem in problems:
                    print('# ' + problem)
            else:
                print('ok %d - %s' % (number, name))
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
