"""How Massicot runs on several hosts: nginx in front of `massicot serve` processes, systemd units,
the settings each reads (this folder's README), and `up_local`, the same topology on one machine
for the tests and benchmarks.

May import correction_server (settings, migrations), testkit (throw-away PostgreSQL and
SeaweedFS); nothing of the product imports it.
"""
