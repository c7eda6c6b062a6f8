"""Where `massicot scan simulate` and `massicot demo` find the sample-scan generator.

The generator is test equipment: it lives in the test kit (testkit/ at the repository's root),
installed with the development extra. The product imports it only inside those two commands,
after this check, so a station installed without the extra never loads it.
"""

from __future__ import annotations

from massicot_core.errors import UserError


def require_test_kit(command: str) -> None:
    try:
        import testkit  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "testkit":
            raise
        raise UserError(
            f"`{command}` makes its sample scans with the test kit, which comes with the development "
            "extra: run `pip install -e .[dev]` in the Massicot checkout, then try again"
        ) from None
