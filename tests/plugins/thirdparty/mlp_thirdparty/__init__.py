"""Example third-party plugins for mlplatform's three extension points."""
