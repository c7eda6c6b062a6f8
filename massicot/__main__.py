"""`python -m massicot ...` runs the `massicot` command (used where no script is installed)."""

from massicot.cli import main

if __name__ == "__main__":
    main()
