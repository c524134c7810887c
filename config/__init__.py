"""Configuration read once at start: environment settings, the roster and the language catalog."""
