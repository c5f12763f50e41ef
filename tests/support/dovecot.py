"""A real IMAP server for the tests: Debian's dovecot, started on 127.0.0.1 with a temporary config.

Nothing outside the temporary folder is touched: dovecot runs with `-c our.conf`, its base, state and
log paths inside the folder, a passwd-file with one mailbox user and plaintext login on loopback.
As root it drops to the package's `dovecot`/`dovenull` users (and a mail uid that owns the folder);
as another user it runs everything as that user.
"""

from __future__ import annotations

import getpass
import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.infra import free_port, port_open, unavailable

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class DovecotServer:
    root: Path
    port: int
    user: str
    password: str
    config: Path

    def stop(self) -> None:
        subprocess.run([DOVECOT, "-c", str(self.config), "stop"], capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", self.port, 0.1) and time.monotonic() < deadline:
            time.sleep(0.1)

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_dovecot(root: Path) -> DovecotServer:
    if not os.path.exists(DOVECOT):
        unavailable("dovecot", "install Debian's dovecot-imapd (it provides /usr/sbin/dovecot)")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user, password = "konsultacje", "haslo-testowe-123"
    if os.geteuid() == 0:
        # dovecot refuses root for logins and mail; the package's users and a mail uid that owns the folder.
        mail_uid, mail_gid = pwd.getpwnam("dovecot").pw_uid, grp.getgrnam("dovecot").gr_gid
        internal_user, login_user = "dovecot", "dovenull"
    else:
        mail_uid, mail_gid = os.getuid(), os.getgid()
        internal_user = login_user = getpass.getuser()
    home = root / "home"
    for folder in (root / "run", root / "state", home):
        folder.mkdir(parents=True, exist_ok=True)
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
default_login_user = {login_user}
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
mail_location = maildir:{home}/%u/Maildir
mail_uid = {mail_uid}
mail_gid = {mail_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
    os.chown(home, mail_uid, mail_gid)
    # Whatever the umask: dovecot's own users read the config and the passwd-file, and walk the folders.
    for path in (root, root / "run", root / "state"):
        os.chmod(path, 0o755)
    for path in (config, root / "passwd"):
        os.chmod(path, 0o644)
    errors = root / "start.err"
    with errors.open("w") as stderr:  # the daemon keeps its descriptors: no pipes, or run() waits for it
        started = subprocess.run([DOVECOT, "-c", str(config)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=stderr, timeout=30)
    server = DovecotServer(root, port, user, password, config)
    if started.returncode != 0:
        unavailable("dovecot", f"it did not start: {errors.read_text().strip()}\n{server.log}")
    deadline = time.monotonic() + 15
    while not port_open("127.0.0.1", port, 0.2):
        if time.monotonic() > deadline:
            server.stop()
            unavailable("dovecot", f"no IMAP answer on 127.0.0.1:{port}\n{server.log}")
        time.sleep(0.1)
    return server
