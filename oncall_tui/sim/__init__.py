"""The embedded simulator behind `oncall-tui demo`: an Alertmanager v2 subset on loopback."""
