#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run-over-ssh.py TEST [ARGS…]: runs a C test with MPEL_TEST_TRANSPORT=ssh,
# every loop test_loop_new() makes reaching its workers through
# `ssh 127.0.0.1 mpel-worker --stdio` (see mpel-test-util.h), to a private
# sshd started here: a throwaway host key and user key, its own config, a
# free port on 127.0.0.1. It is the way test-transport.c starts its own.
# Without openssh-server, or as a user who may not make /run/sshd, the test
# is skipped with the reason: a TAP plan of none.

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

def skip(reason):
    print('1..0 # SKIP %s' % reason)
    sys.exit(0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_sshd(directory):
    sshd = shutil.which('sshd') or ('/usr/sbin/sshd' if os.access('/usr/sbin/sshd', os.X_OK) else None)
    if sshd is None or shutil.which('ssh') is None or shutil.which('ssh-keygen') is None:
        skip('openssh-server or openssh-client is not installed')
    if os.getuid() != 0 and not os.path.isdir('/run/sshd'):
        skip('sshd needs /run/sshd, which only root may make')
    os.makedirs('/run/sshd', mode=0o755, exist_ok=True)

    host_key = os.path.join(directory, 'host_key')
    user_key = os.path.join(directory, 'user_key')
    for key in (host_key, user_key):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
    authorized = os.path.join(directory, 'authorized_keys')
    shutil.copyfile(user_key + '.pub', authorized)
    port = free_port()
    config = os.path.join(directory, 'sshd_config')
    with open(config, 'w') as f:
        f.write('Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\n'
                'PidFile none\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n'
                'PasswordAuthentication no\nKbdInteractiveAuthentication no\n'
                'AllowTcpForwarding no\nX11Forwarding no\nPrintMotd no\n'
                'MaxStartups 100\nMaxSessions 100\n' % (port, host_key, authorized))

    process = subprocess.Popen([sshd, '-D', '-e', '-f', config], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # It says when it listens (-e: its log on stderr); it ends when it cannot.
    for line in process.stderr:
        if b'Server listening' in line:
            break
        sys.stderr.buffer.write(b'sshd: ' + line)
    else:
        process.wait()
        skip('sshd did not start (see its log above)')

    # sshd blocks writing its log into a full pipe: keep reading it.
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    command = ['ssh', '-F', '/dev/null', '-i', user_key, '-p', str(port),
               '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no',
               '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
               '-o', 'ServerAliveInterval=5', '127.0.0.1']
    return process, command


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: run-over-ssh.py TEST [ARGS…]')
    with tempfile.TemporaryDirectory(prefix='mpel-sshd-') as directory:
        sshd, command = start_sshd(directory)
        try:
            env = dict(os.environ, MPEL_TEST_TRANSPORT='ssh',
                       MPEL_TEST_SSH_COMMAND='\x1f'.join(command))
            status = subprocess.run(sys.argv[1:], env=env).returncode
        finally:
            sshd.send_signal(signal.SIGTERM)
            sshd.wait()
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == '__main__':
    main()
