"""Test worlds: exam sessions built in a migrated database (or as plain data) for the tests and
benchmarks of one area — marking, standardisation (entente), auth, dispatch, coordination.
They import the product's models and services, never the tests."""
