"""The copy model: booklet and label layouts, and printing them (the CLI's `template` and `print`).

May import massicot_core only: it knows neither the station nor the server.
"""
