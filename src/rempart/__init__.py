"""rempart: software to protect crowded public spaces and prevent violent radicalisation."""

__version__ = "0.1.0"
