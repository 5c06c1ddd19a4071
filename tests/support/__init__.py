"""Real servers and helpers that tests in several folders share."""
