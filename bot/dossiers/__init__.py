"""Dossiers (hồ sơ): import from the one-stop system, lookup with a secret, notifications, figures."""
