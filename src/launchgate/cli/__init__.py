"""The ``launchgate`` command: client commands, and operator commands that need the server extra."""
