"""The scan station: from scanned pages to checked, masked, sealed lots, pushed to the server.

May import massicot_core and paper (the copy model); never correction_server: what the station
and the server agree on is massicot_core.contract.
"""
