#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs an example and checks its exit status and that its standard output has
# the expected line; reports one TAP test. Needs no PyGObject itself.
#
#   check-output.py --name NAME --expect LINE [--timeout S] -- PROGRAM [ARG…]

import argparse
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--name', required=True)
    parser.add_argument('--expect', required=True, action='append',
                        help='a line the program must print (may be repeated)')
    parser.add_argument('--timeout', type=float, default=50)
    parser.add_argument('command', nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ['--'] else options.command
    if not command:
        parser.error('no program given')

    print('1..1')
    problems = []
    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=options.timeout)
    except subprocess.TimeoutExpired as timeout:
        problems.append('did not exit within %g s' % options.timeout)
        stdout, stderr = timeout.stdout or b'', timeout.stderr or b''
    else:
        stdout, stderr = proc.stdout, proc.stderr
        if proc.returncode != 0:
            problems.append('exited with status %d' % proc.returncode)

    lines = stdout.decode(errors='replace').splitlines()
    for expected in options.expect:
        if expected not in lines:
            problems.append('printed no line %r' % expected)

    print('# $ ' + ' '.join(command))
    for line in lines:
        print('# stdout: ' + line)
    for line in stderr.decode(errors='replace').splitlines():
        print('# stderr: ' + line)
    for problem in problems:
        print('# ' + problem)
    print('%s 1 - %s' % ('not ok' if problems else 'ok', options.name))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
