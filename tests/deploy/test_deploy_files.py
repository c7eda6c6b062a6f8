"""The files an operator installs (deploy/): nginx accepts the production site file, systemd the
units, the units start commands that exist, and the env file names every setting the server reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from correction_server.web.guard import ANNOUNCE_BODY_BYTES, CHUNK_BODY_BYTES
from deploy.nginx_site import Site, render
from deploy.up_local import NGINX, Nginx
from testkit.missing import need

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
VENV_BIN = "/opt/massicot/venv/bin"
# Read by systemd (massicot-server@.service), not by Massicot.
UNIT_SETTINGS = {"MASSICOT_LISTEN_ADDRESS"}


def _self_signed(folder: Path) -> tuple[Path, Path]:
    need("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=copies.test"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_nginx_accepts_the_production_site_file_with_tls(tmp_path: Path):
    need(str(NGINX))
    cert, key = _self_signed(tmp_path)
    site = Site(
        upstreams=["10.0.0.11:8001", "10.0.0.12:8001"],
        server_name="copies.test",
        certificate=str(cert),
        certificate_key=str(key),
    )
    text = render(site)
    assert f"ssl_certificate {cert};" in text and f"ssl_certificate_key {key};" in text
    assert "return 301 https://$host$request_uri;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
    assert "server 10.0.0.11:8001" in text and "server 10.0.0.12:8001" in text
    retry = re.search(r"^\s*proxy_next_upstream (.+);$", text, re.M)
    assert retry is not None and retry.group(1) == "error timeout"  # a save is never resent
    size = re.search(r"client_max_body_size (\d+)m;", text)
    assert size is not None and int(size.group(1)) * 1024 * 1024 > max(ANNOUNCE_BODY_BYTES, CHUNK_BODY_BYTES)
    for location in ("location /api/", "location = /health", "location / "):
        assert location in text
    nginx = Nginx(tmp_path / "nginx", site)
    conf = nginx.write_config()
    check = subprocess.run(
        [str(NGINX), "-t", "-p", str(nginx.root), "-c", str(conf), "-e", str(nginx.root / "logs/error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "test is successful" in check.stderr


def test_the_site_file_refuses_half_a_certificate():
    with pytest.raises(ValueError, match="certificate"):
        render(Site(upstreams=["127.0.0.1:8001"], certificate="/etc/ssl/cert.pem"))


def _units(folder: Path) -> list[Path]:
    """The units, their programs pointed at this installation's (systemd checks they exist)."""
    bin_dir = str(Path(sys.executable).parent)
    made = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        name = unit.name.replace("@.service", "@8001.service")
        target = folder / name
        target.write_text(unit.read_text().replace(VENV_BIN, bin_dir))
        made.append(target)
    return made


def test_systemd_accepts_the_units(tmp_path: Path):
    if shutil.which("systemd-analyze") is None:
        need("systemd-analyze")
    if not (Path(sys.executable).parent / "weed").is_file():
        need(str(Path(sys.executable).parent / "weed"))
    units = _units(tmp_path)
    assert {u.name for u in units} == {
        "massicot-server@8001.service",
        "massicot-worker.service",
        "seaweedfs.service",
    }
    check = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True)
    # verify only warns about unknown keys or bad values: any word from it is a mistake.
    assert check.returncode == 0 and check.stderr.strip() == "", check.stderr
    for unit in units:
        if unit.name.startswith("massicot-"):
            assert "EnvironmentFile=/etc/massicot/massicot.env" in unit.read_text()


def test_the_server_unit_starts_massicot_serve_with_options_it_has():
    unit = (DEPLOY / "systemd" / "massicot-server@.service").read_text()
    command = re.search(r"^ExecStart=(.+)$", unit, re.M)
    assert command is not None
    words = command.group(1).split()
    assert words[0] == f"{VENV_BIN}/massicot" and words[1] == "serve"
    args = [w.replace("${MASSICOT_LISTEN_ADDRESS}", "127.0.0.1").replace("%i", "8001") for w in words[2:]]
    # An option `serve` does not know fails before --help is looked at.
    probe = subprocess.run(
        [sys.executable, "-c", "from massicot.cli import main; main()", "serve", *args, "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr


def _settings_read_by_the_product() -> set[str]:
    found: set[str] = set()
    for package in ("correction_server", "massicot", "massicot_core"):
        for source in (REPO / package).rglob("*.py"):
            found |= set(re.findall(r"MASSICOT_[A-Z0-9_]+", source.read_text()))
    return found


def test_the_env_file_names_every_setting_the_server_side_reads():
    env = (DEPLOY / "massicot.env").read_text()
    documented = set(re.findall(r"^#?(MASSICOT_[A-Z0-9_]+)=", env, re.M))
    read = _settings_read_by_the_product()
    assert read - documented == set(), "settings missing from deploy/massicot.env"
    assert documented - read - UNIT_SETTINGS == set(), "deploy/massicot.env names settings nothing reads"
    # systemd's EnvironmentFile: KEY=value lines and comments only, no shell.
    for line in env.splitlines():
        assert line == "" or line.startswith("#") or re.match(r"^MASSICOT_[A-Z0-9_]+=\S*$", line), line
