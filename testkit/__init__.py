"""The test kit: what the tests and the benchmarks share, kept out of the product.

It holds the sample-scan generator (testkit.samples), the replay feeder that plays its pages
to the station (testkit.replay, testkit.replay_station), drawn pages and scanner-like files
(testkit.drawn_pages, testkit.scan_files), the throw-away PostgreSQL cluster and a free port
(testkit.postgres, testkit.net), sealed lots and a server process for the push tests
(testkit.push_setup, testkit.push_helpers), the browser tests' parts (testkit.browser), the
builders of the lot and station tests (testkit.lot, testkit.station) and the test worlds
(testkit.worlds).

It may import everything of the product. The product never imports it, except lazily inside
`massicot scan simulate` and `massicot demo` (after scanner.sample_kit checked it is there).
It is installed with the development extra (`pip install -e .[dev]`); setuptools cannot tie a
package to an extra, so it is listed among the packages and ships in the wheel too, unused.
Tests and benchmarks import it; they never import each other.
"""
