"""unitdoctor: say why a systemd unit cannot start or be enabled, and fix it safely.

The engine modules (everything but ``cli``, ``render`` and ``bus``) use only the standard library.
"""

__version__ = "0.1.0"
