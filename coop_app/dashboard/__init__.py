"""The first screen each role sees."""
