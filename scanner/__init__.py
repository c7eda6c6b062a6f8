"""The scan station: from scanned pages to checked, masked, sealed lots."""
