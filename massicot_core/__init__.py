"""The foundation every part stands on: what the station, the copy model and the server agree on.

Holds the user-facing error and `Refused`, the roll line, the lot contract (manifest, identity
file, canonical JSON), identifier patterns and check characters, and file helpers.
May import only the standard library and third-party packages: nothing of the project.
"""
