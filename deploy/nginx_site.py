"""The nginx site file, rendered from `nginx/massicot-site.conf.in`: TLS in production, plain HTTP
on 127.0.0.1 for `up_local` (the same locations, upstream and proxy settings either way).

    python deploy/nginx_site.py --server-name copies.example.org \\
        --upstream 10.0.0.11:8000 --upstream 10.0.0.12:8000 \\
        --certificate /etc/ssl/massicot/fullchain.pem --certificate-key /etc/ssl/massicot/privkey.pem
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "massicot-site.conf.in"
# Above the servers' own largest ceiling (a lot's announce, 32 MiB), which they enforce per route.
CLIENT_MAX_BODY_SIZE = "33m"
# A lot's commit writes thousands of rows in one transaction: give it time.
PROXY_TIMEOUT = "120s"


@dataclass(frozen=True)
class Site:
    upstreams: list[str]  # host:port of each `massicot serve`
    server_name: str = "_"
    # TLS: both paths, or neither (plain HTTP, only for a test on the loopback address).
    certificate: str | None = None
    certificate_key: str | None = None
    listen: str | None = None  # default: 443 with TLS, else 127.0.0.1:8080
    client_max_body_size: str = CLIENT_MAX_BODY_SIZE
    proxy_timeout: str = PROXY_TIMEOUT
    fail_timeout: str = "10s"
    # The address nginx connects to the servers from, when the host has several (up_local uses
    # 127.0.0.2, so that only nginx is the trusted proxy, not every program on the host).
    proxy_bind: str | None = None

    @property
    def tls(self) -> bool:
        return bool(self.certificate and self.certificate_key)


def render(site: Site) -> str:
    if bool(site.certificate) != bool(site.certificate_key):
        raise ValueError("give both the certificate and its key, or neither")
    if not site.upstreams:
        raise ValueError("give at least one server process (host:port)")
    upstream = "\n".join(
        f"    server {address} max_fails=1 fail_timeout={site.fail_timeout};" for address in site.upstreams
    )
    if site.tls:
        given = [site.listen] if site.listen else ["443", "[::]:443"]
        listen = "\n".join(f"    listen {address} ssl http2;" for address in given)
        tls = "\n".join(
            [
                f"    ssl_certificate {site.certificate};",
                f"    ssl_certificate_key {site.certificate_key};",
                "    ssl_protocols TLSv1.2 TLSv1.3;",
                "    ssl_prefer_server_ciphers off;",
                "    ssl_session_cache shared:massicot:10m;",
                "    ssl_session_timeout 1d;",
                '    add_header Strict-Transport-Security "max-age=31536000" always;',
            ]
        )
        redirect = "\n".join(
            [
                "# Plain http only sends the browser to https.",
                "server {",
                "    listen 80;",
                "    listen [::]:80;",
                f"    server_name {site.server_name};",
                "    return 301 https://$host$request_uri;",
                "}",
            ]
        )
    else:
        listen = f"    listen {site.listen or '127.0.0.1:8080'};"
        tls = "    # No TLS: a test on the loopback address only."
        redirect = ""
    values = {
        "UPSTREAM_SERVERS": upstream,
        "REDIRECT_BLOCK": redirect,
        "LISTEN": listen,
        "SERVER_NAME": site.server_name,
        "TLS": tls,
        "CLIENT_MAX_BODY_SIZE": site.client_max_body_size,
        "PROXY_TIMEOUT": site.proxy_timeout,
        "PROXY_BIND": f"    proxy_bind {site.proxy_bind};" if site.proxy_bind else "",
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print Massicot's nginx site file.")
    parser.add_argument("--upstream", action="append", required=True, help="host:port of a server process")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--certificate", help="TLS certificate chain (PEM)")
    parser.add_argument("--certificate-key", help="its private key (PEM)")
    parser.add_argument("--listen", help="what nginx listens on (default 443 with TLS)")
    parser.add_argument("--client-max-body-size", default=CLIENT_MAX_BODY_SIZE)
    parser.add_argument("--proxy-timeout", default=PROXY_TIMEOUT)
    args = parser.parse_args(argv)
    print(
        render(
            Site(
                upstreams=args.upstream,
                server_name=args.server_name,
                certificate=args.certificate,
                certificate_key=args.certificate_key,
                listen=args.listen,
                client_max_body_size=args.client_max_body_size,
                proxy_timeout=args.proxy_timeout,
            )
        )
    )


if __name__ == "__main__":
    main()
